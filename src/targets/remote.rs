//! A target at a URL (a third party's implementation or Microsoft Graph): its app registrations
//! and the pool of real users case actors map to (two cases never share a user), the cleanup of a
//! pooled user before a case on a real clock, and the sessions it opens.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::http::{Credentials, HttpSession, Secret, SessionSettings};
use super::{CaseSession, ClockMode, Hold, HttpRequest, RealClockPool, Target, TargetError};
use crate::case::request::Substitution;
use crate::case::{Case, Field, Request, SentStatusMessage};
use crate::model::Profile;
use crate::operation::Via;

#[derive(Debug)]
pub(crate) struct Registration {
    pub(crate) client_id: String,
    pub(crate) secret: Option<Secret>,
    pub(crate) roles: Vec<String>,
    pub(crate) scopes: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct PoolUser {
    pub(crate) id: String,
    pub(crate) upn: Option<String>,
    pub(crate) password: Option<Secret>,
}

#[derive(Debug)]
pub(crate) enum RemoteAuth {
    None,
    TokenEndpoint { url: String, scope: String },
}

/// Real users, lent to one case at a time: two cases never act on the same user at once.
#[derive(Debug)]
pub(crate) struct UserPool {
    users: Vec<PoolUser>,
    free: Mutex<Vec<bool>>,
    returned: Condvar,
}

impl UserPool {
    pub(crate) fn new(users: Vec<PoolUser>) -> Self {
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
pub(crate) struct RemoteTarget {
    pub(crate) name: String,
    pub(crate) profile: Profile,
    pub(crate) base_url: String,
    pub(crate) clock: ClockMode,
    pub(crate) time_scale: f64,
    /// Presence time a write may stay invisible to reads: reads poll for up to this long, and a
    /// cleaned user rests this long before a case gets it.
    pub(crate) propagation: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) auth: RemoteAuth,
    pub(crate) apps: Vec<Registration>,
    pub(crate) pool: Arc<UserPool>,
    pub(crate) slots: Arc<Semaphore>,
    /// Where cases that subscribe receive notifications, behind a public URL.
    pub(crate) webhook: Option<super::WebhookSetup>,
}

pub(crate) fn default_scopes() -> Vec<String> {
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
    /// One of the `concurrency` cases at once.
    async fn slot(&self) -> Result<OwnedSemaphorePermit, TargetError> {
        self.slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| TargetError::Start(e.to_string()))
    }

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
                    "the target file has no free app registration with roles [{}] and delegated scopes [{}] for app '{}'",
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
    pub(crate) fn cannot_run(&self, case: &Case) -> Option<String> {
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
                "the case needs {} users, the target file's pool has {}",
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
            message: SentStatusMessage::Clear,
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
            propagation: self.propagation,
            request_timeout: self.request_timeout,
        })
        .await?;
        session.keep_no_timeline();
        let start = session.case_start();
        for (name, client_id) in &actor_ids {
            for user in users {
                let ids = BTreeMap::from([
                    ("user".to_owned(), user.clone()),
                    ("app".to_owned(), client_id.clone()),
                ]);
                let substitution = Substitution {
                    ids: &ids,
                    case_start: start,
                    webhook: None,
                };
                for request in cleanup_requests(name == "writer0") {
                    let rendered = request
                        .render(Via::Users, &substitution)
                        .map_err(|e| TargetError::Start(e.to_string()))?;
                    let request = HttpRequest {
                        method: rendered.method,
                        path: format!("{root}{}", rendered.path),
                        headers: rendered.headers,
                        body: rendered.body,
                    };
                    clean_one(&mut session, name, request, user).await?;
                }
            }
        }
        Ok(())
    }
}

/// Sends one clean-up request with a fresh token (tokens may be short-lived: one fetched for the
/// whole clean-up can expire half-way), once more with a new token after a 401, and makes sure
/// it took: a user that cannot be cleaned would carry an earlier case's state into the next.
async fn clean_one(
    session: &mut HttpSession,
    app: &str,
    request: HttpRequest,
    user: &str,
) -> Result<(), TargetError> {
    let mut status = 0;
    for attempt in 0..2 {
        if attempt > 0 {
            session.forget_token(app, None);
        }
        let mut request = request.clone();
        if let Some(token) = session.token(app, None).await? {
            request
                .headers
                .push(("Authorization".to_owned(), format!("Bearer {token}")));
        }
        status = session.send(request).await?.status;
        // 404: no session of that app to clear, which is clean too.
        if (200..300).contains(&status) || status == 404 {
            return Ok(());
        }
        if status != 401 {
            break;
        }
    }
    Err(TargetError::Start(format!(
        "cannot clean user {user} for the case: {} {} answered {status}",
        request.method, request.path
    )))
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

    fn base_url(&self) -> Option<&str> {
        Some(&self.base_url)
    }

    async fn preflight(&self) -> Result<super::TargetFacts, super::PreflightError> {
        let clock = super::preflight::probe(
            &self.base_url,
            self.request_timeout,
            self.clock,
            self.time_scale,
        )
        .await?;
        let auth = match &self.auth {
            RemoteAuth::None => "none".to_owned(),
            RemoteAuth::TokenEndpoint { url, .. } => format!("client credentials from {url}"),
        };
        Ok(super::TargetFacts {
            url: self.base_url.clone(),
            auth,
            clock,
        })
    }

    fn unsupported(&self, case: &Case) -> Option<String> {
        self.cannot_run(case)
    }

    fn webhook_setup(&self) -> Option<&super::WebhookSetup> {
        self.webhook.as_ref()
    }

    fn real_clock_pool(&self) -> Option<RealClockPool> {
        (self.clock == ClockMode::Real).then(|| RealClockPool {
            users: self.pool.users.len(),
            time_scale: self.time_scale,
        })
    }

    async fn open(&self, case: &Case) -> Result<CaseSession, TargetError> {
        if let Some(reason) = self.cannot_run(case) {
            return Err(TargetError::Start(reason));
        }
        let mut slot = self.slot().await?;
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
            // What the clean-up wrote must be visible before the case reads it. The slot is
            // given back for the rest, so that another case runs meanwhile.
            let rest = self.propagation.div_f64(self.time_scale);
            if !rest.is_zero() {
                drop(slot);
                tokio::time::sleep(rest).await;
                slot = self.slot().await?;
            }
        }
        let http = HttpSession::open(SessionSettings {
            base_url: self.base_url.clone(),
            version_root: format!("/{}", self.profile.url_segment()),
            actor_ids: ids,
            credentials,
            clock: self.clock,
            time_scale: self.time_scale,
            propagation: self.propagation,
            request_timeout: self.request_timeout,
        })
        .await?;
        Ok(CaseSession::new(
            http,
            Hold::Remote(RemoteHold {
                _lease: lease,
                _slot: slot,
            }),
        ))
    }
}

/// The pooled users and the concurrency slot a remote case holds until it closes.
pub(crate) struct RemoteHold {
    _lease: UserLease,
    _slot: OwnedSemaphorePermit,
}
