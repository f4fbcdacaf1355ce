//! Response validation throughput with compiled validators, on realistic presence bodies.
//! `cargo bench --bench contract` prints validations per second on one thread.

use std::hint::black_box;
use std::time::Instant;

use presence_conformance::contract::{Contract, HttpMessage, SpecDocument, Strictness};

const PRESENCE: &str = r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users('fa8bf3dc-eca7-46b7-bad1-db199b62afc3')/presence/$entity","id":"fa8bf3dc-eca7-46b7-bad1-db199b62afc3","availability":"Available","activity":"Available","statusMessage":{"message":{"content":"Hey I am available now","contentType":"text"},"expiryDateTime":{"dateTime":"2026-01-05T17:00:00","timeZone":"Pacific Standard Time"},"publishedDateTime":"2026-01-05T09:00:00.0000000Z"},"outOfOfficeSettings":{"message":null,"isOutOfOffice":false},"sequenceNumber":"000647A048AE84000000000001"}"#;
const ERROR: &str = r#"{"error":{"code":"InvalidArgument","message":"The provided [ExpirationDuration] is out of range.","innerError":{"date":"2026-01-05T09:00:00","request-id":"eec3ee66-bc30-4630-9083-0e4047bb5c99"}}}"#;

fn measure(name: &str, contract: &Contract, method: &str, path: &str, status: u16, body: &str) {
    let request = HttpMessage {
        method,
        path,
        content_type: None,
        body: b"",
    };
    let response = HttpMessage {
        method,
        path,
        content_type: Some("application/json"),
        body: body.as_bytes(),
    };
    assert!(
        contract
            .check_response(&request, status, &response)
            .is_empty(),
        "{name} must be valid"
    );
    let iterations = 200_000;
    let started = Instant::now();
    for _ in 0..iterations {
        black_box(contract.check_response(black_box(&request), status, black_box(&response)));
    }
    let per_second = f64::from(iterations) / started.elapsed().as_secs_f64();
    println!(
        "{name:<44} {:>7} bytes {per_second:>12.0} validations/s",
        body.len()
    );
}

fn main() {
    let contract = Contract::bundled(SpecDocument::V1_0, Strictness::Documented)
        .expect("the bundled spec loads");
    let batch = format!(
        r#"{{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.presence)","value":[{}]}}"#,
        [PRESENCE; 10].join(",")
    );
    println!("response validation, one thread (parse + path match + status + schema)");
    measure(
        "GET /users/{id}/presence 200",
        contract,
        "GET",
        "/users/fa8bf3dc-eca7-46b7-bad1-db199b62afc3/presence",
        200,
        PRESENCE,
    );
    measure(
        "POST getPresencesByUserId 200 (10 items)",
        contract,
        "POST",
        "/communications/getPresencesByUserId",
        200,
        &batch,
    );
    measure(
        "POST setPresence 400 (Graph error)",
        contract,
        "POST",
        "/users/fa8bf3dc-eca7-46b7-bad1-db199b62afc3/presence/setPresence",
        400,
        ERROR,
    );
}
