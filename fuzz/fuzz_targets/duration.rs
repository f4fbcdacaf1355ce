//! The Edm.Duration parser never panics, and what it accepts formats back to the same duration.
#![no_main]
use libfuzzer_sys::fuzz_target;
use presence_conformance::model::{iso, parse_edm_duration};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(d) = parse_edm_duration(&text) {
        assert_eq!(parse_edm_duration(&iso(d)), Ok(d), "{text:?} -> {}", iso(d));
    }
});
