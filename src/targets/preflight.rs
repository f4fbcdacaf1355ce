//! The preflight: before the first case, each target is asked what it is (does it answer, does
//! its clock move on request) and compared with what its target file says. A setup mistake is one
//! error naming the key to change, never a hundred verdicts; what was found is the run's header.

use std::time::Duration;

use super::{ClockMode, NoAnswer};
use crate::model::Profile;

/// Why a target cannot be run as its target file says.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PreflightError {
    /// Nothing answered at its base URL.
    #[error("{url} is not reachable: {cause}")]
    Unreachable { url: String, cause: NoAnswer },
    /// It answers, but not as its target file says: one sentence naming the key to change.
    #[error("{0}")]
    Mismatch(String),
}

/// What the header says of a target: where it is and how its target file says to drive it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetFacts {
    /// The base URL, or `in-process` for the embedded reference.
    pub url: String,
    /// `none`, or how tokens are fetched.
    pub auth: String,
    /// The clock as found: `virtual (control protocol answered)`, `real x600 (...)`.
    pub clock: String,
}

/// A `base_url` as a target file gives it, checked: an http(s) URL of the server root (the target file
/// adds `/v1.0` or `/beta`). The error names the key and the value to write instead.
pub(crate) fn check_base_url(base_url: &str, profile: Profile) -> Result<String, String> {
    let trimmed = base_url.trim_end_matches('/');
    let Ok(url) = reqwest::Url::parse(trimmed) else {
        return Err(no_scheme(base_url));
    };
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(no_scheme(base_url));
    }
    let last = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or_default();
    let version = Profile::ALL
        .iter()
        .map(|p| p.url_segment())
        .find(|segment| last.eq_ignore_ascii_case(segment));
    if let Some(segment) = version {
        let root = &trimmed[..trimmed.len() - last.len()];
        let root = root.trim_end_matches('/');
        return Err(format!(
            "base_url \"{trimmed}\" ends in the API version `/{segment}`, which the runner adds \
             itself (from `profile = \"{profile}\"`): set base_url = \"{root}\""
        ));
    }
    Ok(trimmed.to_owned())
}

fn no_scheme(base_url: &str) -> String {
    let guess = if base_url.contains("://") {
        String::new()
    } else {
        format!(
            ": set base_url = \"http://{}\"",
            base_url.trim_end_matches('/')
        )
    };
    format!("base_url \"{base_url}\" is not an http:// or https:// URL{guess}")
}

/// The answers of the control protocol that tell which clock a server runs on.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ControlAnswer {
    /// `POST /_conformance/reset` answered 2xx: the clock moves on request.
    Virtual,
    /// It answered something else (a real-clock `serve` answers 404): the status and the start
    /// of the body.
    Refused(u16, String),
}

/// Asks a remote target whether it answers and, when its target file says `clock = "virtual"`,
/// whether its clock moves on request. The error is one sentence naming what to change.
pub(crate) async fn probe(
    base_url: &str,
    timeout: Duration,
    clock: ClockMode,
    time_scale: f64,
) -> Result<String, PreflightError> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
        .map_err(|e| PreflightError::Mismatch(format!("cannot make an HTTP client: {e}")))?;
    // Any HTTP answer will do: the target is up.
    if let Err(e) = client.get(base_url).send().await {
        return Err(PreflightError::Unreachable {
            url: base_url.to_owned(),
            cause: super::transport::no_answer(&e),
        });
    }
    match clock {
        ClockMode::Virtual => {
            let url = format!("{base_url}/_conformance/reset");
            let answer = match client.post(&url).send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    if (200..300).contains(&status) {
                        ControlAnswer::Virtual
                    } else {
                        let body = response.text().await.unwrap_or_default();
                        ControlAnswer::Refused(status, graph_message(&body))
                    }
                }
                Err(e) => ControlAnswer::Refused(0, super::transport::no_answer(&e).to_string()),
            };
            virtual_clock_found(&answer).map_err(PreflightError::Mismatch)
        }
        ClockMode::Real => Ok(real_clock_found(&client, base_url, time_scale).await),
    }
}

/// The `error.message` of a Graph error body, else the start of the body.
fn graph_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    match parsed.as_ref().and_then(|v| v["error"]["message"].as_str()) {
        Some(message) => message.to_owned(),
        None => body.chars().take(120).collect(),
    }
}

/// The header's clock for a `clock = "virtual"` profile, or the error if the server cannot move
/// its clock on request.
pub(crate) fn virtual_clock_found(answer: &ControlAnswer) -> Result<String, String> {
    match answer {
        ControlAnswer::Virtual => Ok("virtual (POST /_conformance/reset answered)".into()),
        ControlAnswer::Refused(status, body) => {
            let answered = match status {
                0 => format!("failed ({body})"),
                s if body.trim().is_empty() => format!("answered {s}"),
                s => format!("answered {s} ({})", body.trim().trim_end_matches('.')),
            };
            Err(format!(
                "the target file says clock = \"virtual\", but POST /_conformance/reset {answered}: \
                 the server cannot move its clock on request (it runs on a real clock, or has no \
                 control protocol). Set clock = \"real\" (and its time_scale) in the target file, or \
                 start the server on a virtual clock (serve --clock virtual)"
            ))
        }
    }
}

/// The header's clock for a `clock = "real"` profile: whether the server tells where its clock
/// stands (`GET /_conformance/clock`).
async fn real_clock_found(client: &reqwest::Client, base_url: &str, time_scale: f64) -> String {
    let url = format!("{base_url}/_conformance/clock");
    let told = matches!(client.get(&url).send().await, Ok(r) if r.status().is_success());
    let telling = if told {
        "GET /_conformance/clock answered"
    } else {
        "no control protocol: the runner waits in wall time"
    };
    format!("real x{time_scale} ({telling})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_is_the_server_root_with_a_scheme() {
        assert_eq!(
            check_base_url("http://127.0.0.1:8080/", Profile::V1_0),
            Ok("http://127.0.0.1:8080".into())
        );
        assert_eq!(
            check_base_url("https://graph.microsoft.com", Profile::Beta),
            Ok("https://graph.microsoft.com".into())
        );
        let versioned = check_base_url("http://127.0.0.1:8080/v1.0", Profile::V1_0).unwrap_err();
        assert!(
            versioned.contains("`/v1.0`")
                && versioned.contains("base_url = \"http://127.0.0.1:8080\""),
            "{versioned}"
        );
        let beta = check_base_url("https://graph.microsoft.com/beta/", Profile::Beta).unwrap_err();
        assert!(
            beta.contains("base_url = \"https://graph.microsoft.com\""),
            "{beta}"
        );
        let bare = check_base_url("127.0.0.1:8080", Profile::V1_0).unwrap_err();
        assert!(
            bare.contains("set base_url = \"http://127.0.0.1:8080\""),
            "{bare}"
        );
        assert!(check_base_url("ftp://host", Profile::V1_0).is_err());
    }

    #[test]
    fn a_refused_reset_names_the_clock_key() {
        let error =
            virtual_clock_found(&ControlAnswer::Refused(404, "not found".into())).unwrap_err();
        assert!(
            error.contains("clock = \"real\"") && error.contains("answered 404"),
            "{error}"
        );
        assert!(virtual_clock_found(&ControlAnswer::Virtual).is_ok());
    }
}
