//! Scale of the reference server's state: memory for a million users with two sessions each,
//! and the cost of expiring state, which goes through an ordered index instead of a scan.
//! `cargo bench --bench server`. (HTTP throughput: `scripts/bench-http.sh`.)

use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use std::mem::size_of;

use presence_conformance::model::{
    AppSession, Command, PreferredPresence, PresenceStore, Profile, SessionId, StatusMessage,
    UserId, UserPresence, session_request,
};

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn user(i: usize) -> UserId {
    UserId::new(&format!("{:08x}-0000-4000-8000-{:012x}", i >> 16, i))
}

fn main() {
    println!(
        "sizes: UserPresence {} B (inline: 2 sessions of {} B, preferred {} B, status {} B), UserId {} B, SessionId {} B, Timestamp {} B",
        size_of::<UserPresence>(),
        size_of::<AppSession>(),
        size_of::<Option<PreferredPresence>>(),
        size_of::<Option<Box<StatusMessage>>>(),
        size_of::<UserId>(),
        size_of::<SessionId>(),
        size_of::<Timestamp>(),
    );
    let t0: Timestamp = "2026-01-05T09:00:00Z".parse().expect("a constant instant");
    let apps = [
        SessionId::new("11111111-2222-4333-8444-555555555555"),
        SessionId::new("66666666-7777-4888-9999-aaaaaaaaaaaa"),
    ];
    let busy =
        session_request(Profile::V1_0, "Busy", "InACall", Some("PT4H")).expect("a valid pair");
    let available = session_request(Profile::V1_0, "Available", "Available", Some("PT1H"))
        .expect("a valid pair");

    let users = 1_000_000;
    let before = rss_mib();
    let started = Instant::now();
    let mut store = PresenceStore::new();
    for i in 0..users {
        let id = user(i);
        for (app, request) in apps.iter().zip([busy, available]) {
            let command = Command::SetPresence {
                session: app.clone(),
                request,
            };
            store.apply(t0, &id, command).expect("a fresh session");
        }
    }
    let built = started.elapsed();
    let after = rss_mib();
    println!(
        "memory: {users} users x 2 sessions: {:.0} MiB RSS ({:.0} bytes a user), built in {built:?} ({:.0} writes/s)",
        after - before,
        (after - before) * 1024.0 * 1024.0 / users as f64,
        (2 * users) as f64 / built.as_secs_f64()
    );

    // 1,000 users whose sessions expire earlier than everyone else's.
    let short = session_request(Profile::V1_0, "Away", "Away", Some("PT5M")).expect("a valid pair");
    for i in 0..1_000 {
        let command = Command::SetPresence {
            session: SessionId::new("77777777-0000-4000-8000-000000000000"),
            request: short,
        };
        store
            .apply(t0, &user(i * 997), command)
            .expect("a fresh session");
    }
    let started = Instant::now();
    let settled = store.settle(t0 + SignedDuration::from_mins(6));
    let elapsed = started.elapsed();
    println!(
        "expiry: settling {settled} users due among {} took {elapsed:?} (an ordered index, no scan)",
        store.user_count()
    );
    let started = Instant::now();
    let nothing = store.settle(t0 + SignedDuration::from_mins(7));
    println!(
        "expiry: a settle with nothing due took {:?} ({nothing} users)",
        started.elapsed()
    );
    let started = Instant::now();
    let all = store.settle(t0 + SignedDuration::from_hours(5));
    println!(
        "expiry: settling all {all} users at once took {:?}; {} sessions left; RSS now {:.0} MiB",
        started.elapsed(),
        store.session_count(),
        rss_mib() - before
    );
}
