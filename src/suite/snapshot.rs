//! Regression snapshots: each trial's observed timeline kept per target as an insta snapshot
//! (`<dir>/<topic>__<case>.snap`), and the regression state it gives: unchanged, changed, new or
//! off. One implementation for the `cargo test` harness and the `run` command, so both read and
//! write the same files the same way.
//!
//! Files are written exactly as the `insta` crate writes them (its header, its YAML emitter), so
//! `cargo insta review` and `cargo insta accept` work on them; they are compared as parsed YAML
//! values, so formatting never matters. Every write is atomic (a temporary file, then a rename).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::case::Case;
use crate::runner::CaseRun;
use crate::runner::timeline::Timeline;

/// What to do with snapshots.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SnapshotMode {
    /// Compare where a snapshot exists; a missing one is "new" and does not fail.
    #[default]
    Compare,
    /// Compare, and a missing snapshot fails (for a committed baseline).
    Require,
    /// Write the snapshots of new and changed timelines (neither fails).
    Update,
    /// No snapshots.
    Off,
}

impl std::str::FromStr for SnapshotMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "" | "compare" => Ok(SnapshotMode::Compare),
            "require" => Ok(SnapshotMode::Require),
            "update" => Ok(SnapshotMode::Update),
            "off" => Ok(SnapshotMode::Off),
            other => Err(format!(
                "snapshot mode must be compare, require, update or off, not '{other}'"
            )),
        }
    }
}

/// A trial's regression state: did its observed timeline change since the baseline?
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Regression {
    Unchanged,
    /// With a unified diff from the snapshot to what was observed.
    Changed(String),
    /// No snapshot yet.
    New,
    /// Snapshots are off, or the case did not run (no timeline).
    Off,
}

impl Regression {
    /// The state's name as reports print it.
    pub fn label(&self) -> &'static str {
        match self {
            Regression::Unchanged => "unchanged",
            Regression::Changed(_) => "changed",
            Regression::New => "new",
            Regression::Off => "off",
        }
    }
}

/// A trial's regression state, whether it fails the run, and what was written.
#[derive(Clone, Debug)]
pub struct RegressionResult {
    pub state: Regression,
    /// Why it fails the run: a changed timeline, a required snapshot that is missing, a snapshot
    /// that cannot be read or written.
    pub failure: Option<String>,
    /// The file written: the snapshot (`update`), or a `.snap.new` for `cargo insta review`.
    pub written: Option<PathBuf>,
}

impl RegressionResult {
    /// Snapshots off, or nothing to snapshot.
    pub fn off() -> Self {
        RegressionResult {
            state: Regression::Off,
            failure: None,
            written: None,
        }
    }

    fn of(state: Regression) -> Self {
        RegressionResult {
            state,
            failure: None,
            written: None,
        }
    }
}

/// Where a case's snapshot lives under a target's snapshot directory.
fn snapshot_path(dir: &Path, case_name: &str) -> PathBuf {
    dir.join(format!("{}.snap", case_name.replace("::", "__")))
}

/// The regression state of a run: off when the target could not be driven to the end,
/// throttled the case out or left it behind its timeline (its timeline is incomplete, and the
/// verdict says why).
pub fn check_run(
    dir: &Path,
    case: &Case,
    run: &CaseRun,
    mode: SnapshotMode,
    source: &str,
) -> RegressionResult {
    if !run.ran_to_the_end() {
        return RegressionResult::off();
    }
    check(dir, case, &run.timeline, mode, source)
}

/// Compares `timeline` with the case's snapshot under `dir` (and writes it, as `mode` says).
/// `source` names the writer in the header of new files (`tests/conformance.rs`, `presence-conformance run`).
fn check(
    dir: &Path,
    case: &Case,
    timeline: &Timeline,
    mode: SnapshotMode,
    source: &str,
) -> RegressionResult {
    if mode == SnapshotMode::Off {
        return RegressionResult::off();
    }
    let path = snapshot_path(dir, &case.name);
    let observed = match serde_json::to_value(timeline) {
        Ok(v) => v,
        Err(e) => {
            return failed(
                Regression::Off,
                format!("cannot serialise the timeline: {e}"),
            );
        }
    };
    let stored = match std::fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            let why = format!("cannot read the snapshot {}: {e}", path.display());
            return failed(Regression::Changed(String::new()), why);
        }
    };
    let header = header([
        ("source", source.to_owned()),
        ("description", case.title.clone()),
        ("input_file", shown_path(&case.path)),
    ]);
    match stored {
        None => missing(&path, &header, &observed, mode),
        Some(text) => compare(&path, header, &text, &observed, mode),
    }
}

fn failed(state: Regression, why: String) -> RegressionResult {
    RegressionResult {
        state,
        failure: Some(why),
        written: None,
    }
}

/// No snapshot yet: "new", recorded with `update`, a failure with `require`.
fn missing(path: &Path, header: &Header, observed: &Value, mode: SnapshotMode) -> RegressionResult {
    match mode {
        SnapshotMode::Update => write(path, header, observed, Regression::New),
        SnapshotMode::Require => failed(
            Regression::New,
            format!(
                "no snapshot {} (--snapshots require); record the baseline with --snapshots update",
                path.display()
            ),
        ),
        _ => RegressionResult::of(Regression::New),
    }
}

fn compare(
    path: &Path,
    mut header: Header,
    text: &str,
    observed: &Value,
    mode: SnapshotMode,
) -> RegressionResult {
    let (stored_header, stored) = match parse_snapshot(text) {
        Ok(parsed) => parsed,
        // `update` replaces a snapshot it cannot read; otherwise that is a failure.
        Err(_) if mode == SnapshotMode::Update => {
            return write(path, &header, observed, Regression::Changed(String::new()));
        }
        Err(why) => {
            let why = format!("{}: not an insta snapshot: {why}", path.display());
            return failed(Regression::Changed(String::new()), why);
        }
    };
    // Both sides through the same emitter and parser, so only values are compared.
    let now = emit_document(observed);
    let now_value = match parse_yaml(&now) {
        Ok(v) => v,
        Err(why) => {
            return failed(
                Regression::Off,
                format!("cannot re-read the timeline: {why}"),
            );
        }
    };
    if now_value == stored {
        return RegressionResult::of(Regression::Unchanged);
    }
    let diff = similar::TextDiff::from_lines(&emit_document(&stored), &now)
        .unified_diff()
        .context_radius(3)
        .header(&path.display().to_string(), "observed")
        .to_string();
    // A rewritten snapshot keeps its header (its writer, any field insta added), updated.
    if let Value::Object(mut stored_header) = stored_header {
        for (key, value) in std::mem::take(&mut header) {
            if key != "source" || !stored_header.contains_key("source") {
                stored_header.insert(key, value);
            }
        }
        header = stored_header;
    }
    if mode == SnapshotMode::Update {
        return write(path, &header, observed, Regression::Changed(diff));
    }
    let mut result = failed(Regression::Changed(diff), changed_hint(path));
    if !in_ci() {
        let pending = path.with_extension("snap.new");
        if crate::fsutil::write_atomically(&pending, render(&header, observed).as_bytes()).is_ok() {
            result.written = Some(pending);
        }
    }
    result
}

/// What to do about a changed timeline. Inside a checkout of this crate the developer's tools
/// are named too; anywhere else only the command the reader is running.
fn changed_hint(path: &Path) -> String {
    let shown = path.display();
    if crate::checkout::root_around(path).is_some() {
        format!(
            "the observed timeline differs from {shown}; accept it with `--snapshots update` (`PRESENCE_SNAPSHOTS=update` under cargo test) or `cargo insta review`"
        )
    } else {
        format!(
            "the observed timeline differs from {shown}; review the diff above and, if the new timeline is right, accept it with `--snapshots update`"
        )
    }
}

/// Writes the snapshot (and removes a pending `.snap.new` it replaces).
fn write(path: &Path, header: &Header, observed: &Value, state: Regression) -> RegressionResult {
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| crate::fsutil::write_atomically(path, render(header, observed).as_bytes()));
    match written {
        Ok(()) => {
            let _ = std::fs::remove_file(path.with_extension("snap.new"));
            RegressionResult {
                state,
                failure: None,
                written: Some(path.to_owned()),
            }
        }
        Err(e) => failed(state, format!("cannot write {}: {e}", path.display())),
    }
}

/// As insta decides: `CI` set (and not `false`/`0`) means no pending `.snap.new` files.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A path as a snapshot header names it: relative to the current directory where it can be.
fn shown_path(path: &Path) -> String {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    relative.to_string_lossy().replace('\\', "/")
}

/// The metadata insta keeps at the top of a snapshot, in its order.
type Header = serde_json::Map<String, Value>;

fn header<const N: usize>(fields: [(&str, String); N]) -> Header {
    fields
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Value::String(v)))
        .collect()
}

/// A snapshot file as insta writes it: `---`, the metadata, `---`, the value.
fn render(header: &Header, value: &Value) -> String {
    let mut out = String::from("---\n");
    out.push_str(&emit_document(&Value::Object(header.clone())));
    out.push_str("---\n");
    out.push_str(&emit_document(value));
    out
}

/// Splits a snapshot file into its metadata and its value.
fn parse_snapshot(text: &str) -> Result<(Value, Value), String> {
    let text = text.replace("\r\n", "\n");
    let rest = text
        .strip_prefix("---\n")
        .ok_or("it does not start with `---`")?;
    let (meta, body) = match rest.split_once("\n---\n") {
        Some((meta, body)) => (meta, body),
        None => ("", rest),
    };
    Ok((parse_yaml(meta)?, parse_yaml(body)?))
}

fn parse_yaml(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| e.to_string())
}

/// A value as insta's YAML emitter writes it, without the document marker, ending in one newline.
fn emit_document(value: &Value) -> String {
    let mut emitter = Emitter {
        out: String::new(),
        level: -1,
    };
    emitter.node(value);
    let mut out = emitter.out.trim_end().to_owned();
    out.push('\n');
    out
}

/// insta's vendored yaml-rust emitter (compact, two-space indent, no literal blocks), over JSON
/// values.
struct Emitter {
    out: String,
    level: isize,
}

impl Emitter {
    fn indent(&mut self) {
        for _ in 0..self.level.max(0) {
            self.out.push_str("  ");
        }
    }

    fn node(&mut self, value: &Value) {
        match value {
            Value::Array(items) => self.array(items),
            Value::Object(map) => self.hash(map),
            Value::String(s) => self.string(s),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => self.out.push_str(&i.to_string()),
                (None, Some(u), _) => self.out.push_str(&u.to_string()),
                (None, None, Some(f)) => self.out.push_str(&f.to_string()),
                _ => self.out.push_str(&n.to_string()),
            },
            Value::Null => self.out.push('~'),
        }
    }

    fn array(&mut self, items: &[Value]) {
        if items.is_empty() {
            self.out.push_str("[]");
            return;
        }
        self.level += 1;
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push('\n');
                self.indent();
            }
            self.out.push('-');
            self.value(true, item);
        }
        self.level -= 1;
    }

    fn hash(&mut self, map: &serde_json::Map<String, Value>) {
        if map.is_empty() {
            self.out.push_str("{}");
            return;
        }
        self.level += 1;
        for (i, (key, value)) in map.iter().enumerate() {
            if i > 0 {
                self.out.push('\n');
                self.indent();
            }
            self.string(key);
            self.out.push(':');
            self.value(false, value);
        }
        self.level -= 1;
    }

    /// A value after `-` (inline) or after `key:`.
    fn value(&mut self, inline: bool, value: &Value) {
        let empty = match value {
            Value::Array(items) => items.is_empty(),
            Value::Object(map) => map.is_empty(),
            _ => {
                self.out.push(' ');
                return self.node(value);
            }
        };
        if inline || empty {
            self.out.push(' ');
        } else {
            self.out.push('\n');
            self.level += 1;
            self.indent();
            self.level -= 1;
        }
        self.node(value);
    }

    fn string(&mut self, s: &str) {
        if needs_quotes(s) {
            quote(&mut self.out, s);
        } else {
            self.out.push_str(s);
        }
    }
}

/// insta's rule for plain scalars that would read back as something else.
fn needs_quotes(s: &str) -> bool {
    const SPECIAL: [&str; 22] = [
        "yes", "Yes", "YES", "no", "No", "NO", "True", "TRUE", "true", "False", "FALSE", "false",
        "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
    ];
    s.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with(['&', '*', '?', '|', '-', '<', '>', '=', '!', '%', '@'])
        || s.contains(|c: char| {
            matches!(c, ':' | '{' | '}' | '[' | ']' | ',' | '#' | '`' | '"' | '\'' | '\\'
                | '\0'..='\x06' | '\t' | '\n' | '\r' | '\x0e'..='\x1a' | '\x1c'..='\x1f')
        })
        || SPECIAL.contains(&s)
        || s.starts_with('.')
        || s.starts_with("0x")
        || s.parse::<i64>().is_ok()
        || s.parse::<f64>().is_ok()
}

/// A double-quoted scalar, escaped as insta escapes it.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x08' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\x0c' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            '\0'..='\x1f' | '\x7f' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every committed snapshot reads back and renders to exactly its own bytes: the emitter is
    /// insta's, so files written by `--snapshots update` match what `cargo insta` writes.
    #[test]
    fn every_committed_snapshot_renders_byte_identically() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots");
        let mut seen = 0;
        for target in std::fs::read_dir(&root).unwrap() {
            for file in std::fs::read_dir(target.unwrap().path()).unwrap() {
                let path = file.unwrap().path();
                if path.extension().is_none_or(|e| e != "snap") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let (meta, value) = parse_snapshot(&text).unwrap();
                let Value::Object(header) = meta else {
                    panic!("{}: no header", path.display())
                };
                assert_eq!(render(&header, &value), text, "{}", path.display());
                seen += 1;
            }
        }
        assert!(seen > 200, "only {seen} snapshots found");
    }

    #[test]
    fn scalars_are_quoted_where_yaml_would_read_them_otherwise() {
        let value = serde_json::json!({
            "a": "no", "b": "12", "c": "x: y", "d": "-x", "e": "line\nnext\u{1}", "f": "",
            "g": "plain text", "h": [], "i": {}, "j": null, "k": 1.5, "l": [{"m": [1, 2]}],
        });
        let text = emit_document(&value);
        assert_eq!(
            text,
            "a: \"no\"\nb: \"12\"\nc: \"x: y\"\nd: \"-x\"\ne: \"line\\nnext\\u0001\"\nf: \"\"\ng: plain text\nh: []\ni: {}\nj: ~\nk: 1.5\nl:\n  - m:\n      - 1\n      - 2\n"
        );
        assert_eq!(parse_yaml(&text).unwrap(), value);
    }

    /// A case and a timeline with one observation of `presence`.
    fn observed(presence: &str) -> (Case, Timeline) {
        let text = "title: t\nsource: https://example.test\nrules: [fade.away]\nusers: [alice]\n\
                    steps:\n  - at: PT0S\n    observe: { user: alice, availability: Offline }\n";
        let case =
            crate::case::load_str("topic::case", Path::new("cases/topic/case.yaml"), text).unwrap();
        let timeline = Timeline {
            case: case.name.clone(),
            entries: vec![crate::runner::Entry {
                at: jiff::SignedDuration::ZERO,
                line: 7,
                by: crate::runner::Acting {
                    app: "observer".into(),
                    delegate: None,
                },
                request: None,
                body: None,
                status: None,
                response: None,
                observed: Some(serde_json::json!({ "presence": presence })),
                notifications: None,
                contract: Vec::new(),
            }],
            ..Timeline::default()
        };
        (case, timeline)
    }

    #[test]
    fn new_then_unchanged_then_changed_with_a_diff() {
        let dir = std::env::temp_dir().join(format!("pc-snapshot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (case, offline) = observed("Offline/Offline");
        let src = "tests";
        let first = check(&dir, &case, &offline, SnapshotMode::Compare, src);
        assert_eq!((first.state, first.failure), (Regression::New, None));
        let required = check(&dir, &case, &offline, SnapshotMode::Require, src);
        assert!(required.failure.unwrap().contains("--snapshots require"));
        let update = check(&dir, &case, &offline, SnapshotMode::Update, src);
        assert_eq!(update.written, Some(dir.join("topic__case.snap")));
        let file = std::fs::read_to_string(dir.join("topic__case.snap")).unwrap();
        assert!(file.starts_with("---\nsource: tests\ndescription: t\ninput_file: cases/topic/case.yaml\n---\ncase: \"topic::case\"\n"), "{file}");
        let again = check(&dir, &case, &offline, SnapshotMode::Require, src);
        assert_eq!((again.state, again.failure), (Regression::Unchanged, None));
        let (_, busy) = observed("Busy/Busy");
        let changed = check(&dir, &case, &busy, SnapshotMode::Compare, src);
        let Regression::Changed(diff) = &changed.state else {
            panic!("{changed:?}")
        };
        assert!(
            diff.contains("-      presence: Offline/Offline\n+      presence: Busy/Busy\n"),
            "{diff}"
        );
        assert!(changed.failure.is_some());
        assert_eq!(
            check(&dir, &case, &busy, SnapshotMode::Off, src).state,
            Regression::Off
        );
        // `update` accepts the change, and replaces a file it cannot read.
        std::fs::write(dir.join("topic__case.snap"), "not a snapshot").unwrap();
        let broken = check(&dir, &case, &busy, SnapshotMode::Compare, src);
        assert!(broken.failure.unwrap().contains("not an insta snapshot"));
        let fixed = check(&dir, &case, &busy, SnapshotMode::Update, src);
        assert_eq!(fixed.failure, None);
        let after = check(&dir, &case, &busy, SnapshotMode::Compare, src);
        assert_eq!(after.state, Regression::Unchanged);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_hint_names_cargo_only_inside_this_checkout() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots/reference/a.snap");
        assert!(changed_hint(&here).contains("cargo insta review"));
        let elsewhere = std::env::temp_dir().join("baseline/a.snap");
        let hint = changed_hint(&elsewhere);
        assert!(hint.contains("review the diff above"), "{hint}");
        assert!(hint.contains("`--snapshots update`"), "{hint}");
        assert!(!hint.contains("cargo"), "{hint}");
    }

    #[test]
    fn formatting_does_not_matter_values_do() {
        let (_, a) = parse_snapshot("---\nsource: x\n---\nk: [1, 'two']\n").unwrap();
        let (_, b) = parse_snapshot("---\nsource: y\n---\nk:\n  - 1\n  - \"two\"\n").unwrap();
        assert_eq!(a, b);
        assert!(parse_snapshot("k: 1\n").is_err());
    }
}
