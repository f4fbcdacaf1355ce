//! The presence resources a subscription can name: `communications/presences/{id}` for one user and
//! `communications/presences?$filter=id in ('{id}',...)` for up to 650 (both with or without the
//! leading slash, the query also percent-encoded as Graph's own notifications write it).

use std::fmt;

use percent_encoding::percent_decode_str;

use crate::model::{UserId, parse_guid_any_case};

/// The most users one subscription may name ("A maximum of 650 users can be subscribed in a single
/// subscription").
pub(crate) const MAX_USERS: usize = 650;

/// A subscribed presence resource: the users it watches, in the order named, without repeats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresenceResource {
    users: Vec<UserId>,
    /// The text the subscriber sent, given back in the subscription as Graph does.
    text: String,
}

/// Why a `resource` is not a presence resource a subscription may name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResourceError {
    #[error(
        "resource '{0}' is not a presence resource: use communications/presences/{{id}} or communications/presences?$filter=id in ('{{id}}',...)"
    )]
    NotPresence(String),
    #[error("resource '{resource}': '{id}' is not a user id (a GUID)")]
    NotAGuid { resource: String, id: String },
    #[error("resource '{0}' names no user")]
    NoUsers(String),
    #[error("resource names {0} users; a subscription takes at most {MAX_USERS}")]
    TooManyUsers(usize),
}

impl PresenceResource {
    /// Parses a subscription's `resource`.
    pub fn parse(text: &str) -> Result<Self, ResourceError> {
        let not_presence = || ResourceError::NotPresence(text.to_owned());
        let path = text.strip_prefix('/').unwrap_or(text);
        let rest =
            strip_prefix_ignore_case(path, "communications/presences").ok_or_else(not_presence)?;
        let ids = if let Some(id) = rest.strip_prefix('/') {
            vec![id.to_owned()]
        } else if let Some(query) = rest.strip_prefix('?') {
            filter_ids(query).ok_or_else(not_presence)?
        } else {
            return Err(not_presence());
        };
        let mut users: Vec<UserId> = Vec::with_capacity(ids.len());
        for id in ids {
            let guid = parse_guid_any_case(&id).ok_or_else(|| ResourceError::NotAGuid {
                resource: text.to_owned(),
                id: id.clone(),
            })?;
            let user = UserId::from_guid(guid);
            if !users.contains(&user) {
                users.push(user);
            }
        }
        if users.is_empty() {
            return Err(ResourceError::NoUsers(text.to_owned()));
        }
        if users.len() > MAX_USERS {
            return Err(ResourceError::TooManyUsers(users.len()));
        }
        Ok(PresenceResource {
            users,
            text: text.to_owned(),
        })
    }

    /// The users watched.
    pub fn users(&self) -> &[UserId] {
        &self.users
    }

    pub fn watches(&self, user: &UserId) -> bool {
        self.users.contains(user)
    }

    /// The `resource` of a notification about one of the users: the single-user form, as Graph's
    /// presence page shows it.
    pub(crate) fn notification_resource(user: &UserId) -> String {
        format!("communications/presences/{user}")
    }
}

impl fmt::Display for PresenceResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The ids of `$filter=id in ('a','b')`, the query percent-decoded (and `+` read as a space) first.
/// `None` when the query is not that filter.
fn filter_ids(query: &str) -> Option<Vec<String>> {
    let plus_as_space = query.replace('+', " ");
    let decoded = percent_decode_str(&plus_as_space).decode_utf8().ok()?;
    let filter = strip_prefix_ignore_case(decoded.trim(), "$filter=")?.trim();
    let after_id = strip_prefix_ignore_case(filter, "id")?.trim_start();
    let after_in = strip_prefix_ignore_case(after_id, "in")?.trim_start();
    let list = after_in.strip_prefix('(')?.strip_suffix(')')?.trim();
    if list.is_empty() {
        return Some(Vec::new());
    }
    list.split(',')
        .map(|item| {
            let item = item.trim();
            item.strip_prefix('\'')
                .and_then(|i| i.strip_suffix('\''))
                .map(str::to_owned)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "11111111-2222-4333-8444-555555555555";
    const B: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";

    #[test]
    fn single_and_filtered_forms_parse_to_their_users() {
        let one = PresenceResource::parse(&format!("/communications/presences/{A}")).unwrap();
        assert_eq!(one.users(), &[UserId::new(A)]);
        let two = PresenceResource::parse(&format!(
            "communications/presences?$filter=id in ('{A}', '{B}')"
        ))
        .unwrap();
        assert_eq!(two.users(), &[UserId::new(A), UserId::new(B)]);
        // As Graph's own notifications write it: `+` for spaces, quotes percent-encoded.
        let encoded = PresenceResource::parse(&format!(
            "communications/presences?$filter=id+in+(%27{A}%27)"
        ))
        .unwrap();
        assert_eq!(encoded.users(), &[UserId::new(A)]);
        // Upper-case GUIDs name the same user; repeats count once.
        let upper = A.to_uppercase();
        let repeated = PresenceResource::parse(&format!(
            "communications/presences?$filter=id in ('{A}','{upper}')"
        ))
        .unwrap();
        assert_eq!(repeated.users(), &[UserId::new(A)]);
    }

    #[test]
    fn other_resources_and_bad_ids_are_refused() {
        for text in [
            "me/mailFolders('Inbox')/messages",
            "communications/presences",
            "/users/{A}/presence",
            "communications/presences?$filter=id eq 'x'",
            "communications/presences?$filter=id in 'x'",
        ] {
            assert!(
                matches!(
                    PresenceResource::parse(text),
                    Err(ResourceError::NotPresence(_))
                ),
                "{text}"
            );
        }
        assert!(matches!(
            PresenceResource::parse("communications/presences/not-a-guid"),
            Err(ResourceError::NotAGuid { .. })
        ));
        assert!(matches!(
            PresenceResource::parse("communications/presences?$filter=id in ()"),
            Err(ResourceError::NoUsers(_))
        ));
    }

    #[test]
    fn at_most_650_users() {
        let ids = |n: usize| {
            (0..n)
                .map(|i| format!("'{:08x}-0000-4000-8000-000000000000'", i))
                .collect::<Vec<_>>()
                .join(",")
        };
        let ok = format!("communications/presences?$filter=id in ({})", ids(650));
        assert_eq!(PresenceResource::parse(&ok).unwrap().users().len(), 650);
        let over = format!("communications/presences?$filter=id in ({})", ids(651));
        assert_eq!(
            PresenceResource::parse(&over),
            Err(ResourceError::TooManyUsers(651))
        );
    }
}
