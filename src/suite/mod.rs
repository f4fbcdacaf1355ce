//! A suite: every case file under a root crossed with the targets it runs on. Shared by the
//! `cargo test` harness and the `run` command so both run the same trials the same way; the
//! `run` command's parallel executor is `executor.rs`.

pub mod executor;
pub mod snapshot;
pub mod stop;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::case::{Case, CaseError, case_name, discover, load_file, load_str};
use crate::contract::ContractCheck;
use crate::contract::{Contract, SpecDocument, SpecError, Strictness};
use crate::model::Profile;
pub use crate::runner::VerdictKind;
use crate::runner::{CaseRun, run_case};
use crate::targets::config::{KnownFailure, TargetConfigError, default_snapshots, load_target};
use crate::targets::{ClockMode, EmbeddedTarget, Target};

/// The environment variable naming a target file (`targets/local.toml`).
pub(crate) const TARGET_ENV: &str = "PRESENCE_TARGET";

/// A case file, loaded or not: a broken file is still a trial, which fails with its error.
#[derive(Debug)]
pub struct SuiteCase {
    pub name: String,
    pub path: PathBuf,
    pub case: Result<Case, CaseError>,
}

/// A target, the cases it is known to fail, and the directory of its regression snapshots.
#[derive(Clone)]
pub struct SuiteTarget {
    pub target: Arc<dyn Target>,
    pub known_failures: Vec<KnownFailure>,
    /// `snapshots/<name>` under the current directory unless its target file says otherwise.
    pub snapshots: PathBuf,
    /// The profile file it was read from; none for the embedded reference named on its own.
    pub source: Option<PathBuf>,
}

impl SuiteTarget {
    /// A target with no known failures and its snapshots in `snapshots/<name>`.
    pub fn new(target: Arc<dyn Target>) -> Self {
        let snapshots = default_snapshots(target.name());
        SuiteTarget {
            target,
            known_failures: Vec::new(),
            snapshots,
            source: None,
        }
    }
}

/// The suite this binary carries: `cases/` as it was when the binary was built.
static EMBEDDED: include_dir::Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/cases");

/// How many case files the embedded suite holds (none is read).
pub fn embedded_case_count() -> usize {
    let mut files = Vec::new();
    collect_embedded(&EMBEDDED, &mut files);
    files.len()
}

/// Every case file of the embedded suite, sorted by path, each loaded as if from `cases/`.
pub(crate) fn embedded_cases() -> Vec<SuiteCase> {
    let mut files = Vec::new();
    collect_embedded(&EMBEDDED, &mut files);
    files.sort_by(|a, b| a.path().cmp(b.path()));
    let cases: Vec<SuiteCase> = files
        .into_iter()
        .map(|file| {
            let path = Path::new("cases").join(file.path());
            let name = case_name(Path::new("cases"), &path);
            let case = match file.contents_utf8() {
                Some(text) => load_str(&name, &path, text),
                None => Err(CaseError::io(
                    &path,
                    &std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8"),
                )),
            };
            SuiteCase { name, path, case }
        })
        .collect();
    prepare(&cases);
    cases
}

fn collect_embedded<'a>(dir: &'a include_dir::Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
    for file in dir.files() {
        if file
            .path()
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml")
        {
            out.push(file);
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out);
    }
}

/// Writes the embedded suite under `dir` (which must not hold case files yet), for reading and
/// extending; returns how many files were written.
pub fn export_cases(dir: &Path) -> std::io::Result<usize> {
    if dir.exists() && !discover(dir)?.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AlreadyExists,
            format!("{} already holds case files", dir.display()),
        ));
    }
    let mut files = Vec::new();
    collect_embedded(&EMBEDDED, &mut files);
    for file in &files {
        let path = dir.join(file.path());
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        crate::fsutil::write_atomically(&path, file.contents())?;
    }
    Ok(files.len())
}

/// Loads every case under `root` (a missing root is an error, an empty one is not).
pub fn load_cases(root: &Path) -> std::io::Result<Vec<SuiteCase>> {
    let cases: Vec<SuiteCase> = discover(root)?
        .into_iter()
        .map(|path| SuiteCase {
            name: case_name(root, &path),
            case: load_file(root, &path),
            path,
        })
        .collect();
    prepare(&cases);
    Ok(cases)
}

/// Readies what the loaded cases will need before any runs: the webhook receiver's key when a
/// case subscribes (making an RSA key takes ~150 ms of CPU, which inside a real-clock case's
/// timeline would put it behind).
fn prepare(cases: &[SuiteCase]) {
    let subscribes = cases
        .iter()
        .any(|c| c.case.as_ref().is_ok_and(Case::subscribes));
    if subscribes {
        crate::runner::prepare_webhooks();
    }
}

/// The targets to run: the profiles at `paths`, else the one `PRESENCE_TARGET` names, else the
/// embedded reference server under each documented profile.
pub fn select_targets(paths: &[PathBuf]) -> Result<Vec<SuiteTarget>, TargetConfigError> {
    let from_env = std::env::var_os(TARGET_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let paths: Vec<PathBuf> = match (paths, from_env) {
        ([], Some(path)) => vec![path],
        (paths, _) => paths.to_vec(),
    };
    if paths.is_empty() {
        return Ok(Profile::ALL
            .into_iter()
            .map(|p| SuiteTarget::new(Arc::new(EmbeddedTarget::new(p))))
            .collect());
    }
    paths
        .iter()
        .map(|path| {
            if let Some(profile) = embedded_named(path) {
                return Ok(SuiteTarget::new(Arc::new(EmbeddedTarget::new(profile))));
            }
            let loaded = load_target(path)?;
            Ok(SuiteTarget {
                target: loaded.target,
                known_failures: loaded.known_failures,
                snapshots: loaded.snapshots,
                source: Some(path.clone()),
            })
        })
        .collect()
}

/// `--target reference` (`reference-beta`, `reference-beta-2021`): the embedded reference under
/// that profile, when no file of that name is there.
pub fn embedded_named(path: &Path) -> Option<Profile> {
    if path.exists() {
        return None;
    }
    let name = path.to_str()?;
    Profile::ALL
        .into_iter()
        .find(|&p| EmbeddedTarget::new(p).name() == name)
}

/// The suite a command runs and where it comes from, as the run's header says it.
pub struct ChosenSuite {
    pub cases: Vec<SuiteCase>,
    /// `embedded in presence-conformance 0.1.0, 146 cases`, `./cases, 3 case files (...)`.
    pub source: String,
}

/// The case files to run: `--cases DIR`; else `./cases` if it holds case files (a checkout of
/// this repository, or `cases export`); else the suite this binary carries.
pub fn choose_suite(dir: Option<&Path>) -> Result<ChosenSuite, String> {
    let local = Path::new("cases");
    let (dir, how) = match dir {
        Some(dir) => (dir, "--cases"),
        None if local.is_dir() && discover(local).is_ok_and(|found| !found.is_empty()) => (
            local,
            "found in the working directory; --cases DIR chooses another",
        ),
        None => {
            let cases = embedded_cases();
            let source = format!(
                "embedded in presence-conformance {}, {}",
                env!("CARGO_PKG_VERSION"),
                crate::plural(cases.len(), "case")
            );
            return Ok(ChosenSuite { cases, source });
        }
    };
    let cases = load_cases(dir)
        .map_err(|e| format!("cannot read the case directory {}: {e}", dir.display()))?;
    if cases.is_empty() {
        return Err(format!("no case files (*.yaml) under {}", dir.display()));
    }
    let shown = if dir == local {
        "./cases".to_owned()
    } else {
        dir.display().to_string()
    };
    let source = format!(
        "{shown}, {} ({how})",
        crate::plural(cases.len(), "case file")
    );
    Ok(ChosenSuite { cases, source })
}

/// The contract a target's exchanges are checked against: our spec for its profile, with the
/// documented rules. A bundled spec that does not load is an error, never a silent "no check".
pub fn contract_for(target: &dyn Target) -> Result<&'static Contract, SpecError> {
    Contract::bundled(SpecDocument::from(target.profile()), Strictness::Documented)
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

/// How a trial ended, known failures and strictness taken into account.
#[derive(Debug)]
pub enum Verdict {
    Passed,
    /// A documented or observed expectation did not hold (or, judged strictly, one of ours).
    Failed(String),
    /// Only expectations that rest on our own choices did not hold: the report says what differs.
    Deviates(String),
    /// The target cannot exercise the case, and why.
    NotApplicable(String),
    /// Failed or deviated, as the target's expectations file says it does.
    KnownFailure(String),
    /// The run stopped before this trial could be judged (its target stopped answering, or
    /// Ctrl-C): why.
    NotRun(String),
}

impl Verdict {
    /// Its kind, without the report or reason.
    pub fn kind(&self) -> VerdictKind {
        match self {
            Verdict::Passed => VerdictKind::Passed,
            Verdict::Failed(_) => VerdictKind::Failed,
            Verdict::Deviates(_) => VerdictKind::Deviates,
            Verdict::NotApplicable(_) => VerdictKind::NotApplicable,
            Verdict::KnownFailure(_) => VerdictKind::KnownFailure,
            Verdict::NotRun(_) => VerdictKind::NotRun,
        }
    }

    /// The verdict's name as reports print it.
    pub fn label(&self) -> &'static str {
        self.kind().label()
    }

    /// The failure report, the deviation report or the reason.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Verdict::Passed => None,
            Verdict::Failed(s)
            | Verdict::Deviates(s)
            | Verdict::NotApplicable(s)
            | Verdict::KnownFailure(s)
            | Verdict::NotRun(s) => Some(s),
        }
    }
}

/// How deviations from our own choices count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Judging {
    /// Deviations are reported and do not fail.
    #[default]
    Default,
    /// Deviations fail, as h2spec's `--strict` does (always so for the reference server).
    Strict,
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
    judging: Judging,
) -> TrialOutcome {
    let never = stop::Stop::new();
    run_trial_until(entry, target, contract, judging, &never).unwrap_or_else(|| TrialOutcome {
        verdict: Verdict::NotRun("the run stopped".into()),
        run: None,
    })
}

/// Like [`run_trial`], abandoned (`None`) as soon as `stop` says the run stopped: a case on a
/// real clock may have an hour of waiting left.
pub(crate) fn run_trial_until(
    entry: &SuiteCase,
    target: &SuiteTarget,
    contract: Option<&dyn ContractCheck>,
    judging: Judging,
    stop: &stop::Stop,
) -> Option<TrialOutcome> {
    let case = match &entry.case {
        Ok(case) => case,
        Err(e) => {
            return Some(TrialOutcome {
                verdict: Verdict::Failed(e.render()),
                run: None,
            });
        }
    };
    if let Some(reason) = skip_reason(case, target.target.as_ref()) {
        return Some(TrialOutcome {
            verdict: Verdict::NotApplicable(reason),
            run: None,
        });
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return Some(TrialOutcome {
                verdict: Verdict::Failed(format!("cannot start a runtime: {e}")),
                run: None,
            });
        }
    };
    let run = runtime.block_on(async {
        tokio::select! {
            run = run_case(case, target.target.as_ref(), contract) => Some(run),
            () = stop.stopped() => None,
        }
    })?;
    let strict = judging == Judging::Strict || target.target.judged_strictly();
    Some(TrialOutcome {
        verdict: verdict_of(case, &run, target, strict),
        run: Some(run),
    })
}

fn verdict_of(case: &Case, run: &CaseRun, target: &SuiteTarget, strict: bool) -> Verdict {
    let known = target.known_failures.iter().find(|k| k.case == case.name);
    // Throttled out or behind its timeline: not judged from there on, unless a documented
    // expectation had already failed.
    if let Some(why) = run.throttled.as_ref().or(run.behind.as_ref())
        && run.outcome() != VerdictKind::Failed
    {
        return Verdict::NotApplicable(why.clone());
    }
    // A run judges itself passed, deviating or failed; the other kinds are the suite's.
    match (run.outcome(), known) {
        (VerdictKind::Passed, None) => Verdict::Passed,
        (
            VerdictKind::Failed
            | VerdictKind::NotApplicable
            | VerdictKind::KnownFailure
            | VerdictKind::NotRun,
            None,
        ) => Verdict::Failed(run.report(case)),
        (VerdictKind::Deviates, None) if strict => Verdict::Failed(format!(
            "{} (judged strictly: our own choices count)\n{}",
            case.name,
            run.report(case)
        )),
        (VerdictKind::Deviates, None) => Verdict::Deviates(run.report(case)),
        (
            VerdictKind::Failed
            | VerdictKind::Deviates
            | VerdictKind::NotApplicable
            | VerdictKind::KnownFailure
            | VerdictKind::NotRun,
            Some(k),
        ) => Verdict::KnownFailure(k.reason.clone()),
        (VerdictKind::Passed, Some(k)) => Verdict::Failed(format!(
            "{} passed but is listed as a known failure of {} ({}): remove it from the expectations file",
            case.name,
            target.target.name(),
            k.reason
        )),
    }
}
