//! HTTP tests of presence subscriptions on the reference server, with the runner's webhook
//! receiver on 127.0.0.1:0: create (validation handshake, limits, 409, app tokens), read, renew,
//! delete, and the notifications a write and the clock's timers send. Also servers that are
//! deliberately wrong in one way each, to show these checks notice.

use presence_conformance::notifications::Faults;
use presence_conformance::notifications::receiver::{Received, Receiver};
use presence_conformance::server::config::ServerConfig;
use presence_conformance::server::{AppState, PresenceClock, RunningServer};
use serde_json::{Value, json};

const USER: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const APP: &str = "11111111-2222-4333-8444-555555555555";
const SECRET: &str = "local-development-secret";
/// The virtual clock's start (`VIRTUAL_EPOCH`).
const EPOCH: &str = "2026-01-05T09:00:00Z";

struct Env {
    server: RunningServer,
    receiver: Receiver,
    client: reqwest::Client,
    delegated: String,
}

async fn start_with(faults: Faults, rich: bool) -> Env {
    let state = AppState::with_notification_faults(
        ServerConfig::default(),
        PresenceClock::virtual_at_epoch(),
        faults,
    );
    let server = RunningServer::start_state_on("127.0.0.1:0".parse().unwrap(), state)
        .await
        .unwrap();
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap(), rich)
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let delegated = token(&server, &client, "password").await;
    Env {
        server,
        receiver,
        client,
        delegated,
    }
}

async fn start() -> Env {
    start_with(Faults::default(), false).await
}

async fn token(server: &RunningServer, client: &reqwest::Client, grant: &str) -> String {
    let tenant = &server.state().config.tenant_id;
    let mut form = vec![
        ("grant_type", grant),
        ("client_id", APP),
        ("client_secret", SECRET),
    ];
    if grant == "password" {
        form.extend([
            ("scope", "Presence.Read.All"),
            ("username", "adele@contoso.test"),
            ("password", "local-development-password"),
        ]);
    } else {
        form.push(("scope", "https://graph.microsoft.com/.default"));
    }
    let body: Value = client
        .post(format!("{}/{tenant}/oauth2/v2.0/token", server.base_url()))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// `EPOCH` plus `minutes`, as RFC 3339.
fn at(minutes: i64) -> String {
    let epoch: jiff::Timestamp = EPOCH.parse().unwrap();
    (epoch + jiff::SignedDuration::from_mins(minutes)).to_string()
}

impl Env {
    fn subscription(&self, edit: impl FnOnce(&mut Value)) -> Value {
        let mut body = json!({
            "changeType": "updated",
            "notificationUrl": self.receiver.notification_url(),
            "resource": format!("/communications/presences/{USER}"),
            "expirationDateTime": at(30),
            "clientState": "secret-state",
        });
        edit(&mut body);
        body
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call_as(&self.delegated.clone(), method, path, body)
            .await
    }

    async fn call_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.server.base_url()))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn subscribe(&self, edit: impl FnOnce(&mut Value)) -> (u16, Value) {
        let body = self.subscription(edit);
        self.call(reqwest::Method::POST, "/v1.0/subscriptions", Some(body))
            .await
    }

    async fn set_presence(&self, availability: &str, activity: &str, duration: &str) {
        let app = token(&self.server, &self.client, "client_credentials").await;
        let (status, _) = self
            .call_as(
                &app,
                reqwest::Method::POST,
                &format!("/v1.0/users/{USER}/presence/setPresence"),
                Some(json!({
                    "sessionId": APP,
                    "availability": availability,
                    "activity": activity,
                    "expirationDuration": duration,
                })),
            )
            .await;
        assert_eq!(status, 200);
    }

    async fn advance(&self, by: &str) {
        let (status, _) = self
            .call(
                reqwest::Method::POST,
                "/_conformance/clock/advance",
                Some(json!({ "by": by })),
            )
            .await;
        assert_eq!(status, 200);
    }

    /// What arrived at the notification URL: (availability or "-", clientState or "-").
    fn states(&self) -> Vec<String> {
        self.receiver
            .received()
            .iter()
            .filter(|r| r.endpoint == "notifications")
            .map(summary)
            .collect()
    }
}

fn summary(r: &Received) -> String {
    format!(
        "{}/{} {}",
        r.availability.as_deref().unwrap_or("-"),
        r.activity.as_deref().unwrap_or("-"),
        r.client_state.as_deref().unwrap_or("-")
    )
}

#[tokio::test]
async fn create_read_renew_delete() {
    let env = start().await;
    let (status, created) = env.subscribe(|_| {}).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(env.receiver.validations(), 1);
    assert_eq!(created["clientState"], "secret-state");
    assert_eq!(created["creatorId"], USER);
    assert_eq!(created["applicationId"], APP);
    assert_eq!(created["expirationDateTime"], at(30));
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/v1.0/subscriptions/{id}");
    let (status, read) = env.call(reqwest::Method::GET, &path, None).await;
    assert_eq!((status, &read["id"]), (200, &json!(id)));
    let (status, list) = env
        .call(reqwest::Method::GET, "/beta/subscriptions", None)
        .await;
    assert_eq!(
        (status, list["value"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    // A second subscription by the same user and app: 409 (observed).
    let (status, refused) = env.subscribe(|_| {}).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (409, &json!("ExtensionError"))
    );
    // Renewal: up to an hour from now, not more.
    let renew = |minutes: i64| Some(json!({ "expirationDateTime": at(minutes) }));
    let (status, renewed) = env.call(reqwest::Method::PATCH, &path, renew(60)).await;
    assert_eq!(
        (status, &renewed["expirationDateTime"]),
        (200, &json!(at(60)))
    );
    let (status, _) = env.call(reqwest::Method::PATCH, &path, renew(61)).await;
    assert_eq!(status, 400);
    let (status, _) = env.call(reqwest::Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    let (status, _) = env.call(reqwest::Method::GET, &path, None).await;
    assert_eq!(status, 404);
}

/// A change to a subscription body.
type Edit = Box<dyn FnOnce(&mut Value)>;

#[tokio::test]
async fn limits_validation_and_app_tokens_are_refused_and_nothing_is_kept() {
    let env = start().await;
    let refusals: Vec<(&str, Edit)> = vec![
        (
            "61 minutes",
            Box::new(|v: &mut Value| v["expirationDateTime"] = json!(at(61))),
        ),
        (
            "in the past",
            Box::new(|v: &mut Value| v["expirationDateTime"] = json!(at(-1))),
        ),
        (
            "clientState 129",
            Box::new(|v: &mut Value| v["clientState"] = json!("x".repeat(129))),
        ),
        (
            "changeType",
            Box::new(|v: &mut Value| v["changeType"] = json!("created")),
        ),
        (
            "resource",
            Box::new(|v: &mut Value| v["resource"] = json!("me/messages")),
        ),
        (
            "not http",
            Box::new(|v: &mut Value| v["notificationUrl"] = json!("mailto:a@b.c")),
        ),
        (
            "no answer",
            Box::new(|v: &mut Value| v["notificationUrl"] = json!("http://127.0.0.1:9/none")),
        ),
    ];
    for (what, edit) in refusals {
        let (status, body) = env.subscribe(edit).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert!(body["error"]["message"].as_str().is_some(), "{what}");
    }
    let ids: Vec<String> = (0..651)
        .map(|i| format!("'{i:08x}-0000-4000-8000-000000000000'"))
        .collect();
    let (status, _) = env
        .subscribe(|v| {
            v["resource"] = json!(format!(
                "communications/presences?$filter=id in ({})",
                ids.join(",")
            ))
        })
        .await;
    assert_eq!(status, 400);
    let app = token(&env.server, &env.client, "client_credentials").await;
    let body = env.subscription(|_| {});
    let (status, _) = env
        .call_as(
            &app,
            reqwest::Method::POST,
            "/v1.0/subscriptions",
            Some(body),
        )
        .await;
    assert_eq!(status, 403);
    let (_, list) = env
        .call(reqwest::Method::GET, "/v1.0/subscriptions", None)
        .await;
    assert_eq!(list["value"], json!([]));
    // No refused body validated its URL, except the one whose URL was the problem.
    assert_eq!(env.receiver.validations(), 0);
}

#[tokio::test]
async fn a_write_the_fade_and_the_expiry_are_notified_and_nothing_after_the_subscription_ends() {
    let env = start().await;
    assert_eq!(env.subscribe(|_| {}).await.0, 201);
    env.set_presence("Available", "Available", "PT20M").await;
    // The write's notification goes out at once; advance answers after the timers' went out.
    env.advance("PT25M").await;
    assert_eq!(
        env.states(),
        [
            "-/- secret-state",
            "-/- secret-state",
            "-/- secret-state",
            "-/- secret-state"
        ],
        "write, two fade stages, expiry (basic notifications carry no state)"
    );
    // After the subscription's end (30 minutes), nothing more.
    env.advance("PT10M").await;
    env.set_presence("Busy", "InACall", "PT5M").await;
    env.advance("PT1M").await;
    assert_eq!(env.states().len(), 4);
}

#[tokio::test]
async fn rich_notifications_decrypt_to_each_state() {
    let env = start_with(Faults::default(), true).await;
    let certificate = env.receiver.certificate_base64().unwrap();
    let (status, created) = env
        .subscribe(|v| {
            v["includeResourceData"] = json!(true);
            v["encryptionCertificate"] = json!(certificate);
            v["encryptionCertificateId"] = json!("runner-key");
        })
        .await;
    assert_eq!(status, 201, "{created}");
    env.set_presence("Available", "Available", "PT20M").await;
    env.set_presence("Busy", "InACall", "PT20M").await;
    env.set_presence("Busy", "InACall", "PT20M").await;
    env.advance("PT21M").await;
    assert_eq!(
        env.states(),
        [
            "Available/Available secret-state",
            "Busy/InACall secret-state",
            "Offline/Offline secret-state"
        ],
        "a keep-alive that changes nothing sends nothing; the fade is hidden under Busy"
    );
    let keys: Value = env
        .client
        .get(format!(
            "{}/{}/discovery/v2.0/keys",
            env.server.base_url(),
            env.server.state().config.tenant_id
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(keys["keys"][0]["alg"], "RS256");
}

/// Each deliberately wrong server differs from the right one where a notification case looks.
#[tokio::test]
async fn each_wrong_server_is_caught() {
    async fn fade_and_after(faults: Faults) -> (Vec<String>, usize, u16) {
        let env = start_with(faults, false).await;
        let (status, _) = env.subscribe(|_| {}).await;
        env.set_presence("Available", "Available", "PT1H").await;
        env.advance("PT11M").await;
        let before_end = env.states();
        env.advance("PT20M").await;
        env.set_presence("Busy", "InACall", "PT5M").await;
        env.advance("PT1M").await;
        let after_end = env.states().len() - before_end.len();
        let (long, _) = env
            .call(
                reqwest::Method::POST,
                "/beta/subscriptions",
                // The clock stands at 32 minutes: this is 61 minutes ahead.
                Some(env.subscription(|v| v["expirationDateTime"] = json!(at(32 + 61)))),
            )
            .await;
        assert_eq!(status, 201);
        (before_end, after_end, long)
    }
    let right = fade_and_after(Faults::default()).await;
    assert_eq!((right.0.len(), right.1, right.2), (3, 0, 400));
    let no_fade = fade_and_after(Faults {
        no_fade: true,
        ..Faults::default()
    })
    .await;
    assert_eq!(no_fade.0.len(), 1, "no fade notification");
    let after = fade_and_after(Faults {
        after_expiry: true,
        ..Faults::default()
    })
    .await;
    assert_eq!(after.1, 1, "a notification after expiry");
    let state = fade_and_after(Faults {
        no_client_state: true,
        ..Faults::default()
    })
    .await;
    assert!(
        state.0.iter().all(|s| s.ends_with(" -")),
        "clientState not echoed"
    );
    let long = fade_and_after(Faults {
        long_expiry: true,
        ..Faults::default()
    })
    .await;
    assert_eq!(long.2, 201, "61 minutes accepted");
    let env = start_with(
        Faults {
            no_validation: true,
            ..Faults::default()
        },
        false,
    )
    .await;
    let (status, _) = env
        .subscribe(|v| v["notificationUrl"] = json!("http://127.0.0.1:9/none"))
        .await;
    assert_eq!(status, 201, "no validation");
}

/// Hostile subscription bodies each get a 4xx with a Graph error, keep nothing, and leave the
/// server answering.
#[tokio::test]
async fn hostile_subscription_bodies_are_refused_cleanly() {
    let env = start().await;
    let url = format!("{}/v1.0/subscriptions", env.server.base_url());
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("json", b"[1,2,3]".to_vec()),
        ("json", b"null".to_vec()),
        ("json", b"{\"changeType\": 5}".to_vec()),
        ("json", b"{\"expirationDateTime\": {\"a\": 1}}".to_vec()),
        ("json", b"{\"includeResourceData\": \"yes\"}".to_vec()),
        ("json", vec![0xff, 0xfe, b'{', b'}']),
        (
            "json",
            format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes(),
        ),
        (
            "json",
            b"{\"resource\": \"communications/presences?$filter=id in ((((\"}".to_vec(),
        ),
        (
            "json",
            serde_json::to_vec(&env.subscription(|v| {
                v["includeResourceData"] = json!(true);
                v["encryptionCertificate"] = json!("bm90IGEgY2VydGlmaWNhdGU=");
                v["encryptionCertificateId"] = json!("x");
            }))
            .unwrap(),
        ),
        ("text", b"changeType=updated".to_vec()),
    ];
    for (kind, body) in bodies {
        let content_type = if kind == "json" {
            "application/json"
        } else {
            "text/plain"
        };
        let response = env
            .client
            .post(&url)
            .bearer_auth(&env.delegated)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let error: Value = response.json().await.unwrap_or(Value::Null);
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        assert!((400..500).contains(&status), "{shown}: {status}");
        assert!(error["error"]["code"].is_string(), "{shown}: {error}");
    }
    let (status, list) = env
        .call(reqwest::Method::GET, "/v1.0/subscriptions", None)
        .await;
    assert_eq!((status, &list["value"]), (200, &json!([])));
    assert_eq!(env.receiver.validations(), 0);
}

/// The subscription operations are in the bundled OpenAPI documents: the server's requests and
/// answers pass the contract checker, and a response of the wrong shape does not.
#[tokio::test]
async fn the_contract_checks_the_subscription_operations() {
    use presence_conformance::contract::{Contract, HttpMessage, SpecDocument, Strictness};
    let env = start().await;
    let contract = Contract::bundled(SpecDocument::V1_0, Strictness::Documented).unwrap();
    let message = |method: &'static str, path: String, body: String| (method, path, body);
    let request_body = env.subscription(|_| {}).to_string();
    let (status, created) = env.subscribe(|_| {}).await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap().to_owned();
    let (_, read) = env
        .call(
            reqwest::Method::GET,
            &format!("/v1.0/subscriptions/{id}"),
            None,
        )
        .await;
    let (_, list) = env
        .call(reqwest::Method::GET, "/v1.0/subscriptions", None)
        .await;
    let exchanges = [
        (
            message("POST", "/subscriptions".into(), request_body),
            201,
            created.to_string(),
        ),
        (
            message("GET", format!("/subscriptions/{id}"), String::new()),
            200,
            read.to_string(),
        ),
        (
            message("GET", "/subscriptions".into(), String::new()),
            200,
            list.to_string(),
        ),
    ];
    for ((method, path, body), status, answer) in &exchanges {
        let http = |body: &'static str| HttpMessage {
            method,
            path,
            content_type: Some("application/json"),
            body: body.as_bytes(),
        };
        let request = HttpMessage {
            body: body.as_bytes(),
            ..http("")
        };
        assert_eq!(contract.check_request(&request), vec![], "{method} {path}");
        let response = HttpMessage {
            body: answer.as_bytes(),
            ..http("")
        };
        let found = contract.check_response(&request, *status, &response);
        assert!(found.is_empty(), "{method} {path}: {found:?}");
    }
    let wrong =
        json!({ "id": id, "expirationDateTime": 5, "includeResourceData": "no" }).to_string();
    let request = HttpMessage {
        method: "GET",
        path: &format!("/subscriptions/{id}"),
        content_type: Some("application/json"),
        body: b"",
    };
    let response = HttpMessage {
        body: wrong.as_bytes(),
        ..request
    };
    assert_eq!(contract.check_response(&request, 200, &response).len(), 2);
}
