//! Graph's presence paths, parsed once: which presence resource a request's path names, with
//! its version segment, user and action as they came.
//!
//! The server answers these paths from this parse rather than from a route table: axum's router
//! allocates every path parameter (a key and a percent-decoded value), a matched-path extension
//! and its map, and boxes each route's future, which cost a write more instructions than reading,
//! checking and applying it (`docs/perf/server.md`). Every other path (the token endpoint, the
//! control protocol, anything unknown) is still routed by axum.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

use crate::operation::segment::{COMMUNICATIONS, ME, PRESENCE, PRESENCES, USERS};
use crate::operation::{Binding, Operation, Via};

/// A path of the form Graph serves presence under: `/{version}/{resource}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GraphPath<'p> {
    /// The first segment, as it came: `v1.0`, `beta`, or another (Graph's "Invalid version").
    pub version: &'p str,
    /// Whose presence: `None` for an operation bound to `/communications`.
    pub presence: Option<PresenceOf<'p>>,
    /// The operation the path names, or an action's segment that names none (as it came).
    pub operation: Result<Operation, Segment<'p>>,
}

/// Whose presence: one of Graph's three path forms, with the `{id}` segment where it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PresenceOf<'p> {
    /// `/users/{id}/presence`
    User(Segment<'p>),
    /// `/me/presence`
    Me,
    /// `/communications/presences/{id}`
    Communications(Segment<'p>),
}

impl PresenceOf<'_> {
    /// The path form, as the case format names it.
    pub(crate) fn via(&self) -> Via {
        match self {
            PresenceOf::User(_) => Via::Users,
            PresenceOf::Me => Via::Me,
            PresenceOf::Communications(_) => Via::Communications,
        }
    }
}

/// One path segment as it came, percent-encoded or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment<'p>(&'p str);

impl<'p> Segment<'p> {
    /// The segment as it came.
    pub(crate) fn raw(&self) -> &'p str {
        self.0
    }

    /// The segment percent-decoded, as a router hands a path parameter over; bytes that do not
    /// decode to UTF-8 are replaced (such a segment names no user and no action).
    pub(crate) fn decoded(&self) -> Cow<'p, str> {
        if self.0.bytes().any(|b| b == b'%') {
            percent_decode_str(self.0).decode_utf8_lossy()
        } else {
            Cow::Borrowed(self.0)
        }
    }
}

/// The segments of a path after its leading slash. A byte loop rather than `str::split`, whose
/// searcher cost the parse more than the rest of it (a path is a few dozen bytes).
struct Segments<'p>(Option<&'p str>);

impl<'p> Iterator for Segments<'p> {
    type Item = &'p str;

    fn next(&mut self) -> Option<&'p str> {
        let rest = self.0?;
        match rest.bytes().position(|b| b == b'/') {
            Some(slash) => {
                self.0 = rest.get(slash + 1..);
                rest.get(..slash)
            }
            None => {
                self.0 = None;
                Some(rest)
            }
        }
    }
}

impl<'p> GraphPath<'p> {
    /// The presence resource `path` names, or `None` for any other path. Every segment must be
    /// non-empty (so a trailing slash names nothing); the static segments are matched as they
    /// came, case and encoding included; an action's segment is looked up in the operation table
    /// as it came, then percent-decoded.
    pub(crate) fn parse(path: &'p str) -> Option<Self> {
        let mut segments = Segments(Some(path.strip_prefix('/')?));
        let version = segments.next().filter(|v| !v.is_empty())?;
        let mut next = || segments.next().filter(|s| !s.is_empty()).map(Segment);
        let presence = match next()?.0 {
            USERS => {
                let id = next()?;
                (next()?.0 == PRESENCE).then_some(PresenceOf::User(id))?
            }
            ME => (next()?.0 == PRESENCE).then_some(PresenceOf::Me)?,
            COMMUNICATIONS => match next()? {
                Segment(PRESENCES) => PresenceOf::Communications(next()?),
                action => {
                    let operation = Operation::bound(Binding::Communications, action.0)?;
                    return segments.next().is_none().then_some(GraphPath {
                        version,
                        presence: None,
                        operation: Ok(operation),
                    });
                }
            },
            _ => return None,
        };
        let operation = match segments.next() {
            None => Ok(Operation::GetPresence),
            Some(action) if !action.is_empty() => Segment(action).action(),
            Some(_) => return None,
        };
        segments.next().is_none().then_some(GraphPath {
            version,
            presence: Some(presence),
            operation,
        })
    }
}

impl<'p> Segment<'p> {
    /// The action this segment names (an action's name holds no escape: the segment as it came
    /// is nearly always the name), or the segment.
    fn action(self) -> Result<Operation, Segment<'p>> {
        if let Some(operation) = Operation::bound(Binding::PresenceAction, self.0) {
            return Ok(operation);
        }
        if !self.0.bytes().any(|b| b == b'%') {
            return Err(self);
        }
        Operation::bound(Binding::PresenceAction, &self.decoded()).ok_or(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "a0000000-0000-4000-8000-000000000001";

    fn parsed(path: &str) -> Option<(String, String)> {
        GraphPath::parse(path).map(|p| {
            let shown = format!("{:?} {:?}", p.presence, p.operation);
            (p.version.to_owned(), shown)
        })
    }

    #[test]
    fn graph_presence_paths_name_their_operation() {
        fn named(path: &str) -> Option<(Option<PresenceOf<'_>>, Result<Operation, Segment<'_>>)> {
            GraphPath::parse(path).map(|p| (p.presence, p.operation))
        }
        let user = Some(PresenceOf::User(Segment(USER)));
        assert_eq!(
            named(&format!("/v1.0/users/{USER}/presence")),
            Some((user, Ok(Operation::GetPresence)))
        );
        assert_eq!(
            named(&format!("/beta/users/{USER}/presence/setPresence")),
            Some((user, Ok(Operation::SetPresence)))
        );
        assert_eq!(
            named(&format!("/beta/users/{USER}/presence/set%50resence")),
            Some((user, Ok(Operation::SetPresence)))
        );
        assert_eq!(
            named(&format!("/beta/users/{USER}/presence/setpresence")),
            Some((user, Err(Segment("setpresence"))))
        );
        assert_eq!(
            named(&format!("/beta/users/{USER}/presence/getPresencesByUserId")),
            Some((user, Err(Segment("getPresencesByUserId"))))
        );
        assert_eq!(
            named("/v1.0/me/presence"),
            Some((Some(PresenceOf::Me), Ok(Operation::GetPresence)))
        );
        assert_eq!(
            named("/v1.0/me/presence/clearLocation"),
            Some((Some(PresenceOf::Me), Ok(Operation::ClearLocation)))
        );
        assert_eq!(
            named(&format!(
                "/v1.0/communications/presences/{USER}/setStatusMessage"
            )),
            Some((
                Some(PresenceOf::Communications(Segment(USER))),
                Ok(Operation::SetStatusMessage)
            ))
        );
        assert_eq!(
            named("/v2.0/communications/getPresencesByUserId"),
            Some((None, Ok(Operation::GetPresencesByUserId)))
        );
        assert_eq!(
            GraphPath::parse("/v2.0/me/presence").map(|p| p.version),
            Some("v2.0")
        );
    }

    /// Every presence operation's path, as the table renders it, parses back to the operation;
    /// the subscription operations' paths are no presence path (the router mounts them).
    #[test]
    fn rendered_paths_parse_back() {
        for operation in Operation::all() {
            if operation.on_subscriptions() {
                let path = format!("/v1.0{}", operation.path(Via::Users, USER));
                assert_eq!(GraphPath::parse(&path), None, "{path}");
                continue;
            }
            for via in [Via::Users, Via::Me, Via::Communications] {
                let path = format!("/v1.0{}", operation.path(via, USER));
                let parsed =
                    GraphPath::parse(&path).map(|p| (p.operation, p.presence.map(|o| o.via())));
                let presence = (operation.binding() != Binding::Communications).then_some(via);
                assert_eq!(parsed, Some((Ok(operation), presence)), "{path}");
            }
        }
    }

    #[test]
    fn other_paths_name_no_presence() {
        for path in [
            "",
            "/",
            "//users/x/presence",
            "/v1.0",
            "/v1.0/",
            "/v1.0/users",
            "/v1.0/users//presence",
            "/v1.0/users/x",
            "/v1.0/users/x/presence/",
            "/v1.0/users/x/presences",
            "/v1.0/users/x/presence/setPresence/more",
            "/v1.0/users/x/presence/setPresence/",
            "/v1.0/me",
            "/v1.0/me/presence/",
            "/v1.0/Me/presence",
            "/v1.0/us%65rs/x/presence",
            "/v1.0/communications",
            "/v1.0/communications/presences",
            "/v1.0/communications/presences/",
            "/v1.0/communications/getPresencesByUserId/",
            "/v1.0/communications/getPresencesByUserId/x",
            "/v1.0/communications/other",
            "/v1.0/communications/getPresence",
            "/v1.0/communications/setPresence",
            "/tenant/oauth2/v2.0/token",
            "/_conformance/clock",
            "/_conformance/clock/advance",
            "v1.0/me/presence",
        ] {
            assert_eq!(parsed(path), None, "{path:?}");
        }
    }

    #[test]
    fn segments_decode_as_a_router_decodes_its_parameters() {
        assert_eq!(Segment("a%2Db").decoded(), "a-b");
        assert_eq!(Segment("..%2F..%2Fetc").decoded(), "../../etc");
        assert_eq!(Segment("%ZZ").decoded(), "%ZZ");
        assert_eq!(Segment("a%FFb").decoded(), "a\u{fffd}b");
        assert!(matches!(Segment(USER).decoded(), Cow::Borrowed(_)));
    }
}
