//! A suite: every case file under a root crossed with the targets it runs on. Shared by the
//! `cargo test` harness and the `run` command so both run the same trials the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::case::{Case, CaseError, case_name, discover, load_file};
use crate::model::Profile;
use crate::runner::{CaseRun, ContractCheck, run_case};
use crate::target::{EmbeddedTarget, Target};

/// A case file, loaded or not: a broken file is still a trial, which fails with its error.
#[derive(Debug)]
pub struct SuiteCase {
    pub name: String,
    pub path: PathBuf,
    pub case: Result<Case, CaseError>,
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

/// The default targets: the embedded reference server under each documented profile.
pub fn reference_targets() -> Vec<Arc<dyn Target>> {
    Profile::ALL
        .into_iter()
        .map(|p| Arc::new(EmbeddedTarget::new(p)) as Arc<dyn Target>)
        .collect()
}

/// Why a case does not run on a target, if it does not.
pub fn skip_reason(case: &Case, target: &dyn Target) -> Option<String> {
    (!case.applies_to(target.profile())).then(|| {
        let profiles: Vec<&str> = case.profiles.iter().map(|p| p.as_str()).collect();
        format!(
            "the case applies to {}, the target is {}",
            profiles.join(", "),
            target.profile()
        )
    })
}

/// Runs one case to completion on a runtime of its own (trials run on separate threads).
pub fn run_blocking(
    case: &Case,
    target: &dyn Target,
    contract: Option<&dyn ContractCheck>,
) -> Result<CaseRun, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    Ok(runtime.block_on(run_case(case, target, contract)))
}
