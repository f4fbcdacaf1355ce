//! The verdict levels separate the two kinds of difference. Servers that chose differently from
//! the reference where Microsoft's documents are silent get no failure and at least one
//! deviation at the default level, and fail under `--strict`; servers that break a documented
//! rule fail at the default level. Each server is the reference with one change around its
//! routes (test-only: `EmbeddedTarget::varied`).

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
fn another_batch_limit_fails() {
    let truncate = requests(|path, body| {
        if path.ends_with("/getPresencesByUserId")
            && let Some(ids) = body.get_mut("ids").and_then(Value::as_array_mut)
        {
            ids.truncate(650);
        }
    });
    assert_fails(
        "no-batch-limit",
        EmbeddedTarget::varied(Profile::V1_0, "no-batch-limit", truncate),
        "batch::six_hundred_fifty_one",
        &["batch::six_hundred_fifty_one_ids_are_refused"],
    );
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
