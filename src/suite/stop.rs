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
            .and_then(|r| r.aborted.as_ref())
            .and_then(|aborted| aborted.error.unanswered());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Aborted, Timeline};
    use crate::targets::{NoAnswer, TargetError, Traffic};

    fn aborted_by(error: TargetError) -> CaseRun {
        CaseRun {
            timeline: Timeline {
                case: "a".into(),
                target: "mine".into(),
                profile: "v1.0".into(),
                entries: Vec::new(),
            },
            failures: Vec::new(),
            aborted: Some(Aborted {
                at: Some(("cases/a.yaml".into(), 7)),
                error,
            }),
            throttled: None,
            behind: None,
            traffic: Traffic::default(),
            contract_violations: 0,
            simulated: jiff::SignedDuration::ZERO,
            wall: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn three_silent_cases_in_a_row_stop_the_run_and_an_answer_resets_the_count() {
        let silent = || {
            aborted_by(TargetError::Transport {
                method: "GET".into(),
                path: "/v1.0/users/x/presence".into(),
                cause: NoAnswer::Connect {
                    origin: "http://127.0.0.1:9".into(),
                    detail: "Connection refused (os error 111)".into(),
                },
            })
        };
        // A control call the target answered with an error is the target's answer, not silence.
        let answered = aborted_by(TargetError::Control(
            "POST /_conformance/reset answered 500: cannot connect to the database".into(),
        ));
        let stop = Stop::new();
        let url = "http://127.0.0.1:9";
        assert!(stop.note("mine", url, Some(&silent())));
        assert!(stop.note("mine", url, Some(&silent())));
        assert!(!stop.note("mine", url, Some(&answered)));
        assert!(stop.note("mine", url, Some(&silent())));
        assert!(stop.note("mine", url, Some(&silent())));
        assert_eq!(stop.cause(), None);
        assert!(stop.note("mine", url, Some(&silent())));
        assert_eq!(
            stop.cause(),
            Some(
                "target 'mine' at http://127.0.0.1:9 stopped answering: cannot connect to \
                 http://127.0.0.1:9: Connection refused (os error 111) (3 cases in a row)"
            )
        );
    }
}
