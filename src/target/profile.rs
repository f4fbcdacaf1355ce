//! Target profiles: TOML files under `targets/` that say where an implementation is and how to
//! drive it: base URL, spec profile, credentials, clock, the app registrations and users that
//! case actors map to, concurrency, timeouts and the cases it is known to fail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use serde::Deserialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::http::{Credentials, Held, HoldingSession, HttpSession, Secret, SessionSettings};
use super::{CaseSession, ClockMode, EmbeddedTarget, HttpRequest, Target, TargetError};
use crate::case::render::Substitution;
use crate::case::{Case, Field, Request, StatusMessage};
use crate::model::Profile;
use crate::operation::Via;

/// The Microsoft identity platform's token endpoint; `{tenant}` is filled in.
pub const MICROSOFT_TOKEN_URL: &str =
    "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileFile {
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
    /// Seconds.
    #[serde(default = "default_timeout")]
    request_timeout: u64,
    /// Cases at once against this target (a virtual clock is shared: always 1).
    #[serde(default = "default_concurrency")]
    concurrency: usize,
    expectations: Option<PathBuf>,
    #[serde(default)]
    auth: AuthFile,
    #[serde(default)]
    apps: Vec<AppFile>,
    #[serde(default)]
    users: Vec<UserFile>,
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

/// Why a profile cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
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

/// A loaded profile: the target and its expectations.
pub struct LoadedProfile {
    pub target: Arc<dyn Target>,
    pub known_failures: Vec<KnownFailure>,
}

impl LoadedProfile {
    pub fn known_failure(&self, case: &str) -> Option<&KnownFailure> {
        self.known_failures.iter().find(|k| k.case == case)
    }
}

/// Reads a profile; secrets are read from the environment now, so a missing one fails early.
pub fn load_profile(path: &Path) -> Result<LoadedProfile, ProfileError> {
    let shown = path.display().to_string();
    let invalid = |message: String| ProfileError::Invalid {
        path: shown.clone(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Read {
        path: shown.clone(),
        source,
    })?;
    let file: ProfileFile = toml::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let profile: Profile = file.profile.parse().map_err(invalid)?;
    let known_failures = match &file.expectations {
        None => Vec::new(),
        Some(relative) => known_failures(&path.parent().unwrap_or(Path::new(".")).join(relative))?,
    };
    if file.embedded {
        return Ok(LoadedProfile {
            target: Arc::new(EmbeddedTarget::named(profile, &file.name)),
            known_failures,
        });
    }
    let base_url = file
        .base_url
        .clone()
        .ok_or_else(|| invalid("needs `base_url` (or `embedded = true`)".into()))?
        .trim_end_matches('/')
        .to_owned();
    let clock = match file.clock.as_str() {
        "virtual" => ClockMode::Virtual,
        "real" => ClockMode::Real,
        other => {
            return Err(invalid(format!(
                "clock must be `virtual` or `real`, not `{other}`"
            )));
        }
    };
    if !(file.time_scale.is_finite() && file.time_scale > 0.0) {
        return Err(invalid("time_scale must be a positive number".into()));
    }
    let concurrency = if clock == ClockMode::Virtual {
        1
    } else {
        file.concurrency.max(1)
    };
    Ok(LoadedProfile {
        target: Arc::new(RemoteTarget {
            profile,
            base_url,
            clock,
            time_scale: file.time_scale,
            request_timeout: Duration::from_secs(file.request_timeout.max(1)),
            apps: registrations(&file.apps, &shown)?,
            pool: Arc::new(UserPool::new(pool_users(&file.users, &shown)?)),
            auth: remote_auth(file.auth),
            name: file.name,
            slots: Arc::new(Semaphore::new(concurrency)),
        }),
        known_failures,
    })
}

/// The expectations file: the cases a target is known to fail.
fn known_failures(full: &Path) -> Result<Vec<KnownFailure>, ProfileError> {
    let text = std::fs::read_to_string(full).map_err(|source| ProfileError::Read {
        path: full.display().to_string(),
        source,
    })?;
    Ok(toml::from_str::<ExpectationsFile>(&text)
        .map_err(|e| ProfileError::Invalid {
            path: full.display().to_string(),
            message: e.to_string(),
        })?
        .fail)
}

/// A secret from the environment variable the profile names, or written in it.
fn secret(
    env: &Option<String>,
    inline: &Option<String>,
    what: &str,
    profile: &str,
) -> Result<Option<Secret>, ProfileError> {
    match (env, inline) {
        (Some(var), _) => std::env::var(var)
            .map(|v| Some(Secret::new(v)))
            .map_err(|_| ProfileError::Invalid {
                path: profile.to_owned(),
                message: format!("{what}: the environment variable {var} is not set"),
            }),
        (None, Some(value)) => Ok(Some(Secret::new(value.clone()))),
        (None, None) => Ok(None),
    }
}

fn registrations(apps: &[AppFile], profile: &str) -> Result<Vec<Registration>, ProfileError> {
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

fn pool_users(users: &[UserFile], profile: &str) -> Result<Vec<PoolUser>, ProfileError> {
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

#[derive(Debug)]
struct Registration {
    client_id: String,
    secret: Option<Secret>,
    roles: Vec<String>,
    scopes: Vec<String>,
}

#[derive(Clone, Debug)]
struct PoolUser {
    id: String,
    upn: Option<String>,
    password: Option<Secret>,
}

#[derive(Debug)]
enum RemoteAuth {
    None,
    TokenEndpoint { url: String, scope: String },
}

/// Real users, lent to one case at a time: two cases never act on the same user at once.
#[derive(Debug)]
struct UserPool {
    users: Vec<PoolUser>,
    free: Mutex<Vec<bool>>,
    returned: Condvar,
}

impl UserPool {
    fn new(users: Vec<PoolUser>) -> Self {
        let free = Mutex::new(vec![true; users.len()]);
        UserPool {
            users,
            free,
            returned: Condvar::new(),
        }
    }

    /// Blocks until `n` users are free; `None` when the pool can never lend that many.
    fn lend(self: &Arc<Self>, n: usize) -> Option<UserLease> {
        if n > self.users.len() {
            return None;
        }
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let available: Vec<usize> = free
                .iter()
                .enumerate()
                .filter(|(_, f)| **f)
                .map(|(i, _)| i)
                .take(n)
                .collect();
            if available.len() == n {
                for &i in &available {
                    free[i] = false;
                }
                return Some(UserLease {
                    pool: self.clone(),
                    indexes: available,
                });
            }
            free = self.returned.wait(free).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Users lent to one case; returned to the pool when dropped.
#[derive(Debug)]
struct UserLease {
    pool: Arc<UserPool>,
    indexes: Vec<usize>,
}

impl Drop for UserLease {
    fn drop(&mut self) {
        let mut free = self.pool.free.lock().unwrap_or_else(|e| e.into_inner());
        for &i in &self.indexes {
            free[i] = true;
        }
        self.pool.returned.notify_all();
    }
}

/// Any implementation at a base URL: a third party's, `serve` in another process, or Graph.
#[derive(Debug)]
pub struct RemoteTarget {
    name: String,
    profile: Profile,
    base_url: String,
    clock: ClockMode,
    time_scale: f64,
    request_timeout: Duration,
    auth: RemoteAuth,
    apps: Vec<Registration>,
    pool: Arc<UserPool>,
    slots: Arc<Semaphore>,
}

fn default_scopes() -> Vec<String> {
    crate::case::DEFAULT_SCOPES
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn same_permissions(a: &[String], b: &[String]) -> bool {
    let norm = |v: &[String]| {
        let mut v: Vec<String> = v.iter().map(|r| r.to_ascii_lowercase()).collect();
        v.sort();
        v
    };
    norm(a) == norm(b)
}

impl RemoteTarget {
    /// A registration for each app of `case`, with exactly its permissions (any registration
    /// when the target checks no credentials), none used twice; or why there is none.
    fn registrations_for<'c>(
        &self,
        case: &'c Case,
    ) -> Result<Vec<(&'c str, &Registration)>, String> {
        let checks_credentials = !matches!(self.auth, RemoteAuth::None);
        let mut used = vec![false; self.apps.len()];
        let mut chosen = Vec::new();
        for app in &case.apps {
            let fits = |r: &Registration| {
                !checks_credentials
                    || (same_permissions(&r.roles, &app.roles)
                        && same_permissions(&r.scopes, &app.scopes))
            };
            let found = self
                .apps
                .iter()
                .enumerate()
                .find(|(i, r)| !used[*i] && fits(r));
            let Some((i, registration)) = found else {
                return Err(format!(
                    "the profile has no free app registration with roles [{}] and delegated scopes [{}] for app '{}'",
                    app.roles.join(", "),
                    app.scopes.join(", "),
                    app.name
                ));
            };
            used[i] = true;
            chosen.push((app.name.as_str(), registration));
        }
        Ok(chosen)
    }

    /// Why this target cannot run `case` at all (no registration with the roles it needs).
    pub fn cannot_run(&self, case: &Case) -> Option<String> {
        let checks_credentials = !matches!(self.auth, RemoteAuth::None);
        if !checks_credentials && let Some(why) = case.needs_credentials() {
            return Some(format!(
                "the target's auth is none, and the case needs credentials: {why}"
            ));
        }
        if let Err(why) = self.registrations_for(case) {
            return Some(why);
        }
        (case.users.len() > self.pool.users.len()).then(|| {
            format!(
                "the case needs {} users, the profile's pool has {}",
                case.users.len(),
                self.pool.users.len()
            )
        })
    }
}

/// What clears a pooled user for one writer app: its session (404, no such session, is the
/// usual answer and fine) and, by the first writer, the preferred presence and status message.
fn cleanup_requests(first_writer: bool) -> Vec<Request> {
    let user = || "user".to_owned();
    let mut cleanup = vec![Request::ClearPresence {
        user: user(),
        session_id: Field::Given("{app}".into()),
    }];
    if first_writer {
        cleanup.push(Request::ClearUserPreferredPresence { user: user() });
        cleanup.push(Request::SetStatusMessage {
            user: user(),
            message: StatusMessage::Clear,
        });
    }
    cleanup
}

impl RemoteTarget {
    /// Without a reset, a real-clock target keeps what earlier cases left on a pooled user:
    /// clear every session our app registrations can hold, the preferred presence and the
    /// status message. (Sessions of other clients, such as the user's own Teams, stay.)
    async fn clean(&self, users: &[String]) -> Result<(), TargetError> {
        let writers: Vec<&Registration> = self
            .apps
            .iter()
            .filter(|r| {
                r.roles
                    .iter()
                    .any(|role| role.eq_ignore_ascii_case("Presence.ReadWrite.All"))
            })
            .collect();
        let mut actor_ids = BTreeMap::new();
        let mut apps = BTreeMap::new();
        for (i, registration) in writers.iter().enumerate() {
            let name = format!("writer{i}");
            actor_ids.insert(name.clone(), registration.client_id.clone());
            if let Some(secret) = &registration.secret {
                apps.insert(name, (registration.client_id.clone(), secret.clone()));
            }
        }
        let credentials = match &self.auth {
            RemoteAuth::None => Credentials::None,
            RemoteAuth::TokenEndpoint { url, scope } => Credentials::TokenEndpoint {
                url: url.clone(),
                scope: scope.clone(),
                apps,
                users: BTreeMap::new(),
            },
        };
        let root = format!("/{}", self.profile.url_segment());
        let mut session = HttpSession::open(SessionSettings {
            base_url: self.base_url.clone(),
            version_root: root.clone(),
            actor_ids: actor_ids.clone(),
            credentials,
            clock: ClockMode::Real,
            time_scale: self.time_scale,
            request_timeout: self.request_timeout,
        })
        .await?;
        session.keep_no_timeline();
        let start = session.case_start();
        for (name, client_id) in &actor_ids {
            let token = session.token(name, None).await?;
            for user in users {
                let ids = BTreeMap::from([
                    ("user".to_owned(), user.clone()),
                    ("app".to_owned(), client_id.clone()),
                ]);
                let substitution = Substitution {
                    ids: &ids,
                    case_start: start,
                };
                for request in cleanup_requests(name == "writer0") {
                    let rendered = request
                        .render(Via::Users, &substitution)
                        .map_err(|e| TargetError::Start(e.to_string()))?;
                    let mut headers = rendered.headers;
                    if let Some(token) = &token {
                        headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
                    }
                    session
                        .send(HttpRequest {
                            method: rendered.method,
                            path: format!("{root}{}", rendered.path),
                            headers,
                            body: rendered.body,
                        })
                        .await?;
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Target for RemoteTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn profile(&self) -> Profile {
        self.profile
    }

    fn clock_mode(&self) -> ClockMode {
        self.clock
    }

    async fn reachable(&self) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .timeout(self.request_timeout)
            .build()
            .map_err(|e| e.to_string())?;
        // Any HTTP answer will do: the target is up.
        match client.get(&self.base_url).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("{}: {}", self.base_url, super::http::describe(&e))),
        }
    }

    fn unsupported(&self, case: &Case) -> Option<String> {
        self.cannot_run(case)
    }

    async fn open(&self, case: &Case) -> Result<Box<dyn CaseSession>, TargetError> {
        if let Some(reason) = self.cannot_run(case) {
            return Err(TargetError::Start(reason));
        }
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| TargetError::Start(e.to_string()))?;
        let pool = self.pool.clone();
        let wanted = case.users.len();
        let lease = tokio::task::spawn_blocking(move || pool.lend(wanted))
            .await
            .map_err(|e| TargetError::Start(e.to_string()))?
            .ok_or_else(|| TargetError::Start("the user pool is too small".into()))?;
        let mut ids = BTreeMap::new();
        let mut app_creds = BTreeMap::new();
        let mut user_creds = BTreeMap::new();
        for (name, &i) in case.users.iter().zip(&lease.indexes) {
            let user = &self.pool.users[i];
            ids.insert(name.clone(), user.id.clone());
            if let (Some(upn), Some(password)) = (&user.upn, &user.password) {
                user_creds.insert(name.clone(), (upn.clone(), password.clone()));
            }
        }
        let registrations = self.registrations_for(case).map_err(TargetError::Start)?;
        for (app, registration) in registrations {
            ids.insert(app.to_owned(), registration.client_id.clone());
            if let Some(secret) = &registration.secret {
                app_creds.insert(
                    app.to_owned(),
                    (registration.client_id.clone(), secret.clone()),
                );
            }
        }
        let credentials = match &self.auth {
            RemoteAuth::None => Credentials::None,
            RemoteAuth::TokenEndpoint { url, scope } => Credentials::TokenEndpoint {
                url: url.clone(),
                scope: scope.clone(),
                apps: app_creds,
                users: user_creds,
            },
        };
        if self.clock == ClockMode::Real {
            let users: Vec<String> = lease
                .indexes
                .iter()
                .map(|&i| self.pool.users[i].id.clone())
                .collect();
            self.clean(&users).await?;
        }
        let http = HttpSession::open(SessionSettings {
            base_url: self.base_url.clone(),
            version_root: format!("/{}", self.profile.url_segment()),
            actor_ids: ids,
            credentials,
            clock: self.clock,
            time_scale: self.time_scale,
            request_timeout: self.request_timeout,
        })
        .await?;
        Ok(Box::new(HoldingSession::new(
            http,
            RemoteHold {
                _lease: lease,
                _slot: slot,
            },
        )))
    }
}

/// The pooled users and the concurrency slot a remote case holds until it closes.
struct RemoteHold {
    _lease: UserLease,
    _slot: OwnedSemaphorePermit,
}

#[async_trait]
impl Held for RemoteHold {
    async fn release(self) {}
}
