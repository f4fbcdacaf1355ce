//! Decoding the body of every write action, under every profile, never panics: it is a command
//! or a Graph error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use presence_conformance::operation::{Operation, Profile};
use presence_conformance::server::Caller;
use presence_conformance::server::body::ActionBody;
use presence_conformance::server::presence::decode_action;

const CONTENT_TYPES: [Option<&str>; 4] = [Some("application/json"), Some("application/json; charset=utf-8"), Some("text/plain"), None];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let operations: Vec<Operation> = Operation::all().collect();
    let action = operations[usize::from(selector) % operations.len()];
    let content_type = CONTENT_TYPES[usize::from(selector / 8) % CONTENT_TYPES.len()];
    let profile = Profile::ALL[usize::from(selector / 32) % Profile::ALL.len()];
    let caller = Caller::App { app_id: "11111111-2222-4333-8444-555555555555".into(), roles: vec![] };
    let _ = decode_action(profile, &caller, action, &ActionBody::new(body, content_type));
    let _ = decode_action(profile, &Caller::Anonymous, action, &ActionBody::new(body, content_type));
});
