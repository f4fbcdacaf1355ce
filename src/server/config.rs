//! The reference server's configuration: its tenant, the app registrations it issues tokens to,
//! and its users. Read from TOML (`serve --config`) or built in code (the embedded target).

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::model::Profile;

/// Application permission that lets an app write any user's presence.
pub(crate) const ROLE_READ_WRITE_ALL: &str = "Presence.ReadWrite.All";
/// Application permission that lets an app read any user's presence.
pub(crate) const ROLE_READ_ALL: &str = "Presence.Read.All";
/// Delegated permissions.
pub(crate) const SCOPE_READ: &str = "Presence.Read";
pub(crate) const SCOPE_READ_ALL: &str = "Presence.Read.All";
pub(crate) const SCOPE_READ_WRITE: &str = "Presence.ReadWrite";

/// Everything the server needs besides its clock.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The directory (tenant) id; the token endpoint answers only for this one.
    #[serde(default = "default_tenant")]
    pub tenant_id: String,
    /// How long an issued access token lives, in wall-clock time (the virtual clock moves
    /// presence, not credentials). Default 3600 s, as the Microsoft identity platform.
    #[serde(default = "default_token_lifetime", with = "seconds")]
    pub token_lifetime: Duration,
    /// Which rule profile `/beta` follows: `beta` (today's documents) or `beta-2021`.
    #[serde(default = "default_beta_profile", with = "profile")]
    pub beta_profile: Profile,
    /// Largest request body accepted, in bytes; larger ones get 413.
    #[serde(default = "default_body_limit")]
    pub body_limit: usize,
    /// App registrations that may ask for tokens.
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    /// Users that can sign in (password grant, for delegated tokens and the `/me` paths).
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// Answer every request as an all-powerful app, without tokens (`serve --no-auth`).
    #[serde(default)]
    pub no_auth: bool,
    /// Print one line per request to stderr.
    #[serde(default)]
    pub log_requests: bool,
}

/// An app registration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    pub client_id: String,
    pub client_secret: String,
    /// Application permissions granted with admin consent (e.g. `Presence.ReadWrite.All`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Delegated permissions the app may get for a signed-in user.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
}

/// A user of the directory.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The object id (a GUID).
    pub id: String,
    pub user_principal_name: String,
    pub password: String,
}

fn default_tenant() -> String {
    "8f1b5a3c-0d4e-4c55-9a7e-5e1d0c2b3a41".to_owned()
}
fn default_token_lifetime() -> Duration {
    Duration::from_secs(3600)
}
fn default_beta_profile() -> Profile {
    Profile::Beta
}
fn default_body_limit() -> usize {
    64 * 1024
}
fn default_scopes() -> Vec<String> {
    vec![
        SCOPE_READ.to_owned(),
        SCOPE_READ_ALL.to_owned(),
        SCOPE_READ_WRITE.to_owned(),
    ]
}

mod seconds {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(d)?))
    }
}

mod profile {
    use crate::model::Profile;
    use serde::{Deserialize, Deserializer};
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Profile, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl Default for ServerConfig {
    /// The development configuration `serve` uses without `--config`: one tenant, one app with
    /// `Presence.ReadWrite.All`, and one user. Its credentials are documented in the README.
    fn default() -> Self {
        ServerConfig {
            tenant_id: default_tenant(),
            token_lifetime: default_token_lifetime(),
            beta_profile: default_beta_profile(),
            body_limit: default_body_limit(),
            clients: vec![ClientConfig {
                client_id: "11111111-2222-4333-8444-555555555555".to_owned(),
                client_secret: "local-development-secret".to_owned(),
                roles: vec![ROLE_READ_WRITE_ALL.to_owned()],
                scopes: default_scopes(),
            }],
            users: vec![UserConfig {
                id: "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee".to_owned(),
                user_principal_name: "adele@contoso.test".to_owned(),
                password: "local-development-password".to_owned(),
            }],
            no_auth: false,
            log_requests: false,
        }
    }
}

/// Why a configuration file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Parse {
        path: String,
        source: Box<toml::de::Error>,
    },
}

impl ServerConfig {
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: shown.clone(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: shown,
            source: Box::new(source),
        })
    }

    /// The profile a version segment (`v1.0`, `beta`) is judged by.
    pub fn profile_for(&self, segment: &str) -> Option<Profile> {
        match segment {
            "v1.0" => Some(Profile::V1_0),
            "beta" => Some(self.beta_profile),
            _ => None,
        }
    }
}
