//! Reading a Graph-sized OpenAPI document: Microsoft's full `openapi/v1.0/openapi.yaml` is tens
//! of megabytes. This generates a document of that size from our presence slice (its paths
//! repeated under other names) and reads it as `spec diff` does, through serde-saphyr with the
//! spec budget, printing the time and the peak memory.

use std::time::Instant;

fn main() {
    let megabytes: usize = std::env::var("PC_SPEC_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let slice = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("spec/graph-presence.v1.0.openapi.yaml"),
    )
    .expect("spec/graph-presence.v1.0.openapi.yaml");
    let (head, rest) = slice.split_once("\npaths:\n").expect("a paths section");
    let (paths, tail) = rest
        .split_once("\ncomponents:\n")
        .expect("a components section");
    let mut text = format!("{head}\npaths:\n");
    let mut copies = 0;
    while text.len() < megabytes << 20 {
        text.push_str(
            &paths
                .replace("  /users/", &format!("  /copy{copies}/users/"))
                .replace("  /me/", &format!("  /copy{copies}/me/"))
                .replace(
                    "  /communications/",
                    &format!("  /copy{copies}/communications/"),
                ),
        );
        text.push('\n');
        copies += 1;
    }
    text.push_str("\ncomponents:\n");
    text.push_str(tail);
    let before = peak_kib();
    let started = Instant::now();
    let document = presence_conformance::contract::load::parse_yaml(&text, "generated")
        .expect("the generated document parses");
    let took = started.elapsed();
    let paths = document["paths"].as_object().map_or(0, |p| p.len());
    println!(
        "spec yaml: {:.1} MB ({copies} copies of the presence paths, {paths} paths) read in {:.2} s ({:.1} MB/s); peak RSS {} MiB (was {} MiB before reading)",
        text.len() as f64 / 1e6,
        took.as_secs_f64(),
        text.len() as f64 / 1e6 / took.as_secs_f64(),
        peak_kib() / 1024,
        before / 1024,
    );
}

/// The process's peak resident set (VmHWM), in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
