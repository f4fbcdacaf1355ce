//! Reading case files: YAML into `file.rs` types, then every check a reviewer would make, each
//! failure pointing at the file, line and column, with a hint where one helps.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::SignedDuration;

use super::error::CaseError;
use super::file::*;
use super::model::*;
use super::request::{RawRequest, Request};
use crate::catalogue::{Aspect, Catalogue};
use crate::model::{Profile, parse_edm_duration};
use crate::operation::{Operation, Via};

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
    check(name, path, text, file)
}

/// A case file already in memory (a generated one), checked exactly as a written one is; its
/// steps have no line numbers. `explore` tests that the written text loads to the same case.
pub(crate) fn load_value(name: &str, path: &Path, file: CaseFile) -> Result<Case, CaseError> {
    check(name, path, "", file)
}

/// The semantic checks of a parsed case file; `text` is the file's text, for error frames.
fn check(name: &str, path: &Path, text: &str, file: CaseFile) -> Result<Case, CaseError> {
    let mut checker = Checker {
        path,
        text,
        catalogue: Catalogue::try_bundled()
            .map_err(|e| CaseError::at(path, text, 1, 1, format!("no rule catalogue: {e}")))?,
        rules: Vec::new(),
        users: file.users.iter().map(|u| u.value.clone()).collect(),
        apps: apps_of(&file),
        subscriptions: std::cell::RefCell::default(),
    };
    checker.rules = checker.case_rules(&file.rules)?;
    checker.case(name, file)
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
            scopes: app
                .scopes
                .clone()
                .unwrap_or_else(|| DEFAULT_SCOPES.iter().map(|r| r.to_string()).collect()),
        })
        .collect();
    if !apps.iter().any(|a| a.name == OBSERVER) {
        apps.push(AppActor {
            name: OBSERVER.to_owned(),
            roles: vec!["Presence.Read.All".to_owned()],
            scopes: DEFAULT_SCOPES.iter().map(|r| r.to_string()).collect(),
        });
    }
    apps
}

struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    catalogue: &'a Catalogue,
    /// The case's rules, checked, its primary rule first.
    rules: Vec<String>,
    users: Vec<String>,
    apps: Vec<AppActor>,
    /// The subscriptions created by the steps checked so far, by name.
    subscriptions: std::cell::RefCell<Vec<String>>,
}

/// The name a createSubscription step gives its subscription unless it says otherwise.
const DEFAULT_SUBSCRIPTION: &str = "subscription";

pub(crate) type Loc = serde_saphyr::Location;

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
            rules: self.rules.clone(),
            profiles,
            needs_virtual_clock: file.requires.contains(&RequirementFile::VirtualClock),
            needs_caller: file.requires.contains(&RequirementFile::Credentials),
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

    /// The rule ids a case names: at least one, each in the catalogue, none twice.
    fn case_rules(&self, written: &[Located<String>]) -> Result<Vec<String>, CaseError> {
        if written.is_empty() {
            return Err(CaseError::at(
                self.path,
                self.text,
                1,
                1,
                "the case names no rule".into(),
            )
            .with_hint("add `rules: [<id>, ...]` with the ids it checks, from spec/rules.yaml (`presence-conformance rules`)"));
        }
        let mut rules: Vec<String> = Vec::new();
        for id in written {
            self.rule_id(id)?;
            if rules.contains(&id.value) {
                return Err(self.error(
                    &id.referenced,
                    format!("rule '{}' is listed twice", id.value),
                ));
            }
            rules.push(id.value.clone());
        }
        Ok(rules)
    }

    fn rule_id(&self, id: &Located<String>) -> Result<RuleRef, CaseError> {
        match self.catalogue.get(&id.value) {
            Some(rule) => Ok(RuleRef {
                id: rule.id.clone(),
                level: rule.level,
            }),
            None => Err(self
                .error(
                    &id.referenced,
                    format!("unknown rule '{}' (not in spec/rules.yaml)", id.value),
                )
                .with_suggestion(&id.value, self.catalogue.ids())),
        }
    }

    /// The rules a step's expectations rest on: the step's rule or the case's primary rule; for
    /// a refusal's status code, error codes and sequence numbers, the first of those that checks
    /// them, else the catalogue's default.
    fn step_rules(&self, step_rule: Option<&Located<String>>) -> Result<StepRules, CaseError> {
        let step_rule = step_rule.map(|r| self.rule_id(r)).transpose()?;
        let listed = step_rule
            .iter()
            .map(|r| r.id.as_str())
            .chain(self.rules.iter().map(String::as_str));
        let claimed = |aspect: Aspect| {
            let rule = listed
                .clone()
                .filter_map(|id| self.catalogue.get(id))
                .find(|r| r.checks.contains(&aspect))
                .or_else(|| self.catalogue.default_for(aspect).ok());
            rule.map_or_else(
                || unreachable!("the catalogue has a default for every aspect"),
                |r| RuleRef {
                    id: r.id.clone(),
                    level: r.level,
                },
            )
        };
        let status = claimed(Aspect::Status);
        let error_code = claimed(Aspect::ErrorCode);
        let sequence_number = claimed(Aspect::SequenceNumber);
        let general = match step_rule {
            Some(rule) => rule,
            None => self.primary_rule(),
        };
        Ok(StepRules {
            general,
            status,
            error_code,
            sequence_number,
        })
    }

    /// The case's first rule (`case_rules` made sure there is one, in the catalogue).
    fn primary_rule(&self) -> RuleRef {
        let rule = self.rules.first().and_then(|id| self.catalogue.get(id));
        rule.map_or_else(
            || unreachable!("case_rules checked the primary rule"),
            |r| RuleRef {
                id: r.id.clone(),
                level: r.level,
            },
        )
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
        let rules = self.step_rules(step.rule.as_ref())?;
        let delegate = step.delegate.as_ref().map(|d| self.user(d)).transpose()?;
        let kind = self.step_kind(&step, &loc)?;
        let actor = self.actor(&step, kind, &loc)?;
        let action = match kind {
            StepKind::Observe => {
                if step.expect.is_some() || step.contract.is_some() {
                    return Err(self.error(&loc, "`observe` states its expectations itself; `expect` and `contract` belong to request steps"));
                }
                Action::Observe(self.observation(&step)?)
            }
            StepKind::Notification => {
                if step.expect.is_some() || step.contract.is_some() {
                    return Err(self.error(&loc, "`notified` and `noNotification` state their expectations themselves; `expect` and `contract` belong to request steps"));
                }
                Action::Notification(self.notification(&step)?)
            }
            StepKind::Send(operation) => {
                if step.within.is_some() {
                    return Err(
                        self.error(&loc, "`within` belongs to `observe` and `notified` steps")
                    );
                }
                let via = self.via(&step, &delegate, &loc)?;
                self.expiration(&step, &loc)?;
                self.sent_values(&step, &loc)?;
                let request = match (operation, step.operations().first()) {
                    (Some(_), Some((_, parameters))) => parameters.request(&StepContext {
                        checker: self,
                        actor: &actor,
                        delegate: &delegate,
                        loc: &loc,
                        at,
                    })?,
                    _ => self.raw(&step)?,
                };
                Action::Send(Box::new(Exchange {
                    request,
                    via,
                    expect: self.expect(step.expect)?,
                    invalid_request: step.contract == Some(ContractFile::InvalidRequest),
                }))
            }
        };
        Ok(Step {
            at,
            line: loc.line(),
            actor,
            delegate,
            token: step.token.unwrap_or(TokenKind::Valid),
            action,
            rules,
            note: step.note,
        })
    }

    /// An `expirationDuration` that is not ISO 8601 is a slip in the case file, caught here with
    /// a frame, unless the step sends it on purpose (`contract: invalid-request`).
    fn expiration(&self, step: &StepFile, loc: &Loc) -> Result<(), CaseError> {
        if step.contract == Some(ContractFile::InvalidRequest) {
            return Ok(());
        }
        let written = [
            step.set_presence.as_ref().map(|s| &s.expiration_duration),
            step.set_user_preferred_presence
                .as_ref()
                .map(|s| &s.expiration_duration),
        ];
        for field in written.into_iter().flatten() {
            if let Field::Given(text) = field
                && parse_edm_duration(text).is_err()
            {
                let (line, column) = self.find_value(loc.line(), "expirationDuration", text);
                let error = CaseError::at(
                    self.path,
                    self.text,
                    line,
                    column,
                    format!(
                        "expirationDuration: '{text}' is not an ISO 8601 duration such as PT30M \
                         (mark the step `contract: invalid-request` if that is the point)"
                    ),
                );
                return Err(match iso_guess(text) {
                    Some(fix) => error.with_hint(&format!("did you mean {fix}?")),
                    None => error,
                });
            }
        }
        Ok(())
    }

    /// An `availability` or `activity` that setPresence or setUserPreferredPresence sends is a
    /// value of Graph's enumerations, spelt as Graph spells it (PascalCase, or the camelCase the
    /// 2025 resource page lists): `Awy` or `InAcall` is a slip in the case file, caught here
    /// with a frame, unless the step sends it on purpose (`contract: invalid-request`).
    fn sent_values(&self, step: &StepFile, loc: &Loc) -> Result<(), CaseError> {
        use crate::model::{Activity, Availability};
        if step.contract == Some(ContractFile::InvalidRequest) {
            return Ok(());
        }
        let written = [
            step.set_presence
                .as_ref()
                .map(|s| (&s.availability, &s.activity)),
            step.set_user_preferred_presence
                .as_ref()
                .map(|s| (&s.availability, &s.activity)),
        ];
        let availabilities: Vec<&str> = Availability::ALL.iter().map(|v| v.as_str()).collect();
        let activities: Vec<&str> = Activity::ALL.iter().map(|v| v.as_str()).collect();
        for (availability, activity) in written.into_iter().flatten() {
            self.sent_value(availability, "availability", &availabilities, loc)?;
            self.sent_value(activity, "activity", &activities, loc)?;
        }
        Ok(())
    }

    /// One sent enumeration value: one of `values` in PascalCase or camelCase.
    fn sent_value(
        &self,
        written: &Field<String>,
        kind: &str,
        values: &[&str],
        loc: &Loc,
    ) -> Result<(), CaseError> {
        let Field::Given(text) = written else {
            return Ok(());
        };
        if values.iter().any(|v| *v == text || camel_case(v) == *text) {
            return Ok(());
        }
        let (line, column) = self.find_value(loc.line(), kind, text);
        let error = CaseError::at(
            self.path,
            self.text,
            line,
            column,
            format!(
                "'{text}' is not a known {kind} value \
                 (mark the step `contract: invalid-request` if that is the point)"
            ),
        );
        // A value in another letter case (`InAcall`, `BUSY`) is the value it spells.
        Err(match values.iter().find(|v| v.eq_ignore_ascii_case(text)) {
            Some(meant) => error.with_hint(&format!("did you mean '{meant}'?")),
            None => error.with_suggestion(text, values.iter().copied()),
        })
    }

    /// Where `key: value` is written, from line `from` on: (line, column of the value).
    fn find_value(&self, from: u64, key: &str, value: &str) -> (u64, u64) {
        let skip = usize::try_from(from.saturating_sub(1)).unwrap_or(0);
        for (i, line) in self.text.lines().enumerate().skip(skip) {
            if let Some(k) = line.find(key)
                && let Some(v) = line[k..].find(value)
            {
                let column = u64::try_from(k + v + 1).unwrap_or(1);
                return (u64::try_from(i + 1).unwrap_or(from), column);
            }
        }
        (from, 1)
    }

    /// What the step does: exactly one operation, raw request or observation.
    fn step_kind(&self, step: &StepFile, loc: &Loc) -> Result<StepKind, CaseError> {
        let kinds: Vec<StepKind> = step
            .operations()
            .iter()
            .map(|(operation, _)| StepKind::Send(Some(*operation)))
            .chain(step.request.is_some().then_some(StepKind::Send(None)))
            .chain(step.observe.is_some().then_some(StepKind::Observe))
            .chain(step.notified.is_some().then_some(StepKind::Notification))
            .chain(
                step.no_notification
                    .is_some()
                    .then_some(StepKind::Notification),
            )
            .collect();
        match kinds.as_slice() {
            [kind] => Ok(*kind),
            _ => Err(self
                .error(
                    loc,
                    format!(
                        "a step does exactly one thing; this one does {}",
                        kinds.len()
                    ),
                )
                .with_hint(&format!(
                    "use one of {}, request, observe, notified, noNotification",
                    Operation::names()
                ))),
        }
    }

    /// The app that sends the step: `as`, else the observer for reads, else the only app.
    fn actor(&self, step: &StepFile, kind: StepKind, loc: &Loc) -> Result<String, CaseError> {
        if let Some(a) = &step.actor {
            return self.app(a);
        }
        let reads = match kind {
            StepKind::Observe | StepKind::Notification => true,
            StepKind::Send(operation) => operation.is_some_and(Operation::reads),
        };
        let declared: Vec<&AppActor> = self.apps.iter().filter(|a| a.name != OBSERVER).collect();
        match declared.as_slice() {
            _ if reads => Ok(OBSERVER.to_owned()),
            [only] => Ok(only.name.clone()),
            _ => Err(self
                .error(
                    loc,
                    "which app sends this request? The case has several apps",
                )
                .with_hint("add `as: <app>` to the step")),
        }
    }

    fn via(&self, step: &StepFile, delegate: &Option<String>, loc: &Loc) -> Result<Via, CaseError> {
        let via = step.via.unwrap_or_default();
        if via == Via::Me && delegate.is_none() {
            return Err(self
                .error(loc, "`via: me` needs a signed-in user")
                .with_hint("add `delegate: <user>`"));
        }
        Ok(via)
    }

    fn raw(&self, step: &StepFile) -> Result<Request, CaseError> {
        let r = present(&step.request);
        let mut body = r.body.clone();
        if r.padding > 0 {
            body.get_or_insert_with(String::new)
                .push_str(&" ".repeat(r.padding));
        }
        Ok(Request::Raw(RawRequest {
            method: r.method.to_ascii_uppercase(),
            path: r.path.clone(),
            from_root: r.from_root,
            headers: r
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            body,
        }))
    }

    fn observation(&self, step: &StepFile) -> Result<Observation, CaseError> {
        let o = present(&step.observe);
        self.known_pair(&o.availability, &o.activity)?;
        Ok(Observation {
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
        })
    }

    /// A `notified` or `noNotification` step.
    fn notification(&self, step: &StepFile) -> Result<NotificationCheck, CaseError> {
        let within = step
            .within
            .as_ref()
            .map(|w| self.duration(w, "within"))
            .transpose()?;
        let user = |u: &Option<Located<String>>| u.as_ref().map(|u| self.user(u)).transpose();
        let subscription = |s: &Option<Located<String>>| {
            s.as_ref()
                .map(|s| self.subscription(&Some(s.clone()), false))
                .transpose()
        };
        if let Some(n) = &step.no_notification {
            return Ok(NotificationCheck {
                user: user(&n.user)?,
                subscription: subscription(&n.subscription)?,
                arrives: false,
                within,
                ..NotificationCheck::default()
            });
        }
        let n = present(&step.notified);
        self.known_pair(&n.availability, &n.activity)?;
        Ok(NotificationCheck {
            user: user(&n.user)?,
            subscription: subscription(&n.subscription)?,
            arrives: true,
            availability: n.availability.as_ref().map(|a| a.value.clone()),
            activity: n.activity.as_ref().map(|a| a.value.clone()),
            client_state: n.client_state.clone(),
            lifecycle_event: n.lifecycle_event.clone(),
            within,
        })
    }

    /// An expected availability and activity, each a value Graph knows.
    fn known_pair(
        &self,
        availability: &Option<Located<String>>,
        activity: &Option<Located<String>>,
    ) -> Result<(), CaseError> {
        use crate::model::{Activity, Availability};
        let availabilities: Vec<&str> = Availability::ALL.iter().map(|v| v.as_str()).collect();
        let activities: Vec<&str> = Activity::ALL.iter().map(|v| v.as_str()).collect();
        self.known(availability, "availability", &availabilities)?;
        self.known(activity, "activity", &activities)
    }

    /// A value of a Graph enumeration, exactly as Graph spells it: `InAcall` would never equal
    /// an observed `InACall`.
    fn known(
        &self,
        written: &Option<Located<String>>,
        kind: &str,
        values: &[&str],
    ) -> Result<(), CaseError> {
        match written {
            Some(v) if !values.contains(&v.value.as_str()) => Err(self
                .error(
                    &v.referenced,
                    format!("'{}' is not a known {kind} value", v.value),
                )
                .with_suggestion(&v.value, values.iter().copied())),
            _ => Ok(()),
        }
    }

    /// A subscription by name: one created by an earlier step, or (`creates`) a new name.
    fn subscription(
        &self,
        name: &Option<Located<String>>,
        creates: bool,
    ) -> Result<String, CaseError> {
        let (written, at) = match name {
            Some(n) => (n.value.clone(), Some(n.referenced)),
            None => (DEFAULT_SUBSCRIPTION.to_owned(), None),
        };
        let mut created = self.subscriptions.borrow_mut();
        let error = |message: String| match &at {
            Some(at) => self.error(at, message),
            None => CaseError::at(self.path, self.text, 1, 1, message),
        };
        if creates {
            if !is_actor_name(&written) || self.actor_known(&written) {
                return Err(error(format!(
                    "subscription name '{written}' must be letters, digits, '-' or '_', and no actor's name"
                )));
            }
            if !created.contains(&written) {
                created.push(written.clone());
            }
            return Ok(written);
        }
        if created.contains(&written) {
            return Ok(written);
        }
        Err(error(format!(
            "no earlier step creates a subscription named '{written}'"
        ))
        .with_suggestion(&written, created.iter().map(String::as_str)))
    }

    fn actor_known(&self, name: &str) -> bool {
        self.users.iter().any(|u| u == name) || self.apps.iter().any(|a| a.name == name)
    }

    fn expect(&self, written: Option<ExpectFile>) -> Result<Expect, CaseError> {
        let Some(e) = written else {
            return Ok(Expect::default());
        };
        if let Some(s) = &e.status
            && !(100..=599).contains(&s.value)
        {
            return Err(self.error(&s.referenced, format!("{} is not an HTTP status", s.value)));
        }
        Ok(Expect {
            status: e.status.map(|s| s.value),
            error: e.error,
            body: e.body,
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

/// What a step's parameters are checked against: the case's actors, the app that sends the step
/// and the user it acts for. `file.rs` turns each operation's parameters into a `Request` with it.
pub(crate) struct StepContext<'c> {
    checker: &'c Checker<'c>,
    actor: &'c str,
    delegate: &'c Option<String>,
    loc: &'c Loc,
    at: SignedDuration,
}

impl StepCheck for StepContext<'_> {
    fn user(&self, name: &Located<String>) -> Result<String, CaseError> {
        self.checker.user(name)
    }

    fn user_or_signed_in(&self, user: &Option<Located<String>>) -> Result<String, CaseError> {
        self.checker.optional_user(user, self.delegate, self.loc)
    }

    fn session_id(&self, written: &Field<String>) -> Field<String> {
        self.checker.session_id(written, self.actor)
    }

    fn error(&self, at: &Loc, message: String) -> CaseError {
        self.checker.error(at, message)
    }

    fn at(&self) -> SignedDuration {
        self.at
    }

    fn location(&self) -> Loc {
        *self.loc
    }

    fn duration(&self, text: &str, at: &Loc, what: &str) -> Result<SignedDuration, CaseError> {
        parse_edm_duration(text).map_err(|e| self.checker.error(at, format!("{what}: {e}")))
    }

    fn subscription(
        &self,
        name: &Option<Located<String>>,
        creates: bool,
    ) -> Result<String, CaseError> {
        self.checker.subscription(name, creates)
    }
}

/// `5m`, `1h30m`, `pt30m`: the ISO 8601 duration the writer probably meant, if there is one.
fn iso_guess(text: &str) -> Option<String> {
    let upper = text.trim().to_ascii_uppercase();
    let guess = if upper.starts_with('P') {
        upper
    } else {
        format!("PT{upper}")
    };
    (guess != text && parse_edm_duration(&guess).is_ok()).then_some(guess)
}

/// `InAConferenceCall` as the 2025 resource page lists it: `inAConferenceCall`.
fn camel_case(pascal: &str) -> String {
    let mut chars = pascal.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_ascii_lowercase().to_string() + chars.as_str()
    })
}

fn is_actor_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A step key that `step_kind` found present.
fn present<T>(key: &Option<T>) -> &T {
    key.as_ref()
        .unwrap_or_else(|| unreachable!("step_kind checked that this key is present"))
}

/// What a step does, before its parameters are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StepKind {
    /// A Graph operation, or a raw request (`None`).
    Send(Option<Operation>),
    Observe,
    Notification,
}
