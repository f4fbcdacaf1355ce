//! Whether a path lies inside a checkout of this crate's own source: there `spec/` on disk is the
//! spec being edited and `cargo test` and `cargo insta` are at hand; anywhere else the reader is a
//! user of the binary, which carries its spec embedded.

use std::path::{Path, PathBuf};

/// The root of the checkout of this crate that holds `path` (a directory with a `Cargo.toml` whose
/// package is presence-conformance, `path` itself or above it), if any.
pub(crate) fn root_around(path: &Path) -> Option<PathBuf> {
    let path = std::path::absolute(path).ok()?;
    path.ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|text| names_this_crate(&text))
        })
        .map(Path::to_path_buf)
}

/// Whether a manifest's `[package] name` is this crate's.
fn names_this_crate(manifest: &str) -> bool {
    toml::from_str::<toml::Table>(manifest).is_ok_and(|t| {
        t.get("package")
            .and_then(|p| p.get("name"))
            .and_then(toml::Value::as_str)
            == Some(env!("CARGO_PKG_NAME"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_checkout_is_found_and_another_crate_is_not_it() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(
            root_around(&here.join("snapshots/reference/a.snap")).as_deref(),
            Some(here)
        );
        let dir = std::env::temp_dir().join(format!("pc-checkout-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"mine\"\n").unwrap();
        assert_eq!(root_around(&dir.join("sub")), None);
        std::fs::write(dir.join("Cargo.toml"), "not toml [").unwrap();
        assert_eq!(root_around(&dir.join("sub")), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
