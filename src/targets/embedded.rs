//! The default target: a fresh reference server per case, on a virtual clock, so cases run in
//! parallel with clocks of their own. Its router is called in-process (no socket): every request
//! still goes through the session's HTTP exchange, the router's middleware and its handlers.

use crate::notifications::Faults;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::http::{Credentials, HttpSession, Secret, SessionSettings};
use super::transport::Transport;
use super::{CaseSession, ClockMode, Hold, Target, TargetError};
use crate::case::Case;
use crate::model::{Profile, Semantics};
use crate::server::config::{ClientConfig, ServerConfig, UserConfig};
use crate::server::{AppState, PresenceClock};

/// A deliberately different reference server, built by tests to prove how the suite judges
/// one: another configuration, and layers around its routes.
#[derive(Clone, Default)]
pub struct Variation {
    pub config: Option<ConfigChange>,
    pub routes: Option<RoutesChange>,
}

/// A change to the server's configuration.
pub(crate) type ConfigChange = Arc<dyn Fn(&mut ServerConfig) + Send + Sync>;
/// Layers around the server's routes.
pub(crate) type RoutesChange = Arc<dyn Fn(axum::Router) -> axum::Router + Send + Sync>;

/// The authority requests carry in-process (the `Host` the server sees, and so the base of its
/// `@odata.context` links).
const IN_PROCESS_BASE: &str = "http://reference.localhost";

/// The embedded reference server.
#[derive(Clone)]
pub struct EmbeddedTarget {
    profile: Profile,
    name: String,
    semantics: Semantics,
    variation: Option<Variation>,
    /// Deliberately wrong change notifications (tests only).
    faults: Faults,
}

impl std::fmt::Debug for EmbeddedTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedTarget")
            .field("profile", &self.profile)
            .field("name", &self.name)
            .field("semantics", &self.semantics)
            .field("varied", &self.variation.is_some())
            .finish()
    }
}

impl EmbeddedTarget {
    /// Named for a target file (`targets/reference.toml`).
    pub fn named(profile: Profile, name: &str) -> Self {
        EmbeddedTarget {
            profile,
            name: name.to_owned(),
            semantics: Semantics::GRAPH,
            variation: None,
            faults: Faults::default(),
        }
    }

    /// A reference server whose change notifications are wrong in the ways `faults` says: for
    /// proving that the notification cases catch each one.
    pub fn with_notification_faults(profile: Profile, name: &str, faults: Faults) -> Self {
        EmbeddedTarget {
            faults,
            ..EmbeddedTarget::named(profile, name)
        }
    }

    /// The reference server with `variation` around its routes (a test-only different server).
    pub fn varied(profile: Profile, name: &str, variation: Variation) -> Self {
        EmbeddedTarget {
            variation: Some(variation),
            ..EmbeddedTarget::named(profile, name)
        }
    }

    /// A reference server that follows other rules: a deliberately wrong implementation, for
    /// proving that the suite catches one.
    pub fn with_semantics(profile: Profile, name: &str, semantics: Semantics) -> Self {
        EmbeddedTarget {
            profile,
            name: name.to_owned(),
            semantics,
            variation: None,
            faults: Faults::default(),
        }
    }

    pub fn new(profile: Profile) -> Self {
        let name = match profile {
            Profile::V1_0 => "reference".to_owned(),
            other => format!("reference-{other}"),
        };
        EmbeddedTarget::named(profile, &name)
    }
}

/// Stable ids per actor position, so timelines are reproducible run to run.
pub fn user_id(index: usize) -> String {
    format!("a0000000-0000-4000-8000-{:012x}", index + 1)
}

pub fn app_id(index: usize) -> String {
    format!("c0000000-0000-4000-8000-{:012x}", index + 1)
}

/// The server configuration that registers a case's actors.
pub(crate) fn config_for(
    case: &Case,
    profile: Profile,
) -> (ServerConfig, Credentials, BTreeMap<String, String>) {
    let mut ids = BTreeMap::new();
    let mut apps = BTreeMap::new();
    let mut users = BTreeMap::new();
    let mut config = ServerConfig {
        clients: Vec::new(),
        users: Vec::new(),
        beta_profile: if profile == Profile::Beta2021 {
            Profile::Beta2021
        } else {
            Profile::Beta
        },
        ..ServerConfig::default()
    };
    for (i, user) in case.users.iter().enumerate() {
        let id = user_id(i);
        let upn = format!("{user}@contoso.test");
        let password = Secret::new(uuid::Uuid::new_v4().to_string());
        config.users.push(UserConfig {
            id: id.clone(),
            user_principal_name: upn.clone(),
            password: password.expose().to_owned(),
        });
        users.insert(user.clone(), (upn, password));
        ids.insert(user.clone(), id);
    }
    for (i, app) in case.apps.iter().enumerate() {
        let id = app_id(i);
        let secret = Secret::new(uuid::Uuid::new_v4().to_string());
        config.clients.push(ClientConfig {
            client_id: id.clone(),
            client_secret: secret.expose().to_owned(),
            roles: app.roles.clone(),
            scopes: app.scopes.clone(),
        });
        apps.insert(app.name.clone(), (id.clone(), secret));
        ids.insert(app.name.clone(), id);
    }
    let credentials = Credentials::TokenEndpoint {
        url: String::new(),
        scope: "https://graph.microsoft.com/.default".to_owned(),
        apps,
        users,
    };
    (config, credentials, ids)
}

#[async_trait]
impl Target for EmbeddedTarget {
    fn name(&self) -> &str {
        &self.name
    }

    fn judged_strictly(&self) -> bool {
        self.semantics == Semantics::GRAPH
            && self.variation.is_none()
            && self.faults == Faults::default()
    }

    fn profile(&self) -> Profile {
        self.profile
    }

    async fn open(&self, case: &Case) -> Result<CaseSession, TargetError> {
        let (mut config, mut credentials, actor_ids) = config_for(case, self.profile);
        if let Some(change) = self.variation.as_ref().and_then(|v| v.config.as_ref()) {
            change(&mut config);
        }
        let tenant = config.tenant_id.clone();
        let clock = PresenceClock::virtual_at_epoch();
        let state = if self.faults == Faults::default() {
            AppState::with_semantics(config, clock, self.semantics)
        } else {
            AppState::with_notification_faults(config, clock, self.faults)
        };
        let router = crate::server::app(state);
        let router = match self.variation.as_ref().and_then(|v| v.routes.as_ref()) {
            None => router,
            Some(vary) => vary(router),
        };
        if let Credentials::TokenEndpoint { url, .. } = &mut credentials {
            *url = format!("{IN_PROCESS_BASE}/{tenant}/oauth2/v2.0/token");
        }
        let timeout = Duration::from_secs(10);
        let http = HttpSession::open_with(
            SessionSettings {
                base_url: IN_PROCESS_BASE.to_owned(),
                version_root: format!("/{}", self.profile.url_segment()),
                actor_ids,
                credentials,
                clock: ClockMode::Virtual,
                time_scale: 1.0,
                propagation: Duration::ZERO,
                request_timeout: timeout,
            },
            Transport::in_process(router, timeout),
        )
        .await?;
        Ok(CaseSession::new(http, Hold::InProcess))
    }
}
