//! Concurrency: 64 clients write overlapping users and apps at once. At every checkpoint each
//! user's presence must equal what the pure model gives when it replays that user's acknowledged
//! writes in the order the server applied them (the `x-presence-sequence-number` each write
//! returned): no write is lost, none is applied twice, and sequence numbers strictly increase.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use presence_conformance::model::{
    Command, PresenceStore, Profile, SessionId, UserId, preferred_request, session_request,
};
use presence_conformance::server::config::ServerConfig;
use presence_conformance::server::presence::SEQUENCE_HEADER;
use presence_conformance::server::{PresenceClock, RunningServer};
use serde_json::{Value, json};

const CLIENTS: usize = 64;
const USERS: usize = 8;
const APPS: usize = 8;
const PHASES: usize = 3;

/// Calls per client per phase; `PC_CONCURRENCY_CALLS` raises it for longer runs.
fn calls_per_phase() -> usize {
    std::env::var("PC_CONCURRENCY_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120)
}

/// A write the server acknowledged, and where it landed.
struct Ack {
    user: usize,
    sequence: String,
    at: Timestamp,
    command: Command,
}

/// A small deterministic generator (no shared state between clients).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn user_id(i: usize) -> String {
    format!("a0000000-0000-4000-8000-{:012x}", i + 1)
}

const SESSION_PAIRS: [(&str, &str); 5] = [
    ("Available", "Available"),
    ("Busy", "InACall"),
    ("Busy", "InAConferenceCall"),
    ("Away", "Away"),
    ("DoNotDisturb", "Presenting"),
];
const PREFERRED_PAIRS: [(&str, &str); 6] = [
    ("Available", "Available"),
    ("Busy", "Busy"),
    ("DoNotDisturb", "DoNotDisturb"),
    ("BeRightBack", "BeRightBack"),
    ("Away", "Away"),
    ("Offline", "OffWork"),
];
const DURATIONS: [&str; 3] = ["PT5M", "PT10M", "PT1H"];

/// One random write: its action, body and the model's command for it.
fn random_write(rng: &mut Lcg) -> (usize, &'static str, Value, Command) {
    let user = rng.below(USERS);
    let app = format!("app-{}", rng.below(APPS));
    let roll = rng.below(100);
    if roll < 60 {
        let (a, b) = SESSION_PAIRS[rng.below(SESSION_PAIRS.len())];
        let d = DURATIONS[rng.below(DURATIONS.len())];
        let request = session_request(Profile::V1_0, a, b, Some(d)).unwrap();
        let body =
            json!({ "sessionId": app, "availability": a, "activity": b, "expirationDuration": d });
        let command = Command::SetPresence {
            session: SessionId::new(&app),
            request,
        };
        (user, "setPresence", body, command)
    } else if roll < 80 {
        let command = Command::ClearPresence {
            session: SessionId::new(&app),
        };
        (user, "clearPresence", json!({ "sessionId": app }), command)
    } else if roll < 95 {
        let (a, b) = PREFERRED_PAIRS[rng.below(PREFERRED_PAIRS.len())];
        let request = preferred_request(Profile::V1_0, a, b, None).unwrap();
        let body = json!({ "availability": a, "activity": b });
        (
            user,
            "setUserPreferredPresence",
            body,
            Command::SetPreferredPresence(request),
        )
    } else {
        (
            user,
            "clearUserPreferredPresence",
            json!({}),
            Command::ClearPreferredPresence,
        )
    }
}

async fn now(client: &reqwest::Client, base: &str) -> Timestamp {
    let body: Value = client
        .get(format!("{base}/_conformance/clock"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["now"].as_str().unwrap().parse().unwrap()
}

/// What each user shows at `checkpoint` when the model replays the acknowledged writes, per
/// user in the order the server applied them.
fn replay(acks: &[Ack], checkpoint: Timestamp) -> Vec<presence_conformance::model::PresenceView> {
    let mut by_user: BTreeMap<usize, Vec<&Ack>> = BTreeMap::new();
    for ack in acks {
        by_user.entry(ack.user).or_default().push(ack);
    }
    let mut model = PresenceStore::new();
    for (user, writes) in by_user.iter_mut() {
        writes.sort_by(|a, b| a.sequence.cmp(&b.sequence));
        assert!(
            writes.windows(2).all(|w| w[0].sequence < w[1].sequence),
            "user {user}: two acknowledged writes share a sequence number"
        );
        let id = UserId::new(&user_id(*user));
        for w in writes.iter() {
            model
                .apply(w.at, &id, w.command.clone())
                .unwrap_or_else(|e| {
                    panic!("user {user}: the server acknowledged a write the model refuses: {e}")
                });
        }
    }
    (0..USERS)
        .map(|u| model.view(&UserId::new(&user_id(u)), checkpoint))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_match_the_model_replayed_in_acknowledged_order() {
    let config = ServerConfig {
        no_auth: true,
        ..ServerConfig::default()
    };
    let server = RunningServer::start(config, PresenceClock::virtual_at_epoch())
        .await
        .unwrap();
    let base = server.base_url();
    let client = reqwest::Client::new();
    let acks: Arc<Mutex<Vec<Ack>>> = Arc::new(Mutex::new(Vec::new()));
    let per_phase = calls_per_phase();
    let mut total_calls = 0;

    for phase in 0..PHASES {
        let at = now(&client, &base).await;
        let mut tasks = Vec::new();
        for c in 0..CLIENTS {
            let (client, base, acks) = (client.clone(), base.clone(), acks.clone());
            tasks.push(tokio::spawn(async move {
                let mut rng = Lcg((phase * CLIENTS + c) as u64 + 1);
                for _ in 0..per_phase {
                    let (user, action, body, command) = random_write(&mut rng);
                    let url = format!("{base}/v1.0/users/{}/presence/{action}", user_id(user));
                    let response = client.post(url).json(&body).send().await.unwrap();
                    match response.status().as_u16() {
                        200 => {
                            let sequence = response.headers()[SEQUENCE_HEADER]
                                .to_str()
                                .unwrap()
                                .to_owned();
                            acks.lock().unwrap().push(Ack {
                                user,
                                sequence,
                                at,
                                command,
                            });
                        }
                        404 => assert_eq!(action, "clearPresence"),
                        other => panic!("{action} answered {other}"),
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        total_calls += CLIENTS * per_phase;

        // Checkpoint: replay every acknowledged write, per user in server order, on the model.
        let checkpoint = now(&client, &base).await;
        let expected = replay(&acks.lock().unwrap(), checkpoint);
        for (user, expected) in expected.iter().enumerate() {
            let got: Value = client
                .get(format!("{base}/v1.0/users/{}/presence", user_id(user)))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let context = format!("user {user} after phase {phase}");
            assert_eq!(
                got["availability"],
                expected.state.availability.as_str(),
                "{context}"
            );
            assert_eq!(
                got["activity"],
                expected.state.activity.as_str(),
                "{context}"
            );
            assert_eq!(
                got["sequenceNumber"],
                expected.sequence.to_string(),
                "{context}"
            );
        }
        // Let sessions fade and expire between phases.
        client
            .post(format!("{base}/_conformance/clock/advance"))
            .json(&json!({ "by": "PT4M" }))
            .send()
            .await
            .unwrap();
    }
    assert_eq!(total_calls, PHASES * CLIENTS * per_phase);
    server.shutdown().await;
}
