//! The contract validator never panics on arbitrary bodies, paths or statuses.
#![no_main]
use libfuzzer_sys::fuzz_target;
use presence_conformance::contract::{Contract, HttpMessage, SpecDocument, Strictness};

const PATHS: [&str; 5] = [
    "/users/a0000000-0000-4000-8000-000000000001/presence",
    "/users/x/presence/setPresence",
    "/communications/getPresencesByUserId",
    "/me/presence/setStatusMessage",
    "/nowhere",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let Ok(contract) = Contract::bundled(SpecDocument::V1_0, Strictness::Documented) else { return };
    let path = PATHS[usize::from(selector) % PATHS.len()];
    let method = if selector & 0x80 == 0 { "GET" } else { "POST" };
    let status = [200, 204, 400, 404, 500, 302][usize::from(selector / 8) % 6];
    let message = HttpMessage { method, path, content_type: Some("application/json"), body };
    let _ = contract.check_request(&message);
    let _ = contract.check_response(&message, status, &message);
});
