//! HTTP tests of the reference server over real sockets: the token endpoint, auth refusals,
//! request ids, profiles, the control protocol and its absence. (Presence behaviour over HTTP is
//! covered by the conformance cases, hostile input by `tests/it/hostile.rs`.)

use std::time::Duration;

use presence_conformance::model::Profile;
use presence_conformance::server::config::ServerConfig;
use presence_conformance::server::{PresenceClock, RunningServer};
use serde_json::{Value, json};

const USER: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const APP: &str = "11111111-2222-4333-8444-555555555555";
const SECRET: &str = "local-development-secret";

async fn start(config: ServerConfig) -> RunningServer {
    RunningServer::start(config, PresenceClock::virtual_at_epoch())
        .await
        .unwrap()
}

/// A server on a virtual clock that takes requests without a token.
async fn start_without_auth() -> RunningServer {
    start(ServerConfig {
        no_auth: true,
        ..ServerConfig::default()
    })
    .await
}

/// The availability and activity `USER` shows on v1.0.
async fn shown(server: &RunningServer) -> (Value, Value) {
    let presence: Value = reqwest::get(format!("{}/v1.0/users/{USER}/presence", server.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        presence["availability"].clone(),
        presence["activity"].clone(),
    )
}

async fn token_response(
    server: &RunningServer,
    tenant: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/{tenant}/oauth2/v2.0/token", server.base_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn app_token(server: &RunningServer, tenant: &str) -> String {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", APP),
        ("client_secret", SECRET),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let (status, body) = token_response(server, tenant, &form).await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

async fn set_presence(
    server: &RunningServer,
    version: &str,
    token: &str,
    pair: (&str, &str),
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!(
            "{}/{version}/users/{USER}/presence/setPresence",
            server.base_url()
        ))
        .bearer_auth(token)
        .json(&json!({ "sessionId": APP, "availability": pair.0, "activity": pair.1 }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_token_endpoint_refuses_like_the_identity_platform() {
    let config = ServerConfig::default();
    let tenant = config.tenant_id.clone();
    let server = start(config).await;
    let base = [
        ("client_id", APP),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        base.iter().chain(extra).copied().collect::<Vec<_>>()
    };

    let (status, body) = token_response(
        &server,
        &tenant,
        &with(&[
            ("grant_type", "client_credentials"),
            ("client_secret", "wrong"),
        ]),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = token_response(
        &server,
        "another-tenant",
        &with(&[
            ("grant_type", "client_credentials"),
            ("client_secret", SECRET),
        ]),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, body) = token_response(
        &server,
        &tenant,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", APP),
            ("client_secret", SECRET),
            ("scope", "Presence.Read"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, body) = token_response(
        &server,
        &tenant,
        &with(&[("grant_type", "implicit"), ("client_secret", SECRET)]),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, body) = token_response(
        &server,
        &tenant,
        &with(&[
            ("grant_type", "password"),
            ("client_secret", SECRET),
            ("username", "adele@contoso.test"),
            ("password", "nope"),
        ]),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = token_response(
        &server,
        &tenant,
        &with(&[
            ("grant_type", "client_credentials"),
            ("client_secret", SECRET),
        ]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    // The error descriptions never echo the secret.
    let (_, body) = token_response(
        &server,
        &tenant,
        &with(&[
            ("grant_type", "client_credentials"),
            ("client_secret", "CANARY-9f"),
        ]),
    )
    .await;
    assert!(!body.to_string().contains("CANARY-9f"));
}

#[tokio::test]
async fn refused_credentials_get_401_with_www_authenticate_and_change_nothing() {
    let config = ServerConfig {
        token_lifetime: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let tenant = config.tenant_id.clone();
    let server = start(config).await;
    let other_config = ServerConfig {
        tenant_id: "0b5d0a8e-0000-4000-8000-00000000000f".into(),
        ..ServerConfig::default()
    };
    let other_tenant = other_config.tenant_id.clone();
    let other = start(other_config).await;
    let foreign = app_token(&other, &other_tenant).await;
    let expiring = app_token(&server, &tenant).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for (what, token) in [
        ("another tenant's token", foreign.as_str()),
        ("an expired token", expiring.as_str()),
        ("a malformed token", "eyJ.not.a.jwt"),
    ] {
        let response = set_presence(&server, "v1.0", token, ("Busy", "InACall")).await;
        assert_eq!(response.status().as_u16(), 401, "{what}");
        assert!(
            response.headers().get("www-authenticate").is_some(),
            "{what}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["error"]["code"], "InvalidAuthenticationToken",
            "{what}"
        );
    }
    let fresh = app_token(&server, &tenant).await;
    let presence: Value = reqwest::Client::new()
        .get(format!("{}/v1.0/users/{USER}/presence", server.base_url()))
        .bearer_auth(&fresh)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        presence["availability"], "Offline",
        "no refused write changed anything"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_echoes_the_client_request_id() {
    let server = start(ServerConfig::default()).await;
    let response = reqwest::Client::new()
        .get(format!("{}/v1.0/users/{USER}/presence", server.base_url()))
        .header("client-request-id", "my-correlation-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let header = response.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(response.headers()["client-request-id"], "my-correlation-42");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["innerError"]["request-id"], header.as_str());
    assert_eq!(
        body["error"]["innerError"]["client-request-id"],
        "my-correlation-42"
    );
    assert_eq!(body["error"]["innerError"]["date"], "2026-01-05T09:00:00");
}

#[tokio::test]
async fn beta_follows_the_configured_profile_while_v1_keeps_its_own() {
    let config = ServerConfig {
        beta_profile: Profile::Beta2021,
        ..ServerConfig::default()
    };
    let tenant = config.tenant_id.clone();
    let server = start(config).await;
    let token = app_token(&server, &tenant).await;
    let dnd = ("DoNotDisturb", "Presenting");
    assert_eq!(
        set_presence(&server, "beta", &token, dnd)
            .await
            .status()
            .as_u16(),
        400
    );
    assert_eq!(
        set_presence(&server, "v1.0", &token, dnd)
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        set_presence(&server, "beta", &token, ("Busy", "InAConferenceCall"))
            .await
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        set_presence(&server, "v2.0", &token, dnd)
            .await
            .status()
            .as_u16(),
        404
    );
}

#[tokio::test]
async fn a_real_clock_server_has_no_control_protocol_and_moves_by_itself() {
    let config = ServerConfig {
        no_auth: true,
        ..ServerConfig::default()
    };
    let server = RunningServer::start(config, PresenceClock::real(600.0))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let reset = client
        .post(format!("{}/_conformance/reset", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        reset.status().as_u16(),
        404,
        "a 404 tells the runner to use real time"
    );
    let set = client
        .post(format!("{}/v1.0/users/{USER}/presence/setPresence", server.base_url()))
        .json(&json!({ "sessionId": "s", "availability": "Available", "activity": "Available", "expirationDuration": "PT1H" }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status().as_u16(), 200);
    // Five presence minutes are half a second at 600x, ten are a second: 700 ms sits between.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let presence: Value = client
        .get(format!(
            "{}/v1.0/users/{USER}/presence?$select=availability,activity",
            server.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(presence["activity"], "AvailableInactive");
}

#[tokio::test]
async fn the_control_protocol_resets_and_refuses_bad_advances() {
    let server = start_without_auth().await;
    let client = reqwest::Client::new();
    let base = server.base_url();
    let advance = |by: Value| {
        client
            .post(format!("{base}/_conformance/clock/advance"))
            .json(&json!({ "by": by }))
            .send()
    };
    let moved: Value = advance(json!("PT1H30M"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(moved["now"], "2026-01-05T10:30:00.0000000Z");
    for bad in [json!("-PT1M"), json!("soon"), json!(5)] {
        let response = advance(bad.clone()).await.unwrap();
        assert_eq!(response.status().as_u16(), 400, "{bad}");
    }
    let reset = client
        .post(format!("{base}/_conformance/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status().as_u16(), 204);
    let clock: Value = client
        .get(format!("{base}/_conformance/clock"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(clock["now"], "2026-01-05T09:00:00.0000000Z");
}

#[tokio::test]
async fn declared_paths_answer_405_with_allow_and_a_graph_error_for_other_methods() {
    let server = start_without_auth().await;
    let client = reqwest::Client::new();
    let cases = [
        ("TRACE", format!("/v1.0/users/{USER}/presence"), "GET"),
        ("PATCH", format!("/v1.0/users/{USER}/presence"), "GET"),
        ("TRACE", "/v1.0/me/presence".to_owned(), "GET"),
        (
            "PUT",
            "/v1.0/communications/getPresencesByUserId".to_owned(),
            "POST",
        ),
        (
            "TRACE",
            format!("/beta/users/{USER}/presence/setPresence"),
            "POST",
        ),
        (
            "DELETE",
            "/v1.0/me/presence/clearPresence".to_owned(),
            "POST",
        ),
        (
            "GET",
            format!("/v1.0/communications/presences/{USER}/setStatusMessage"),
            "POST",
        ),
    ];
    for (method, path, allow) in cases {
        let response = client
            .request(
                method.parse().unwrap(),
                format!("{}{path}", server.base_url()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method} {path}");
        let allowed = response.headers()["allow"].to_str().unwrap().to_owned();
        assert!(allowed.contains(allow), "{method} {path}: Allow {allowed}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "MethodNotAllowed", "{method} {path}");
    }
}

#[tokio::test]
async fn user_ids_must_be_guids_and_me_without_auth_is_the_default_user() {
    let server = start_without_auth().await;
    let client = reqwest::Client::new();
    let url = |p: &str| format!("{}/v1.0{p}", server.base_url());
    let response = client
        .get(url("/users/adele@contoso.test/presence"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "BadRequest");

    let response = client
        .post(url("/me/presence/setPresence"))
        .json(&json!({ "sessionId": "cli", "availability": "Busy", "activity": "InACall" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let me: Value = client
        .get(url("/me/presence"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        me["id"], USER,
        "under --no-auth /me is the default config's user"
    );
    assert_eq!(shown(&server).await, (json!("Busy"), json!("InACall")));
}

/// Every path shape answers as it did when one router held every route, whether the server's own
/// parse of Graph's presence paths answers it or the router behind it (the token endpoint, the
/// control protocol, the 404): the status, and the start of the message.
#[tokio::test]
async fn each_path_shape_is_answered_by_the_route_that_holds_it() {
    let server = start_without_auth().await;
    let client = reqwest::Client::new();
    let body = json!({ "sessionId": APP, "availability": "Busy", "activity": "InACall" });
    let encoded_user = USER.replace('-', "%2D");
    let cases: [(&str, String, u16, &str); 17] = [
        (
            "POST",
            format!("/v1.0/users/{USER}/presence/setPresence"),
            200,
            "",
        ),
        (
            "POST",
            format!("/beta/communications/presences/{USER}/setPresence"),
            200,
            "",
        ),
        ("GET", format!("/v1.0/users/{USER}/presence"), 200, ""),
        (
            "POST",
            format!("/v2.0/users/{USER}/presence/setPresence"),
            404,
            "Invalid version: 'v2.0'",
        ),
        (
            "GET",
            format!("/v2.0/users/{USER}/presence"),
            404,
            "Invalid version: 'v2.0'",
        ),
        (
            "POST",
            "/v2.0/communications/getPresencesByUserId".to_owned(),
            404,
            "Invalid version: 'v2.0'",
        ),
        (
            "GET",
            format!("/v2.0/users/{USER}/presence/setPresence"),
            405,
            "",
        ),
        (
            "POST",
            format!("/v1.0/users/{USER}/presence/setPresences"),
            404,
            "Resource not found for the segment 'setPresences'",
        ),
        (
            "POST",
            "/beta/me/presence/nothing".to_owned(),
            404,
            "Resource not found for the segment 'nothing'",
        ),
        (
            "POST",
            format!("/v1.0/users/{USER}/presence/setPresence/more"),
            404,
            "Resource not found for the segment.",
        ),
        (
            "POST",
            "/v1.0/users/adele@contoso.test/presence/setPresence".to_owned(),
            400,
            "'adele@contoso.test' is not a user object id",
        ),
        (
            "GET",
            "/".to_owned(),
            404,
            "Resource not found for the segment.",
        ),
        // A path parameter is percent-decoded, as a router decodes it.
        (
            "POST",
            format!("/v1.0/users/{encoded_user}/presence/setPresence"),
            200,
            "",
        ),
        (
            "GET",
            format!("/v1.0/users/{USER}/presence/set%50resence"),
            405,
            "",
        ),
        (
            "GET",
            format!("/v1.0/users/{USER}/presence/"),
            404,
            "Resource not found for the segment.",
        ),
        (
            "GET",
            "/v1.0/users//presence".to_owned(),
            404,
            "Resource not found for the segment.",
        ),
        (
            "POST",
            "/v1.0/communications/getPresencesByUserId/more".to_owned(),
            404,
            "Resource not found for the segment.",
        ),
    ];
    for (method, path, status, message) in cases {
        let response = client
            .request(
                method.parse().unwrap(),
                format!("{}{path}", server.base_url()),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        assert!(
            response.headers().contains_key("request-id"),
            "{method} {path}"
        );
        if !message.is_empty() {
            let error: Value = response.json().await.unwrap();
            let text = error["error"]["message"].as_str().unwrap_or_default();
            assert!(text.starts_with(message), "{method} {path}: {text}");
        }
    }
}

/// HEAD on a presence is GET without the body: the same status and headers, the length of the
/// body a GET would have had included.
#[tokio::test]
async fn head_on_a_presence_answers_as_get_without_a_body() {
    let server = start_without_auth().await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1.0/users/{USER}/presence", server.base_url());
    let got = client.get(&url).send().await.unwrap();
    let head = client.head(&url).send().await.unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(
        head.headers()["content-type"],
        got.headers()["content-type"]
    );
    assert!(head.headers().contains_key("request-id"));
    assert_eq!(
        head.headers()["content-length"],
        got.headers()["content-length"]
    );
    assert!(head.bytes().await.unwrap().is_empty());
    assert!(!got.bytes().await.unwrap().is_empty());
}

/// A body that arrives in several pieces, with pauses, is read whole: chunked, or with its length
/// declared (the server stops reading at the declared length, not before).
#[tokio::test]
async fn a_body_sent_in_pieces_is_read_whole() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for chunked in [true, false] {
        let server = start_without_auth().await;
        let body = format!(
            r#"{{"sessionId":"{APP}","availability":"DoNotDisturb","activity":"Presenting"}}"#
        );
        let (first, rest) = body.split_at(20);
        let (second, third) = rest.split_at(30);
        let mut socket = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        let framing = if chunked {
            "Transfer-Encoding: chunked".to_owned()
        } else {
            format!("Content-Length: {}", body.len())
        };
        let head = format!(
            "POST /v1.0/users/{USER}/presence/setPresence HTTP/1.1\r\nHost: graph.local\r\n\
             Content-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n"
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        for piece in [first, second, third] {
            let piece = if chunked {
                format!("{:x}\r\n{piece}\r\n", piece.len())
            } else {
                piece.to_owned()
            };
            socket.write_all(piece.as_bytes()).await.unwrap();
            socket.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if chunked {
            socket.write_all(b"0\r\n\r\n").await.unwrap();
        }
        let mut response = String::new();
        socket.read_to_string(&mut response).await.unwrap();
        assert!(
            response.starts_with("HTTP/1.1 200"),
            "{framing}: {response}"
        );
        assert_eq!(
            shown(&server).await,
            (json!("DoNotDisturb"), json!("Presenting")),
            "{framing}"
        );
    }
}

/// Writes sent back to back on one connection (pipelined, each with its declared length) are
/// answered in order, each body read as its own.
#[tokio::test]
async fn pipelined_writes_on_one_connection_are_each_read_and_answered() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = start_without_auth().await;
    let mut requests = String::new();
    for (availability, activity) in [
        ("Busy", "InACall"),
        ("Away", "Away"),
        ("DoNotDisturb", "Presenting"),
    ] {
        let body = format!(
            r#"{{"sessionId":"{APP}","availability":"{availability}","activity":"{activity}"}}"#
        );
        requests.push_str(&format!(
            "POST /v1.0/users/{USER}/presence/setPresence HTTP/1.1\r\nHost: graph.local\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    }
    requests.push_str(&format!(
        "GET /v1.0/users/{USER}/presence HTTP/1.1\r\nHost: graph.local\r\nConnection: close\r\n\r\n"
    ));
    let mut socket = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    socket.write_all(requests.as_bytes()).await.unwrap();
    let mut responses = String::new();
    socket.read_to_string(&mut responses).await.unwrap();
    assert_eq!(responses.matches("HTTP/1.1 200").count(), 4, "{responses}");
    assert!(
        responses.contains(r#""availability":"DoNotDisturb""#),
        "the read after the three writes shows the last: {responses}"
    );
}

/// A state kept for the rest of the process (the `serve` command's) serves exactly as a counted
/// one: the same writes, the same reads, and every copy is the one state.
#[tokio::test]
async fn a_state_kept_for_the_process_serves_as_a_counted_one() {
    use presence_conformance::server::AppState;
    let config = ServerConfig {
        no_auth: true,
        ..ServerConfig::default()
    };
    let state = AppState::new(config, PresenceClock::virtual_at_epoch()).for_the_process();
    let copy = state.clone();
    assert!(std::ptr::eq(&*state, &*copy), "copies share the one state");
    let server = RunningServer::start_state_on("127.0.0.1:0".parse().unwrap(), state)
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .post(format!(
            "{}/v1.0/users/{USER}/presence/setPresence",
            server.base_url()
        ))
        .json(&json!({"sessionId": APP, "availability": "Busy", "activity": "InACall"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(shown(&server).await, (json!("Busy"), json!("InACall")));
    assert!(
        std::ptr::eq(&*copy, &**server.state()),
        "the server's state is the one kept"
    );
}
