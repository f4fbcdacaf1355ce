//! Target configurations: TOML files under `targets/` that say where an implementation is and
//! how to drive it: base URL, API profile, credentials, clock, the app registrations and users that
//! case actors map to, concurrency, timeouts and the cases it is known to fail. Read once, checked
//! whole, secrets taken from the environment at load time.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::Semaphore;

use super::http::Secret;
use super::remote::{PoolUser, Registration, RemoteAuth, RemoteTarget, UserPool, default_scopes};
use super::{ClockMode, EmbeddedTarget, Target};
use crate::model::Profile;

/// The Microsoft identity platform's token endpoint; `{tenant}` is filled in.
pub(crate) const MICROSOFT_TOKEN_URL: &str =
    "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetConfigFile {
    name: String,
    #[serde(default = "default_spec_profile")]
    profile: String,
    /// `embedded` (the in-process reference server) or a base URL.
    #[serde(default)]
    embedded: bool,
    base_url: Option<String>,
    #[serde(default = "default_clock")]
    clock: String,
    #[serde(default = "one")]
    time_scale: f64,
    /// How long a write may stay invisible to reads (an ISO 8601 duration of presence time):
    /// reads after a write poll for up to this long.
    propagation: Option<String>,
    /// Seconds.
    #[serde(default = "default_timeout")]
    request_timeout: u64,
    /// Cases at once against this target (a virtual clock is shared: always 1).
    #[serde(default = "default_concurrency")]
    concurrency: usize,
    expectations: Option<PathBuf>,
    /// The directory of this target's regression snapshots, relative to the target file; default
    /// `snapshots/<name>` under the current directory.
    snapshots: Option<PathBuf>,
    #[serde(default)]
    auth: AuthFile,
    #[serde(default)]
    apps: Vec<AppFile>,
    #[serde(default)]
    users: Vec<UserFile>,
    /// A public URL (a tunnel) the target reaches the runner's webhook receiver by, for cases
    /// that subscribe to change notifications; it must forward to `notification_listen`.
    notification_url: Option<String>,
    /// The local address the receiver listens on behind `notification_url`.
    notification_listen: Option<String>,
}

fn default_spec_profile() -> String {
    "v1.0".into()
}
fn default_clock() -> String {
    "virtual".into()
}
fn one() -> f64 {
    1.0
}
fn default_timeout() -> u64 {
    10
}
fn default_concurrency() -> usize {
    4
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", tag = "kind")]
enum AuthFile {
    #[default]
    None,
    ClientCredentials {
        tenant: String,
        token_url: Option<String>,
        scope: Option<String>,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppFile {
    client_id: String,
    /// The environment variable holding the client secret.
    secret_env: Option<String>,
    /// The secret itself: only for local fakes whose secrets are not secret.
    secret: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    /// Delegated permissions; default: Presence.Read, Presence.Read.All, Presence.ReadWrite.
    scopes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    id: String,
    upn: Option<String>,
    password_env: Option<String>,
    password: Option<String>,
}

/// Why a target file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TargetConfigError {
    /// `what` says which file it is (`the target file`, `the expectations file`); `message`
    /// is the OS error without its number.
    #[error("cannot read {what} {path}: {message}")]
    Read {
        what: &'static str,
        path: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// A case known to fail on a target, and why.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownFailure {
    pub case: String,
    pub reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectationsFile {
    #[serde(default)]
    fail: Vec<KnownFailure>,
}

/// A loaded profile: the target, its expectations and where its snapshots are.
pub struct LoadedTarget {
    pub target: Arc<dyn Target>,
    pub known_failures: Vec<KnownFailure>,
    pub snapshots: PathBuf,
}

/// Where a target's snapshots are by default: `snapshots/<name>` under the current directory.
pub(crate) fn default_snapshots(name: &str) -> PathBuf {
    Path::new("snapshots").join(name)
}

impl LoadedTarget {
    pub fn known_failure(&self, case: &str) -> Option<&KnownFailure> {
        self.known_failures.iter().find(|k| k.case == case)
    }
}

/// Reads a target file; secrets are read from the environment now, so a missing one fails early.
pub fn load_target(path: &Path) -> Result<LoadedTarget, TargetConfigError> {
    let shown = path.display().to_string();
    let invalid = |message: String| TargetConfigError::Invalid {
        path: shown.clone(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| TargetConfigError::Read {
        what: "the target file",
        path: shown.clone(),
        message: io_message(&e),
    })?;
    let file: TargetConfigFile = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let profile: Profile = file.profile.parse().map_err(invalid)?;
    let beside = path.parent().unwrap_or(Path::new("."));
    let known_failures = match &file.expectations {
        None => Vec::new(),
        Some(relative) => known_failures(&beside.join(relative))?,
    };
    let snapshots = match &file.snapshots {
        Some(relative) => beside.join(relative),
        None => default_snapshots(&file.name),
    };
    if file.embedded {
        return Ok(LoadedTarget {
            target: Arc::new(EmbeddedTarget::named(profile, &file.name)),
            known_failures,
            snapshots,
        });
    }
    let base_url = file
        .base_url
        .clone()
        .ok_or_else(|| invalid("needs `base_url` (or `embedded = true`)".into()))?;
    let base_url = super::preflight::check_base_url(&base_url, profile).map_err(invalid)?;
    let clock = clock_mode(&file.clock).map_err(invalid)?;
    if !(file.time_scale.is_finite() && file.time_scale > 0.0) {
        return Err(invalid("time_scale must be a positive number".into()));
    }
    let propagation = match &file.propagation {
        None => Duration::ZERO,
        Some(text) => parse_propagation(text).map_err(invalid)?,
    };
    let webhook = webhook_setup(
        file.notification_url.as_deref(),
        file.notification_listen.as_deref(),
    )
    .map_err(invalid)?;
    let concurrency = if clock == ClockMode::Virtual {
        1
    } else {
        file.concurrency.max(1)
    };
    Ok(LoadedTarget {
        target: Arc::new(RemoteTarget {
            profile,
            base_url,
            clock,
            time_scale: file.time_scale,
            propagation,
            request_timeout: Duration::from_secs(file.request_timeout.max(1)),
            apps: match (&file.auth, file.apps.is_empty()) {
                (AuthFile::None, true) => made_up_apps(),
                _ => registrations(&file.apps, &shown)?,
            },
            pool: Arc::new(UserPool::new(match (&file.auth, file.users.is_empty()) {
                (AuthFile::None, true) => made_up_users(concurrency),
                _ => pool_users(&file.users, &shown)?,
            })),
            auth: remote_auth(file.auth),
            name: file.name,
            slots: Arc::new(Semaphore::new(concurrency)),
            webhook,
        }),
        known_failures,
        snapshots,
    })
}

/// `clock = "virtual"` or `"real"`.
fn clock_mode(text: &str) -> Result<ClockMode, String> {
    match text {
        "virtual" => Ok(ClockMode::Virtual),
        "real" => Ok(ClockMode::Real),
        other => Err(format!("clock must be `virtual` or `real`, not `{other}`")),
    }
}

/// `notification_url` with `notification_listen`: both or neither; the URL http(s), the address
/// an IP and a port.
fn webhook_setup(
    url: Option<&str>,
    listen: Option<&str>,
) -> Result<Option<super::WebhookSetup>, String> {
    let (url, listen) = match (url, listen) {
        (None, None) => return Ok(None),
        (Some(url), Some(listen)) => (url, listen),
        _ => {
            return Err(
                "`notification_url` and `notification_listen` go together: the public URL and \
                 the local address it forwards to"
                    .into(),
            );
        }
    };
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| format!("notification_url {url:?} is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("notification_url {url:?} must be http or https"));
    }
    let listen = listen.parse().map_err(|e| {
        format!("notification_listen {listen:?} must be an address such as 127.0.0.1:8123: {e}")
    })?;
    Ok(Some(super::WebhookSetup {
        listen,
        public_url: url.to_owned(),
        exclusive: Arc::new(Semaphore::new(1)),
    }))
}

/// `propagation = "PT5S"`: a non-negative ISO 8601 duration of presence time.
fn parse_propagation(text: &str) -> Result<Duration, String> {
    let shown =
        || format!("propagation must be an ISO 8601 duration such as \"PT5S\", not {text:?}");
    let parsed = crate::model::parse_edm_duration(text).map_err(|_| shown())?;
    Duration::try_from(parsed).map_err(|_| shown())
}

/// An I/O error as a person reads it: `No such file or directory`, without `(os error 2)`.
fn io_message(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// The expectations file: the cases a target is known to fail.
fn known_failures(full: &Path) -> Result<Vec<KnownFailure>, TargetConfigError> {
    let text = std::fs::read_to_string(full).map_err(|e| TargetConfigError::Read {
        what: "the expectations file",
        path: full.display().to_string(),
        message: io_message(&e),
    })?;
    Ok(toml::from_str::<ExpectationsFile>(&text)
        .map_err(|e| TargetConfigError::Invalid {
            path: full.display().to_string(),
            message: e.to_string(),
        })?
        .fail)
}

/// A secret from the environment variable the target file names, or written in it.
fn secret(
    env: &Option<String>,
    inline: &Option<String>,
    what: &str,
    profile: &str,
) -> Result<Option<Secret>, TargetConfigError> {
    match (env, inline) {
        (Some(var), _) => std::env::var(var)
            .map(|v| Some(Secret::new(v)))
            .map_err(|_| TargetConfigError::Invalid {
                path: profile.to_owned(),
                message: format!("{what}: the environment variable {var} is not set"),
            }),
        (None, Some(value)) => Ok(Some(Secret::new(value.clone()))),
        (None, None) => Ok(None),
    }
}

fn registrations(apps: &[AppFile], profile: &str) -> Result<Vec<Registration>, TargetConfigError> {
    apps.iter()
        .map(|app| {
            let what = format!("app {}", app.client_id);
            Ok(Registration {
                client_id: app.client_id.clone(),
                secret: secret(&app.secret_env, &app.secret, &what, profile)?,
                roles: app.roles.clone(),
                scopes: app.scopes.clone().unwrap_or_else(default_scopes),
            })
        })
        .collect()
}

fn pool_users(users: &[UserFile], profile: &str) -> Result<Vec<PoolUser>, TargetConfigError> {
    users
        .iter()
        .map(|user| {
            let what = format!("user {}", user.id);
            Ok(PoolUser {
                id: user.id.clone(),
                upn: user.upn.clone(),
                password: secret(&user.password_env, &user.password, &what, profile)?,
            })
        })
        .collect()
}

/// The most apps and users one case declares (besides its observer).
const APPS_A_CASE: usize = 4;
const USERS_A_CASE: usize = 4;

/// A target that checks no credentials takes any app id: without `[[apps]]`, made-up client
/// ids (GUIDs), one more than a case needs (its observer).
fn made_up_apps() -> Vec<Registration> {
    (1..=APPS_A_CASE + 1)
        .map(|i| Registration {
            client_id: format!("a0000000-0000-4000-8000-{i:012x}"),
            secret: None,
            roles: Vec::new(),
            scopes: default_scopes(),
        })
        .collect()
}

/// Without `[[users]]` on a target that checks no credentials: made-up user ids (GUIDs), as
/// many as `concurrency` cases at once need.
fn made_up_users(concurrency: usize) -> Vec<PoolUser> {
    (1..=USERS_A_CASE * concurrency)
        .map(|i| PoolUser {
            id: format!("b0000000-0000-4000-8000-{i:012x}"),
            upn: None,
            password: None,
        })
        .collect()
}

fn remote_auth(auth: AuthFile) -> RemoteAuth {
    match auth {
        AuthFile::None => RemoteAuth::None,
        AuthFile::ClientCredentials {
            tenant,
            token_url,
            scope,
        } => RemoteAuth::TokenEndpoint {
            url: token_url
                .unwrap_or_else(|| MICROSOFT_TOKEN_URL.into())
                .replace("{tenant}", &tenant),
            scope: scope.unwrap_or_else(|| "https://graph.microsoft.com/.default".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn propagation_is_an_iso_duration_of_presence_time() {
        assert_eq!(parse_propagation("PT5S"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_propagation("PT0S"), Ok(Duration::ZERO));
        for bad in ["5", "soon", "-PT5S"] {
            let error = parse_propagation(bad).unwrap_err();
            assert!(error.contains("\"PT5S\"") && error.contains(bad), "{error}");
        }
    }
}
