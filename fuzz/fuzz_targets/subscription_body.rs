//! Reading a subscription body (create or renew), its resource and its certificate never panics:
//! it is a subscription or a refusal with a status.
#![no_main]
use libfuzzer_sys::fuzz_target;
use presence_conformance::notifications::resource::PresenceResource;
use presence_conformance::notifications::rich::EncryptionCertificate;
use presence_conformance::notifications::{Owner, RenewalBody, SubscriptionBody};

fuzz_target!(|data: &[u8]| {
    let now: jiff::Timestamp = "2026-01-05T09:00:00Z".parse().unwrap();
    let owner = Owner { app_id: "app".into(), user: None };
    if let Ok(body) = serde_json::from_slice::<SubscriptionBody>(data) {
        if let Err(e) = body.validate(owner, now) {
            let _ = e.status();
        }
    }
    if let Ok(body) = serde_json::from_slice::<RenewalBody>(data) {
        let _ = body.validate(now);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = PresenceResource::parse(text);
        let _ = EncryptionCertificate::from_base64(text);
    }
    let _ = EncryptionCertificate::from_der(data);
});
