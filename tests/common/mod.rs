//! What several test files share: `presence-conformance serve` in a child process.

#![allow(dead_code)] // each test file uses its own part

use std::io::{BufRead, BufReader};
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
