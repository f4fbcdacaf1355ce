//! Stopping a run early and honestly: a target that stops answering mid-run, or Ctrl-C. The
//! trials that ran keep their verdicts; the rest are "not run", never a hundred failures that
//! only say "connection refused".

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::runner::CaseRun;

/// Consecutive trials of one target that could not reach it before the run stops.
pub(crate) const CONNECTION_FAILURES: u32 = 3;

/// Why a run stopped, once it did; shared by the executor's workers.
#[derive(Debug, Default)]
pub struct Stop {
    cause: OnceLock<String>,
    /// Per target: trials in a row whose target did not answer.
    unanswered: Mutex<HashMap<String, u32>>,
}

impl Stop {
    pub fn new() -> Self {
        Stop::default()
    }

    /// Stops the run (the first cause given is kept).
    pub fn request(&self, cause: impl Into<String>) {
        let _ = self.cause.set(cause.into());
    }

    /// Why the run stopped, if it did.
    pub fn cause(&self) -> Option<&str> {
        self.cause.get().map(String::as_str)
    }

    /// Completes once the run stopped (checked every 100 ms).
    pub async fn stopped(&self) {
        while self.cause().is_none() {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// After a trial on `target` at `url`: whether its target did not answer (the trial is then
    /// not run, not failed); after [`CONNECTION_FAILURES`] in a row the run stops.
    pub(crate) fn note(&self, target: &str, url: &str, run: Option<&CaseRun>) -> bool {
        let lost = run
            .and_then(|r| r.aborted.as_deref())
            .and_then(connection_lost);
        let mut unanswered = self.unanswered.lock().unwrap_or_else(|e| e.into_inner());
        let count = unanswered.entry(target.to_owned()).or_default();
        match lost {
            None => {
                *count = 0;
                false
            }
            Some(cause) => {
                *count += 1;
                if *count >= CONNECTION_FAILURES {
                    self.request(format!(
                        "target '{target}' at {url} stopped answering: {cause} \
                         ({CONNECTION_FAILURES} cases in a row)"
                    ));
                }
                true
            }
        }
    }
}

/// The cause of an aborted run, if it is that the target did not answer at all (no connection,
/// or no answer in time), as `targets::http::describe` words it.
fn connection_lost(aborted: &str) -> Option<&str> {
    [
        "cannot connect",
        "timed out",
        "connection closed",
        "request failed",
    ]
    .iter()
    .find_map(|what| aborted.find(what).map(|at| &aborted[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cause_of_an_unanswered_request_is_found() {
        let aborted = "cases/a.yaml:7: GET /v1.0/users/x/presence: cannot connect to http://127.0.0.1:9: Connection refused (os error 111)";
        assert_eq!(
            connection_lost(aborted),
            Some("cannot connect to http://127.0.0.1:9: Connection refused (os error 111)")
        );
        assert_eq!(
            connection_lost("the control protocol failed: answered 500"),
            None
        );
    }
}
