//! The case-file loader never panics: any text is a case or a located error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use presence_conformance::case::load_str;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(error) = load_str("fuzz", std::path::Path::new("fuzz.yaml"), &text) {
        let _ = error.render();
    }
});
