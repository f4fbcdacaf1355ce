//! A suite: every case file under a root crossed with the targets it runs on. Shared by the
//! `cargo test` harness and the `run` command so both run the same trials the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::case::{Case, CaseError, case_name, discover, load_file};
use crate::model::Profile;
use crate::runner::{CaseRun, ContractCheck, run_case};
use crate::spec::{Contract, SpecProfile, Strictness};
use crate::target::profile::{KnownFailure, ProfileError, load_profile};
use crate::target::{ClockMode, EmbeddedTarget, Target};

/// The environment variable naming a target profile (`targets/local.toml`).
pub const TARGET_ENV: &str = "PRESENCE_TARGET";

/// A case file, loaded or not: a broken file is still a trial, which fails with its error.
#[derive(Debug)]
pub struct SuiteCase {
    pub name: String,
    pub path: PathBuf,
    pub case: Result<Case, CaseError>,
}

/// A target and the cases it is known to fail.
#[derive(Clone)]
pub struct SuiteTarget {
    pub target: Arc<dyn Target>,
    pub known_failures: Vec<KnownFailure>,
}

/// Loads every case under `root` (a missing root is an error, an empty one is not).
pub fn load_cases(root: &Path) -> std::io::Result<Vec<SuiteCase>> {
    Ok(discover(root)?
        .into_iter()
        .map(|path| SuiteCase {
            name: case_name(root, &path),
            case: load_file(root, &path),
            path,
        })
        .collect())
}

/// The targets to run: the profile at `path`, else the one `PRESENCE_TARGET` names, else the
/// embedded reference server under each documented profile.
pub fn select_targets(path: Option<&Path>) -> Result<Vec<SuiteTarget>, ProfileError> {
    let from_env = std::env::var_os(TARGET_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    match path.map(Path::to_path_buf).or(from_env) {
        Some(path) => {
            let loaded = load_profile(&path)?;
            Ok(vec![SuiteTarget {
                target: loaded.target,
                known_failures: loaded.known_failures,
            }])
        }
        None => Ok(Profile::ALL
            .into_iter()
            .map(|p| SuiteTarget {
                target: Arc::new(EmbeddedTarget::new(p)),
                known_failures: Vec::new(),
            })
            .collect()),
    }
}

/// The contract a target's exchanges are checked against: our spec for its profile, with the
/// documented rules.
pub fn contract_for(target: &dyn Target) -> Option<Arc<dyn ContractCheck>> {
    let contract =
        Contract::bundled(SpecProfile::from(target.profile()), Strictness::Documented).ok()?;
    Some(Arc::new(ContractRef(contract)))
}

/// A bundled contract behind the runner's checking trait.
struct ContractRef(&'static Contract);

impl ContractCheck for ContractRef {
    fn check(&self, exchange: &crate::runner::ExchangeRecord<'_>) -> crate::runner::ContractFaults {
        self.0.check(exchange)
    }
}

/// Why a case does not run on a target, if it does not.
pub fn skip_reason(case: &Case, target: &dyn Target) -> Option<String> {
    if !case.applies_to(target.profile()) {
        let profiles: Vec<&str> = case.profiles.iter().map(|p| p.as_str()).collect();
        return Some(format!(
            "the case applies to {}, the target is {}",
            profiles.join(", "),
            target.profile()
        ));
    }
    if case.needs_virtual_clock && target.clock_mode() == ClockMode::Real {
        return Some("the case checks instants a second apart and needs a virtual clock".into());
    }
    target.unsupported(case)
}

/// How a trial ended, known failures taken into account.
#[derive(Debug)]
pub enum Verdict {
    Passed,
    Failed(String),
    /// Failed, as the target's expectations file says it does.
    KnownFailure(String),
    Ignored(String),
}

/// A trial's verdict and, if it ran, the run.
pub struct TrialOutcome {
    pub verdict: Verdict,
    pub run: Option<CaseRun>,
}

/// Runs one case on one target, on a runtime of its own (trials run on separate threads).
pub fn run_trial(
    entry: &SuiteCase,
    target: &SuiteTarget,
    contract: Option<&dyn ContractCheck>,
) -> TrialOutcome {
    let case = match &entry.case {
        Ok(case) => case,
        Err(e) => {
            return TrialOutcome {
                verdict: Verdict::Failed(e.render()),
                run: None,
            };
        }
    };
    if let Some(reason) = skip_reason(case, target.target.as_ref()) {
        return TrialOutcome {
            verdict: Verdict::Ignored(reason),
            run: None,
        };
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return TrialOutcome {
                verdict: Verdict::Failed(format!("cannot start a runtime: {e}")),
                run: None,
            };
        }
    };
    let run = runtime.block_on(run_case(case, target.target.as_ref(), contract));
    let known = target.known_failures.iter().find(|k| k.case == case.name);
    let verdict = match (run.passed(), known) {
        (true, None) => Verdict::Passed,
        (false, None) => Verdict::Failed(run.report(case)),
        (false, Some(k)) => Verdict::KnownFailure(k.reason.clone()),
        (true, Some(k)) => Verdict::Failed(format!(
            "{} passed but is listed as a known failure of {} ({}): remove it from the expectations file",
            case.name,
            target.target.name(),
            k.reason
        )),
    };
    TrialOutcome {
        verdict,
        run: Some(run),
    }
}
