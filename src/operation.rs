//! The Graph presence operations, described once: each one's name, method, read or write, and
//! the path forms Graph reaches it by. The case loader, the request renderer and `cases lint`
//! all read this table; adding an operation is a row here, its body in `case::Request`, and its
//! cases.

use std::fmt;

/// One Graph presence operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    GetPresence,
    GetPresencesByUserId,
    SetPresence,
    ClearPresence,
    SetUserPreferredPresence,
    ClearUserPreferredPresence,
    SetStatusMessage,
}

/// Which of Graph's path forms reaches a user's presence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Via {
    /// `/users/{id}/presence`
    #[default]
    Users,
    /// `/me/presence` (a signed-in user).
    Me,
    /// `/communications/presences/{id}`
    Communications,
}

/// How an operation is reached.
struct Row {
    operation: Operation,
    name: &'static str,
    method: &'static str,
    reads: bool,
    /// Bound to a user's presence (all three path forms), or to `/communications`.
    per_user: bool,
}

const TABLE: [Row; 7] = [
    row(Operation::SetPresence, "setPresence", "POST", false, true),
    row(
        Operation::ClearPresence,
        "clearPresence",
        "POST",
        false,
        true,
    ),
    row(
        Operation::SetUserPreferredPresence,
        "setUserPreferredPresence",
        "POST",
        false,
        true,
    ),
    row(
        Operation::ClearUserPreferredPresence,
        "clearUserPreferredPresence",
        "POST",
        false,
        true,
    ),
    row(
        Operation::SetStatusMessage,
        "setStatusMessage",
        "POST",
        false,
        true,
    ),
    row(Operation::GetPresence, "getPresence", "GET", true, true),
    row(
        Operation::GetPresencesByUserId,
        "getPresencesByUserId",
        "POST",
        true,
        false,
    ),
];

const fn row(
    operation: Operation,
    name: &'static str,
    method: &'static str,
    reads: bool,
    per_user: bool,
) -> Row {
    Row {
        operation,
        name,
        method,
        reads,
        per_user,
    }
}

impl Operation {
    /// Every operation, in the table's order.
    pub fn all() -> impl Iterator<Item = Operation> {
        TABLE.iter().map(|r| r.operation)
    }

    fn row(self) -> &'static Row {
        TABLE
            .iter()
            .find(|r| r.operation == self)
            .unwrap_or_else(|| unreachable!("every operation has a row"))
    }

    /// Graph's name for it, as case files and reports write it (`setPresence`).
    pub fn name(self) -> &'static str {
        self.row().name
    }

    #[cfg(test)]
    fn from_name(name: &str) -> Option<Operation> {
        TABLE.iter().find(|r| r.name == name).map(|r| r.operation)
    }

    pub fn method(self) -> &'static str {
        self.row().method
    }

    /// Reads change nothing; a case sends them as its `observer` unless it says otherwise.
    pub fn reads(self) -> bool {
        self.row().reads
    }

    /// The path relative to the version root: `user` is the id (or an `{actor}` placeholder)
    /// for the `users` and `communications` forms; `/me` needs none.
    pub fn path(self, via: Via, user: &str) -> String {
        if !self.row().per_user {
            return format!("/communications/{}", self.name());
        }
        let base = match via {
            Via::Users => format!("/users/{user}/presence"),
            Via::Me => "/me/presence".to_owned(),
            Via::Communications => format!("/communications/presences/{user}"),
        };
        match self {
            Operation::GetPresence => base,
            _ => format!("{base}/{}", self.name()),
        }
    }

    /// Every name, for hints (`setPresence, clearPresence, ...`).
    pub fn names() -> String {
        TABLE.iter().map(|r| r.name).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_has_one_row_and_its_paths() {
        assert_eq!(Operation::all().count(), 7);
        for op in Operation::all() {
            assert_eq!(Operation::from_name(op.name()), Some(op));
        }
        assert_eq!(
            Operation::SetPresence.path(Via::Users, "{alice}"),
            "/users/{alice}/presence/setPresence"
        );
        assert_eq!(
            Operation::GetPresence.path(Via::Communications, "x"),
            "/communications/presences/x"
        );
        assert_eq!(
            Operation::ClearPresence.path(Via::Me, "ignored"),
            "/me/presence/clearPresence"
        );
        assert_eq!(
            Operation::GetPresencesByUserId.path(Via::Me, "ignored"),
            "/communications/getPresencesByUserId"
        );
        assert!(Operation::GetPresence.reads() && !Operation::SetStatusMessage.reads());
    }
}
