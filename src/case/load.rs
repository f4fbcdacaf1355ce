//! Reading case files: YAML into `file.rs` types, then every check a reviewer would make, each
//! failure pointing at the file, line and column, with a hint where one helps.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::SignedDuration;
use serde_json::{Map, Value, json};

use super::error::CaseError;
use super::file::*;
use super::model::*;
use crate::model::{Profile, parse_edm_duration};

const DEFAULT_APP_ROLES: &[&str] = &["Presence.ReadWrite.All"];

/// Every `*.yaml` file under `root`, sorted, so trial order is stable.
pub fn discover(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The trial name of a case file: `cases/timeout/fade.yaml` under `cases` is `timeout::fade`.
pub fn case_name(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path).with_extension("");
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("::")
}

/// Reads and checks one case file.
pub fn load_file(root: &Path, path: &Path) -> Result<Case, CaseError> {
    let text = std::fs::read_to_string(path).map_err(|e| CaseError::io(path, &e))?;
    load_str(&case_name(root, path), path, &text)
}

/// Checks a case given as text (`path` is only used in messages).
pub fn load_str(name: &str, path: &Path, text: &str) -> Result<Case, CaseError> {
    let options = serde_saphyr::options! { strict_booleans: true };
    let file: CaseFile = serde_saphyr::from_str_with_options(text, options)
        .map_err(|e| CaseError::from_yaml(path, text, &e))?;
    Checker {
        path,
        text,
        users: file.users.iter().map(|u| u.value.clone()).collect(),
        apps: apps_of(&file),
    }
    .case(name, file)
}

fn apps_of(file: &CaseFile) -> Vec<AppActor> {
    let mut apps: Vec<AppActor> = file
        .apps
        .iter()
        .map(|(name, app)| AppActor {
            name: name.clone(),
            roles: app
                .roles
                .clone()
                .unwrap_or_else(|| DEFAULT_APP_ROLES.iter().map(|r| r.to_string()).collect()),
        })
        .collect();
    if !apps.iter().any(|a| a.name == OBSERVER) {
        apps.push(AppActor {
            name: OBSERVER.to_owned(),
            roles: vec!["Presence.Read.All".to_owned()],
        });
    }
    apps
}

struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    users: Vec<String>,
    apps: Vec<AppActor>,
}

type Loc = serde_saphyr::Location;

impl Checker<'_> {
    fn error(&self, at: &Loc, message: impl Into<String>) -> CaseError {
        CaseError::at(self.path, self.text, at.line(), at.column(), message.into())
    }

    fn case(&self, name: &str, file: CaseFile) -> Result<Case, CaseError> {
        let profiles = match &file.profiles {
            None => vec![Profile::V1_0, Profile::Beta],
            Some(list) => {
                let mut profiles = Vec::new();
                for p in &list.value {
                    profiles.push(
                        p.parse()
                            .map_err(|e: String| self.error(&list.referenced, e))?,
                    );
                }
                if profiles.is_empty() {
                    return Err(self.error(
                        &list.referenced,
                        "profiles is empty: the case would never run",
                    ));
                }
                profiles
            }
        };
        let mut seen = BTreeMap::new();
        for user in &file.users {
            if file.apps.contains_key(&user.value) || seen.insert(&user.value, ()).is_some() {
                return Err(self.error(
                    &user.referenced,
                    format!("actor '{}' is declared twice", user.value),
                ));
            }
            if !is_actor_name(&user.value) {
                return Err(self.error(
                    &user.referenced,
                    format!(
                        "actor name '{}' must be letters, digits, '-' or '_'",
                        user.value
                    ),
                ));
            }
        }
        if file.steps.is_empty() {
            return Err(CaseError::at(
                self.path,
                self.text,
                1,
                1,
                "the case has no steps".into(),
            ));
        }
        let mut steps = Vec::new();
        let mut previous = SignedDuration::ZERO;
        for step in file.steps {
            let at_loc = step.value.at.referenced;
            let checked = self.step(step)?;
            if checked.at < previous {
                return Err(self
                    .error(
                        &at_loc,
                        format!(
                            "steps out of order: at {} comes after a step at {}",
                            crate::model::iso(checked.at),
                            crate::model::iso(previous)
                        ),
                    )
                    .with_hint("steps are replayed in file order; sort them by `at`"));
            }
            previous = checked.at;
            steps.push(checked);
        }
        Ok(Case {
            name: name.to_owned(),
            path: self.path.to_path_buf(),
            title: file.title,
            source: file.source,
            profiles,
            needs_virtual_clock: file.requires.contains(&RequirementFile::VirtualClock),
            users: self.users.clone(),
            apps: self.apps.clone(),
            steps,
        })
    }

    fn duration(&self, text: &Located<String>, what: &str) -> Result<SignedDuration, CaseError> {
        let d = parse_edm_duration(&text.value)
            .map_err(|e| self.error(&text.referenced, format!("{what}: {e}")))?;
        if d.is_negative() {
            return Err(self.error(&text.referenced, format!("{what} must not be negative")));
        }
        Ok(d)
    }

    fn user(&self, name: &Located<String>) -> Result<String, CaseError> {
        if self.users.contains(&name.value) {
            return Ok(name.value.clone());
        }
        let kind = if self.apps.iter().any(|a| a.name == name.value) {
            " (it is an app)"
        } else {
            ""
        };
        Err(self
            .error(
                &name.referenced,
                format!("unknown user '{}'{kind}", name.value),
            )
            .with_suggestion(&name.value, self.users.iter().map(String::as_str)))
    }

    fn app(&self, name: &Located<String>) -> Result<String, CaseError> {
        if self.apps.iter().any(|a| a.name == name.value) {
            return Ok(name.value.clone());
        }
        let kind = if self.users.contains(&name.value) {
            " (it is a user: use `delegate` for delegated access)"
        } else {
            ""
        };
        Err(self
            .error(
                &name.referenced,
                format!("unknown app '{}'{kind}", name.value),
            )
            .with_suggestion(&name.value, self.apps.iter().map(|a| a.name.as_str())))
    }

    fn step(&self, located: Located<StepFile>) -> Result<Step, CaseError> {
        let loc = located.referenced;
        let step = located.value;
        let at = self.duration(&step.at, "at")?;
        let delegate = step.delegate.as_ref().map(|d| self.user(d)).transpose()?;
        let mut actions = Vec::new();
        let is_read = step.observe.is_some()
            || step.get_presence.is_some()
            || step.get_presences_by_user_id.is_some();
        let declared_apps: Vec<&AppActor> =
            self.apps.iter().filter(|a| a.name != OBSERVER).collect();
        let actor = match &step.actor {
            Some(a) => self.app(a)?,
            None if is_read => OBSERVER.to_owned(),
            None if declared_apps.len() == 1 => declared_apps[0].name.clone(),
            None => {
                return Err(self
                    .error(
                        &loc,
                        "which app sends this request? The case has several apps",
                    )
                    .with_hint("add `as: <app>` to the step"));
            }
        };
        let via = step.via.unwrap_or(ViaFile::Users);
        if via == ViaFile::Me && delegate.is_none() {
            return Err(self
                .error(&loc, "`via: me` needs a signed-in user")
                .with_hint("add `delegate: <user>`"));
        }
        let template = |operation: &str, user: &str, body: Option<BodyTemplate>| {
            let base = match via {
                ViaFile::Users => format!("/users/{{{user}}}/presence"),
                ViaFile::Me => "/me/presence".to_owned(),
                ViaFile::Communications => format!("/communications/presences/{{{user}}}"),
            };
            let (method, path) = match operation {
                "getPresence" => ("GET", base),
                _ => ("POST", format!("{base}/{operation}")),
            };
            RequestTemplate {
                operation: operation.to_owned(),
                method: method.to_owned(),
                path,
                from_root: false,
                headers: json_headers(body.is_some()),
                body,
            }
        };
        if let Some(s) = &step.set_presence {
            let user = self.user(&s.user)?;
            let mut body = Map::new();
            put(
                &mut body,
                "sessionId",
                &self.session_id(&s.session_id, &actor),
            );
            put(&mut body, "availability", &s.availability);
            put(&mut body, "activity", &s.activity);
            put(&mut body, "expirationDuration", &s.expiration_duration);
            actions.push(template(
                "setPresence",
                &user,
                Some(BodyTemplate::Text(Value::Object(body).to_string())),
            ));
        }
        if let Some(s) = &step.clear_presence {
            let user = self.user(&s.user)?;
            let mut body = Map::new();
            put(
                &mut body,
                "sessionId",
                &self.session_id(&s.session_id, &actor),
            );
            actions.push(template(
                "clearPresence",
                &user,
                Some(BodyTemplate::Text(Value::Object(body).to_string())),
            ));
        }
        if let Some(s) = &step.set_user_preferred_presence {
            let user = self.user(&s.user)?;
            let mut body = Map::new();
            put(&mut body, "availability", &s.availability);
            put(&mut body, "activity", &s.activity);
            put(&mut body, "expirationDuration", &s.expiration_duration);
            actions.push(template(
                "setUserPreferredPresence",
                &user,
                Some(BodyTemplate::Text(Value::Object(body).to_string())),
            ));
        }
        if let Some(s) = &step.clear_user_preferred_presence {
            let user = self.optional_user(&s.user, &delegate, &loc)?;
            actions.push(template(
                "clearUserPreferredPresence",
                &user,
                Some(BodyTemplate::Text("{}".into())),
            ));
        }
        if let Some(s) = &step.set_status_message {
            let user = self.user(&s.user)?;
            let body = match (&s.message, &s.expiry) {
                (Field::Absent, _) => return Err(self.error(&s.user.referenced, "setStatusMessage needs `message` (null clears it)")),
                (Field::Null, _) => BodyTemplate::Text(json!({ "statusMessage": null }).to_string()),
                (Field::Given(text), None) => BodyTemplate::Text(
                    json!({ "statusMessage": { "message": { "content": text, "contentType": "text" } } }).to_string(),
                ),
                (Field::Given(text), Some(expiry)) => {
                    let time_zone = expiry.time_zone.clone().unwrap_or_else(|| "UTC".to_owned());
                    match (&expiry.after, &expiry.date_time) {
                        (Some(after), None) => BodyTemplate::StatusMessage {
                            message: Some(text.clone()),
                            expiry_after: parse_edm_duration(after)
                                .map_err(|e| self.error(&s.user.referenced, format!("expiry.after: {e}")))?,
                            time_zone,
                        },
                        (None, Some(date_time)) => BodyTemplate::Text(
                            json!({ "statusMessage": {
                                "message": { "content": text, "contentType": "text" },
                                "expiryDateTime": { "dateTime": date_time, "timeZone": time_zone },
                            }})
                            .to_string(),
                        ),
                        _ => return Err(self.error(&s.user.referenced, "expiry needs exactly one of `after` and `dateTime`")),
                    }
                }
            };
            actions.push(template("setStatusMessage", &user, Some(body)));
        }
        if let Some(s) = &step.get_presence {
            let user = self.optional_user(&s.user, &delegate, &loc)?;
            actions.push(template("getPresence", &user, None));
        }
        if let Some(b) = &step.get_presences_by_user_id {
            let mut listed = Vec::new();
            for u in &b.users {
                listed.push(format!("{{{}}}", self.user(u)?));
            }
            listed.extend(b.ids.iter().cloned());
            actions.push(RequestTemplate {
                operation: "getPresencesByUserId".into(),
                method: "POST".into(),
                path: "/communications/getPresencesByUserId".into(),
                from_root: false,
                headers: json_headers(true),
                body: Some(BodyTemplate::Ids {
                    listed,
                    generated: b.generated,
                }),
            });
        }
        if let Some(r) = &step.request {
            let mut body = r.body.clone();
            if r.padding > 0 {
                body.get_or_insert_with(String::new)
                    .push_str(&" ".repeat(r.padding));
            }
            actions.push(RequestTemplate {
                operation: "raw".into(),
                method: r.method.to_ascii_uppercase(),
                path: r.path.clone(),
                from_root: r.from_root,
                headers: r
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                body: body.map(BodyTemplate::Text),
            });
        }
        let observation = match &step.observe {
            Some(o) => Some(Observation {
                user: self.user(&o.user)?,
                availability: o.availability.as_ref().map(|a| a.value.clone()),
                activity: o.activity.as_ref().map(|a| a.value.clone()),
                status_message: match &o.status_message {
                    Field::Absent => Field::Absent,
                    Field::Null => Field::Null,
                    Field::Given(s) => Field::Given(StatusExpect {
                        content: s.content.clone(),
                        expiry_shown: s.expiry_shown,
                        published_shown: s.published_shown,
                    }),
                },
                sequence: o.sequence_number,
                is_out_of_office: o.is_out_of_office,
                within: step
                    .within
                    .as_ref()
                    .map(|w| self.duration(w, "within"))
                    .transpose()?,
            }),
            None => None,
        };
        let count = actions.len() + usize::from(observation.is_some());
        if count != 1 {
            return Err(self
                .error(&loc, format!("a step does exactly one thing; this one does {count}"))
                .with_hint("use one of setPresence, clearPresence, setUserPreferredPresence, clearUserPreferredPresence, setStatusMessage, getPresence, getPresencesByUserId, request, observe"));
        }
        if observation.is_some() && (step.expect.is_some() || step.contract.is_some()) {
            return Err(self.error(&loc, "`observe` states its expectations itself; `expect` and `contract` belong to request steps"));
        }
        if observation.is_none() && step.within.is_some() {
            return Err(self.error(&loc, "`within` belongs to `observe` steps"));
        }
        let action = match (observation, actions.pop()) {
            (Some(o), _) => Action::Observe(o),
            (None, Some(request)) => {
                let expect = match step.expect {
                    None => Expect::default(),
                    Some(e) => {
                        if let Some(s) = &e.status
                            && !(100..=599).contains(&s.value)
                        {
                            return Err(self.error(
                                &s.referenced,
                                format!("{} is not an HTTP status", s.value),
                            ));
                        }
                        Expect {
                            status: e.status.map(|s| s.value),
                            error: e.error,
                            body: e.body,
                        }
                    }
                };
                Action::Send(Box::new(Exchange {
                    request,
                    expect,
                    invalid_request: step.contract == Some(ContractFile::InvalidRequest),
                }))
            }
            (None, None) => unreachable!("count == 1 above"),
        };
        Ok(Step {
            at,
            line: loc.line(),
            actor,
            delegate,
            token: step.token.unwrap_or(TokenKind::Valid),
            action,
            note: step.note,
        })
    }

    /// sessionId as sent: the acting app's id by default, an app actor's id by its name, or
    /// what was written (a literal, or null).
    fn session_id(&self, written: &Field<String>, actor: &str) -> Field<String> {
        match written {
            Field::Absent => Field::Given(format!("{{{actor}}}")),
            Field::Given(name) if self.apps.iter().any(|a| &a.name == name) => {
                Field::Given(format!("{{{name}}}"))
            }
            other => other.clone(),
        }
    }

    /// A step's user, or with `via: me` the delegated user.
    fn optional_user(
        &self,
        user: &Option<Located<String>>,
        delegate: &Option<String>,
        loc: &Loc,
    ) -> Result<String, CaseError> {
        match (user, delegate) {
            (Some(u), _) => self.user(u),
            (None, Some(d)) => Ok(d.clone()),
            (None, None) => Err(self.error(loc, "which user? add `user: <name>`")),
        }
    }
}

fn is_actor_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn put(body: &mut Map<String, Value>, key: &str, field: &Field<String>) {
    match field {
        Field::Absent => {}
        Field::Null => {
            body.insert(key.to_owned(), Value::Null);
        }
        Field::Given(v) => {
            body.insert(key.to_owned(), Value::String(v.clone()));
        }
    }
}

fn json_headers(has_body: bool) -> Vec<(String, String)> {
    if has_body {
        vec![("Content-Type".to_owned(), "application/json".to_owned())]
    } else {
        Vec::new()
    }
}
