//! What several test files share: `presence-conformance serve` in a child process, and a target
//! profile for it.

#![allow(dead_code)] // each test file uses its own part

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// `presence-conformance serve` in a child process, killed on drop, with the address and the
/// banner it printed.
pub struct ServeProcess {
    child: Child,
    pub addr: String,
    pub banner: String,
}

impl ServeProcess {
    /// On a free loopback port, with `args` after `serve`.
    pub fn start(args: &[&str]) -> Self {
        let mut all = vec!["--addr", "127.0.0.1:0"];
        all.extend_from_slice(args);
        Self::spawn(&all)
    }

    /// `serve` with exactly `args` (and `--quiet`), from the package root.
    pub fn spawn(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_presence-conformance"))
            .arg("serve")
            .args(args)
            .arg("--quiet")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut banner = String::new();
        BufReader::new(child.stderr.take().unwrap())
            .read_line(&mut banner)
            .unwrap();
        let addr = banner
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split([' ', '/']).next())
            .unwrap_or_default()
            .to_owned();
        ServeProcess {
            child,
            addr,
            banner,
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `targets/local.toml` pointed at `addr` with `kind = "none"` auth, written to `dir/file`;
/// `name`, when given, renames the target and keeps its snapshots in `dir/baseline`.
pub fn no_auth_profile(dir: &Path, addr: &str, file: &str, name: Option<&str>) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("targets/local.toml")).unwrap();
    let auth = regex::Regex::new(r#"(?m)^\[auth\]\n(?:[a-z_]+ = .*\n)+"#).unwrap();
    assert!(
        auth.is_match(&text),
        "no [auth] block in targets/local.toml"
    );
    let mut text = auth
        .replace(&text, "[auth]\nkind = \"none\"\n")
        .replace("127.0.0.1:8080", addr);
    if let Some(name) = name {
        text = text.replacen(
            "name = \"local\"",
            &format!("name = \"{name}\"\nsnapshots = \"baseline\""),
            1,
        );
    }
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}
