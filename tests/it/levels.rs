//! The verdict levels separate the two kinds of difference. Servers that chose differently from
//! the reference where Microsoft's documents are silent get no failure and at least one
//! deviation at the default level, and fail under `--strict`; servers that break a documented
//! rule fail at the default level. Each server is the reference with one change around its
//! routes (test-only: `EmbeddedTarget::varied`). Among the first are five servers a reader of the
//! documents alone could have written: one accepts user principal names, one html status
//! messages, one answers undeclared methods 501 in HTML, one unknown segments 400, and one fades
//! Busy sessions.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use presence_conformance::catalogue::{Aspect, Level};
use presence_conformance::model::{Profile, Semantics};
use presence_conformance::runner::Fault;
use presence_conformance::suite::{
    Judging, SuiteCase, SuiteTarget, Verdict, contract_for, load_cases, run_trial,
};
use presence_conformance::targets::EmbeddedTarget;
use presence_conformance::targets::embedded::Variation;

/// A case's verdict on one server, and the faults of its run.
struct Judged {
    verdict: Verdict,
    faults: Vec<Fault>,
}

fn cases() -> Vec<SuiteCase> {
    load_cases(&Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")).expect("cases/")
}

/// Every v1.0 case whose name contains `filter` on `target`, two at a time.
fn judge(target: EmbeddedTarget, filter: &str, judging: Judging) -> HashMap<String, Judged> {
    let target = SuiteTarget::new(Arc::new(target));
    let contract = contract_for(target.target.as_ref()).expect("the bundled contract");
    let cases: Vec<SuiteCase> = cases()
        .into_iter()
        .filter(|c| c.name.contains(filter))
        .collect();
    let results = Mutex::new(HashMap::new());
    let (target, results_ref) = (&target, &results);
    std::thread::scope(|scope| {
        for half in cases.chunks(cases.len().div_ceil(2).max(1)) {
            scope.spawn(move || {
                for case in half {
                    let outcome = run_trial(case, target, Some(contract), judging);
                    let faults = outcome
                        .run
                        .map(|r| r.failures.into_iter().flat_map(|f| f.faults).collect())
                        .unwrap_or_default();
                    let judged = Judged {
                        verdict: outcome.verdict,
                        faults,
                    };
                    results_ref
                        .lock()
                        .unwrap()
                        .insert(case.name.clone(), judged);
                }
            });
        }
    });
    results.into_inner().unwrap()
}

fn named(results: &HashMap<String, Judged>, pick: fn(&Verdict) -> bool) -> Vec<String> {
    let mut names: Vec<String> = results
        .iter()
        .filter(|(_, j)| pick(&j.verdict))
        .map(|(n, _)| n.clone())
        .collect();
    names.sort();
    names
}

fn failed(v: &Verdict) -> bool {
    matches!(v, Verdict::Failed(_))
}

fn deviates(v: &Verdict) -> bool {
    matches!(v, Verdict::Deviates(_))
}

/// A silent-point variant: no failure and some deviation at the default level; failures under
/// `--strict`, exactly on the cases that deviated.
fn assert_only_deviates(name: &str, variation: Variation) {
    let target = || EmbeddedTarget::varied(Profile::V1_0, name, variation.clone());
    let default = judge(target(), "", Judging::Default);
    let failures: Vec<String> = named(&default, failed)
        .into_iter()
        .map(|n| format!("{n}:\n{}", default[&n].verdict.detail().unwrap_or("")))
        .collect();
    assert!(
        failures.is_empty(),
        "{name} failed:\n{}",
        failures.join("\n")
    );
    let deviating = named(&default, deviates);
    assert!(!deviating.is_empty(), "{name} deviates nowhere");
    for case in &deviating {
        assert!(
            default[case]
                .faults
                .iter()
                .all(|f| f.rule.level == Level::Ours),
            "{case} deviates with a fault above `ours`"
        );
    }
    let first = &deviating[0];
    let strict = judge(target(), first, Judging::Strict);
    assert!(
        failed(&strict[first].verdict),
        "{name}: {first} does not fail under --strict"
    );
}

/// A documented-rule breaker: each named case fails at the default level, on a rule above `ours`.
fn assert_fails(name: &str, target: EmbeddedTarget, filter: &str, expected: &[&str]) {
    let results = judge(target, filter, Judging::Default);
    for case in expected {
        let judged = results
            .get(*case)
            .unwrap_or_else(|| panic!("{name}: no case {case}"));
        assert!(
            failed(&judged.verdict),
            "{name}: {case} is {:?}, not failed",
            judged.verdict.label()
        );
        assert!(
            judged.faults.iter().any(|f| f.rule.level != Level::Ours),
            "{name}: {case} failed without a documented or observed fault"
        );
    }
}

// ---- Building variations -------------------------------------------------------------------

fn around<F, Fut>(middleware: F) -> Variation
where
    F: Fn(Request, Next) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response> + Send + 'static,
{
    Variation {
        config: None,
        routes: Some(Arc::new(move |router: Router| {
            before_routing(router, middleware.clone())
        })),
    }
}

/// `middleware` in front of the whole router, so that it sees (and may rewrite) a request
/// before a route is chosen.
fn before_routing<F, Fut>(router: Router, middleware: F) -> Router
where
    F: Fn(Request, Next) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response> + Send + 'static,
{
    use tower::Layer;
    Router::new().fallback_service(from_fn(middleware).layer(router))
}

async fn json_of(body: Body) -> (Vec<u8>, Option<Value>) {
    let bytes = to_bytes(body, 1 << 22).await.unwrap_or_default().to_vec();
    let value = serde_json::from_slice(&bytes).ok();
    (bytes, value)
}

/// The request with its JSON body edited by `edit` (given the path).
async fn edit_request(request: Request, edit: fn(&str, &mut Value)) -> Request {
    let (mut parts, body) = request.into_parts();
    let (bytes, value) = json_of(body).await;
    let body = match value {
        Some(mut value) => {
            edit(parts.uri.path(), &mut value);
            parts.headers.remove(header::CONTENT_LENGTH);
            value.to_string().into_bytes()
        }
        None => bytes,
    };
    Request::from_parts(parts, Body::from(body))
}

/// The response with its status and JSON body edited by `edit` (given the request path).
async fn edit_response(
    path: &str,
    response: Response,
    edit: fn(&str, &mut StatusCode, &mut Option<Value>),
) -> Response {
    let (mut parts, body) = response.into_parts();
    let (bytes, mut value) = json_of(body).await;
    let before = (parts.status, value.clone());
    edit(path, &mut parts.status, &mut value);
    if before == (parts.status, value.clone()) {
        return Response::from_parts(parts, Body::from(bytes));
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = match value {
        Some(v) => Body::from(v.to_string()),
        None => {
            parts.headers.remove(header::CONTENT_TYPE);
            Body::empty()
        }
    };
    Response::from_parts(parts, body)
}

fn requests(edit: fn(&str, &mut Value)) -> Variation {
    around(move |request: Request, next: Next| async move {
        next.run(edit_request(request, edit).await).await
    })
}

fn responses(edit: fn(&str, &mut StatusCode, &mut Option<Value>)) -> Variation {
    around(move |request: Request, next: Next| async move {
        let path = request.uri().path().to_owned();
        edit_response(&path, next.run(request).await, edit).await
    })
}

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "error": { "code": code, "message": message } });
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

// ---- Silent points: our choices, where the documents say nothing -----------------------------

#[test]
fn every_400_answered_as_bad_request_deviates_except_where_the_code_was_observed() {
    let variation = responses(|_, status, body| {
        if *status == StatusCode::BAD_REQUEST
            && let Some(code) = body.as_mut().and_then(|b| b.pointer_mut("/error/code"))
        {
            *code = json!("BadRequest");
        }
    });
    let target = || EmbeddedTarget::varied(Profile::V1_0, "bad-request", variation.clone());
    let results = judge(target(), "", Judging::Default);
    assert!(!named(&results, deviates).is_empty());
    // The real service was seen answering InvalidArgument for an out-of-range duration
    // (msgraph-sdk-dotnet issue 1186) and a missing sessionId (osodevops/ms-teams-cli issue
    // 71): there, and only where a source shows the code, BadRequest fails.
    let catalogue = presence_conformance::catalogue::Catalogue::bundled();
    let observed_code = |id: &str| {
        catalogue
            .get(id)
            .is_some_and(|r| r.level == Level::Observed && r.checks.contains(&Aspect::ErrorCode))
    };
    for case in named(&results, failed) {
        let faults = &results[&case].faults;
        assert!(
            faults.iter().all(|f| observed_code(&f.rule.id)),
            "{case}: {faults:?}"
        );
    }
    assert!(
        failed(&results["duration::pt4m59s_is_below_the_range"].verdict),
        "the observed code is not judged"
    );
    let strict = judge(
        target(),
        "validation::set_presence_refuses_busy_inameeting",
        Judging::Strict,
    );
    assert!(strict.values().all(|j| failed(&j.verdict)));
}

#[test]
fn actions_answered_with_204_only_deviate_or_pass() {
    let variation = responses(|path, status, body| {
        if *status == StatusCode::OK && path.contains("/presence/") && body.is_none() {
            *status = StatusCode::NO_CONTENT;
        }
    });
    let results = judge(
        EmbeddedTarget::varied(Profile::V1_0, "no-content", variation),
        "",
        Judging::Default,
    );
    // Any 2xx is what the documents allow (200 in the pages, 204 in the OpenAPI): no failure.
    assert_eq!(named(&results, failed), Vec::<String>::new());
}

#[test]
fn no_body_limit_only_deviates() {
    assert_only_deviates(
        "no-body-limit",
        Variation {
            config: Some(Arc::new(|config| config.body_limit = 64 << 20)),
            routes: None,
        },
    );
}

#[test]
fn a_null_status_message_refused_only_deviates() {
    assert_only_deviates(
        "null-message-refused",
        around(|request: Request, next: Next| async move {
            if !request.uri().path().ends_with("/setStatusMessage") {
                return next.run(request).await;
            }
            let (parts, body) = request.into_parts();
            let (bytes, value) = json_of(body).await;
            if value.is_some_and(|v| v.get("statusMessage") == Some(&Value::Null)) {
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "statusMessage is required.",
                );
            }
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }),
    );
}

#[test]
fn case_sensitive_user_ids_only_deviate() {
    assert_only_deviates(
        "case-sensitive-ids",
        around(|mut request: Request, next: Next| async move {
            // An id in upper case is another user, unknown to this server.
            let path = request.uri().path().to_owned();
            let upper = path
                .split('/')
                .find(|s| s.len() == 36 && s.chars().any(|c| c.is_ascii_uppercase()));
            if let Some(id) = upper {
                let other = path.replace(id, "ffffffff-ffff-4fff-8fff-ffffffffffff");
                if let Ok(uri) = other.parse::<Uri>() {
                    *request.uri_mut() = uri;
                }
            }
            next.run(request).await
        }),
    );
}

#[test]
fn sequence_numbers_that_change_only_on_writes_only_deviate() {
    let variation = Variation {
        config: None,
        routes: Some(Arc::new(|router: Router| {
            // Per server: each user's sequenceNumber as of their last acknowledged write.
            let written: Arc<Mutex<HashMap<String, String>>> = Arc::default();
            before_routing(router, move |request: Request, next: Next| {
                let written = written.clone();
                async move { sequence_on_writes_only(&written, request, next).await }
            })
        })),
    };
    assert_only_deviates("sequence-on-writes", variation);
}

async fn sequence_on_writes_only(
    written: &Mutex<HashMap<String, String>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let user = path
        .split('/')
        .find(|s| s.len() == 36)
        .map(str::to_ascii_lowercase);
    let is_read = request.method() == "GET";
    let response = next.run(request).await;
    let Some(user) = user else { return response };
    if !is_read {
        if let Some(seq) = response.headers().get("x-presence-sequence-number")
            && let Ok(seq) = seq.to_str()
        {
            written.lock().unwrap().insert(user, seq.to_owned());
        }
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let (bytes, value) = json_of(body).await;
    let Some(mut value) = value else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let known = written.lock().unwrap().get(&user).cloned();
    if let (Some(seq), Some(slot)) = (known, value.get_mut("sequenceNumber")) {
        *slot = json!(seq);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(value.to_string()))
}

// ---- Documented rules: breaking one fails ---------------------------------------------------

fn set_presence(path: &str) -> bool {
    path.ends_with("/setPresence")
}

#[test]
fn accepting_a_pair_the_documents_refuse_fails() {
    let variation = requests(|path, body| {
        if set_presence(path) && body["availability"] == "Busy" && body["activity"] == "Busy" {
            body["activity"] = json!("InACall");
        }
    });
    assert_fails(
        "busy-busy-accepted",
        EmbeddedTarget::varied(Profile::V1_0, "busy-busy", variation),
        "validation::set_presence_refuses_busy_busy",
        &["validation::set_presence_refuses_busy_busy"],
    );
}

#[test]
fn a_duration_below_the_range_accepted_fails() {
    let variation = requests(|path, body| {
        if set_presence(path) && body["expirationDuration"] == "PT4M59S" {
            body["expirationDuration"] = json!("PT5M");
        }
    });
    assert_fails(
        "short-accepted",
        EmbeddedTarget::varied(Profile::V1_0, "short", variation),
        "duration::pt4m59s",
        &["duration::pt4m59s_is_below_the_range"],
    );
}

#[test]
fn another_default_expiration_fails() {
    let variation = requests(|path, body| {
        if set_presence(path) && body.get("expirationDuration").is_none() {
            body["expirationDuration"] = json!("PT1H");
        }
    });
    assert_fails(
        "default-1h",
        EmbeddedTarget::varied(Profile::V1_0, "default-1h", variation),
        "duration::default_expiration",
        &["duration::default_expiration_is_five_minutes"],
    );
}

#[test]
fn each_fade_stage_at_another_instant_fails() {
    use jiff::SignedDuration;
    for (name, semantics) in [
        (
            "late-inactive",
            Semantics {
                fade_to_inactive: SignedDuration::from_mins(6),
                ..Semantics::GRAPH
            },
        ),
        (
            "early-away",
            Semantics {
                fade_to_away: SignedDuration::from_mins(9),
                ..Semantics::GRAPH
            },
        ),
    ] {
        assert_fails(
            name,
            EmbeddedTarget::with_semantics(Profile::V1_0, name, semantics),
            "timeout::available_fades_to_away",
            &["timeout::available_fades_to_away"],
        );
    }
}

#[test]
fn sessions_that_outlive_their_expiration_fail() {
    let variation = requests(|path, body| {
        if set_presence(path) && body["expirationDuration"] == "PT1H" {
            body["expirationDuration"] = json!("PT4H");
        }
    });
    assert_fails(
        "no-expiry",
        EmbeddedTarget::varied(Profile::V1_0, "no-expiry", variation),
        "timeout::available_fades_to_away",
        &["timeout::available_fades_to_away"],
    );
}

#[test]
fn a_swapped_precedence_fails() {
    use presence_conformance::model::Availability::*;
    let swapped = Semantics {
        precedence: [DoNotDisturb, Available, Busy, Away],
        ..Semantics::GRAPH
    };
    assert_fails(
        "available-over-busy",
        EmbeddedTarget::with_semantics(Profile::V1_0, "swapped", swapped),
        "aggregation::busy_outranks_available",
        &["aggregation::busy_outranks_available"],
    );
}

#[test]
fn other_preferred_defaults_and_expiry_fail() {
    let variation = requests(|path, body| {
        if path.ends_with("/setUserPreferredPresence") {
            let shorter = match body.get("expirationDuration").and_then(Value::as_str) {
                None => "PT1H",
                Some(_) => "PT5M",
            };
            body["expirationDuration"] = json!(shorter);
        }
    });
    assert_fails(
        "preferred-short",
        EmbeddedTarget::varied(Profile::V1_0, "preferred-short", variation),
        "preferred::",
        &[
            "preferred::busy_defaults_to_one_day",
            "preferred::available_defaults_to_seven_days",
            "preferred::explicit_expiration",
        ],
    );
}

#[test]
fn clearing_an_absent_session_with_200_fails() {
    let variation = responses(|path, status, body| {
        if path.ends_with("/clearPresence") && *status == StatusCode::NOT_FOUND {
            *status = StatusCode::OK;
            *body = None;
        }
    });
    assert_fails(
        "clear-200",
        EmbeddedTarget::varied(Profile::V1_0, "clear-200", variation),
        "session::clear_presence_of_absent_session_is_404",
        &["session::clear_presence_of_absent_session_is_404"],
    );
}

#[test]
fn accepting_more_than_650_ids_only_deviates() {
    // "Maximum of 650 user IDs are supported per API request" does not say how more are
    // answered, so refusing 651 is our choice.
    let truncate = requests(|path, body| {
        if path.ends_with("/getPresencesByUserId")
            && let Some(ids) = body.get_mut("ids").and_then(Value::as_array_mut)
        {
            ids.truncate(650);
        }
    });
    let case = "batch::six_hundred_fifty_one_ids_are_refused";
    let results = judge(
        EmbeddedTarget::varied(Profile::V1_0, "no-batch-limit", truncate),
        case,
        Judging::Default,
    );
    assert!(
        deviates(&results[case].verdict),
        "{:?}",
        results[case].verdict.label()
    );
}

#[test]
fn a_lower_batch_limit_fails() {
    let lower = around(|request: Request, next: Next| async move {
        if !request.uri().path().ends_with("/getPresencesByUserId") {
            return next.run(request).await;
        }
        let (parts, body) = request.into_parts();
        let (bytes, value) = json_of(body).await;
        let count = value
            .as_ref()
            .and_then(|v| v.get("ids"))
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if count > 600 {
            return graph_error(StatusCode::BAD_REQUEST, "BadRequest", "Too many ids.");
        }
        next.run(Request::from_parts(parts, Body::from(bytes)))
            .await
    });
    assert_fails(
        "batch-limit-600",
        EmbeddedTarget::varied(Profile::V1_0, "batch-600", lower),
        "batch::six_hundred_fifty_ids",
        &["batch::six_hundred_fifty_ids_are_accepted"],
    );
}

// ---- Servers built from the documents alone: they differ only where the documents are silent ----

/// The id a user principal name stands for on the UPN-accepting server.
const UPN_USER: &str = "0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b";

#[test]
fn a_server_that_accepts_user_principal_names_only_deviates() {
    assert_only_deviates(
        "accepts-upns",
        around(|mut request: Request, next: Next| async move {
            let path = request.uri().path().to_owned();
            if path.contains('@') {
                let resolved: Vec<&str> = path
                    .split('/')
                    .map(|s| if s.contains('@') { UPN_USER } else { s })
                    .collect();
                if let Ok(uri) = resolved.join("/").parse::<Uri>() {
                    *request.uri_mut() = uri;
                }
            }
            next.run(request).await
        }),
    );
}

#[test]
fn a_server_that_accepts_html_status_messages_only_deviates() {
    assert_only_deviates(
        "accepts-html",
        requests(|path, body| {
            if path.ends_with("/setStatusMessage")
                && let Some(kind) = body.pointer_mut("/statusMessage/message/contentType")
                && kind
                    .as_str()
                    .is_some_and(|k| k.eq_ignore_ascii_case("html"))
            {
                // Stored as it came; the reference server refuses it.
                *kind = json!("text");
            }
        }),
    );
}

#[test]
fn a_server_that_answers_undeclared_methods_501_in_html_only_deviates() {
    assert_only_deviates(
        "undeclared-501",
        around(|request: Request, next: Next| async move {
            // PATCH and DELETE are declared on subscriptions only.
            let subscription = request.uri().path().contains("/subscriptions");
            if matches!(request.method().as_str(), "GET" | "HEAD" | "POST")
                || (subscription && matches!(request.method().as_str(), "PATCH" | "DELETE"))
            {
                return next.run(request).await;
            }
            (
                StatusCode::NOT_IMPLEMENTED,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body><h1>501 Not Implemented</h1></body></html>",
            )
                .into_response()
        }),
    );
}

#[test]
fn a_server_that_answers_unknown_segments_400_only_deviates() {
    assert_only_deviates(
        "unknown-segment-400",
        responses(|_, status, body| {
            let unknown_segment = body
                .as_ref()
                .and_then(|b| b.pointer("/error/message"))
                .and_then(Value::as_str)
                .is_some_and(|m| m.starts_with("Resource not found for the segment"));
            if *status == StatusCode::NOT_FOUND
                && unknown_segment
                && let Some(code) = body.as_mut().and_then(|b| b.pointer_mut("/error/code"))
            {
                // As Graph was seen to answer (msgraph-beta-sdk-python issue 764).
                *status = StatusCode::BAD_REQUEST;
                *code = json!("BadRequest");
            }
        }),
    );
}

#[test]
fn a_server_that_fades_busy_sessions_only_deviates() {
    let variation = Variation {
        config: None,
        routes: Some(Arc::new(|router: Router| {
            // Per server: when each user's Busy session was set, by the server's clock.
            let busy_since: Arc<Mutex<HashMap<String, jiff::Timestamp>>> = Arc::default();
            let inner = router.clone();
            before_routing(router, move |request: Request, next: Next| {
                let (busy_since, inner) = (busy_since.clone(), inner.clone());
                async move { busy_fades(&busy_since, inner, request, next).await }
            })
        })),
    };
    assert_only_deviates("busy-fades", variation);
}

/// The server's clock, read through its control protocol.
async fn server_now(inner: Router) -> Option<jiff::Timestamp> {
    use tower::ServiceExt;
    let request = Request::get("/_conformance/clock")
        .body(Body::empty())
        .ok()?;
    let response = inner.oneshot(request).await.ok()?;
    let (_, value) = json_of(response.into_body()).await;
    value?.get("now")?.as_str()?.parse().ok()
}

/// A Busy session shows Away/Away ten minutes after it was set, as an Available one does: the
/// documents describe the timeout of Available sessions only and are silent on the others.
async fn busy_fades(
    busy_since: &Mutex<HashMap<String, jiff::Timestamp>>,
    inner: Router,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let user = path
        .split('/')
        .find(|s| s.len() == 36)
        .map(str::to_ascii_lowercase);
    let Some(user) = user else {
        return next.run(request).await;
    };
    if request.method() == "POST" && path.ends_with("/setPresence") {
        let (parts, body) = request.into_parts();
        let (bytes, value) = json_of(body).await;
        let busy = value
            .as_ref()
            .and_then(|v| v.get("availability"))
            .and_then(Value::as_str)
            .is_some_and(|a| a.eq_ignore_ascii_case("Busy"));
        let response = next
            .run(Request::from_parts(parts, Body::from(bytes)))
            .await;
        if response.status().is_success() {
            match server_now(inner).await {
                Some(now) if busy => busy_since.lock().unwrap().insert(user, now),
                _ => busy_since.lock().unwrap().remove(&user),
            };
        }
        return response;
    }
    if request.method() != "GET" {
        return next.run(request).await;
    }
    let response = next.run(request).await;
    let since = busy_since.lock().unwrap().get(&user).copied();
    let (Some(since), Some(now)) = (since, server_now(inner).await) else {
        return response;
    };
    if now.duration_since(since) < jiff::SignedDuration::from_mins(10) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let (bytes, value) = json_of(body).await;
    match value {
        Some(mut shown) if shown["availability"] == "Busy" => {
            shown["availability"] = json!("Away");
            shown["activity"] = json!("Away");
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, Body::from(shown.to_string()))
        }
        _ => Response::from_parts(parts, Body::from(bytes)),
    }
}
