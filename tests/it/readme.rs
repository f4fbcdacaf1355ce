//! The README's numbers and tables against the code: the case and rule counts it states are the
//! embedded suite's (`--version`), and its table of target keys lists exactly the keys a target
//! file takes (the keys the parser names when it refuses an unknown one), and each `[[apps]]` and
//! `[[users]]` key in its row.

use std::path::PathBuf;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_presence-conformance");

fn readme() -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md is readable")
}

/// The number written just before `noun` in `text`'s first "N noun" phrase.
fn count_before(text: &str, noun: &str) -> Option<usize> {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.windows(2).find_map(|w| {
        let next = w[1].trim_matches(|c: char| !c.is_alphanumeric());
        (next == noun).then(|| w[0].replace(',', "").parse().ok())?
    })
}

/// The keys a target file takes where `body` is, named by the parser's refusal of `zzz`.
fn keys_refused_with(body: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("pc-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("keys-{}.toml", body.len()));
    std::fs::write(&path, body).unwrap();
    let out = Command::new(BIN)
        .args(["run", "--target"])
        .arg(&path)
        .output()
        .expect("the binary runs");
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown key is a usage error"
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let list = stderr
        .split("expected one of ")
        .nth(1)
        .unwrap_or_else(|| panic!("the refusal names the keys: {stderr}"));
    list.lines()
        .next()
        .unwrap_or_default()
        .split(", ")
        .map(|k| k.trim().trim_matches('`').to_owned())
        .collect()
}

/// The README's table of target keys: the first cell of each row, without its backquotes.
fn readme_target_table(readme: &str) -> Vec<(String, String)> {
    let start = readme
        .find("| key | default | what it says |")
        .expect("the README has a table of target keys");
    readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_owned(), l.to_owned())
        })
        .collect()
}

#[test]
fn the_case_and_rule_counts_are_the_embedded_suites() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&out.stdout).into_owned();
    let readme = readme();
    for noun in ["cases", "rules"] {
        let code = count_before(&version, noun).expect("--version counts the suite");
        let text = count_before(&readme, noun).expect("the README states the count");
        assert_eq!(
            text, code,
            "README says {text} {noun}, the suite has {code}"
        );
    }
}

#[test]
fn the_target_key_table_lists_every_key_a_target_file_takes() {
    let readme = readme();
    let table = readme_target_table(&readme);
    let mut listed: Vec<String> = table
        .iter()
        .map(|(k, _)| k.trim_matches(['[', ']']).to_owned())
        .collect();
    let mut keys = keys_refused_with("name = \"x\"\nzzz = 1\n");
    listed.sort();
    keys.sort();
    assert_eq!(
        listed, keys,
        "the README's target keys against the parser's"
    );
    for (table_key, body) in [
        (
            "[[apps]]",
            "name = \"x\"\n[[apps]]\nclient_id = \"a\"\nzzz = 1\n",
        ),
        (
            "[[users]]",
            "name = \"x\"\n[[users]]\nid = \"a\"\nzzz = 1\n",
        ),
    ] {
        let row = &table.iter().find(|(k, _)| k == table_key).unwrap().1;
        for key in keys_refused_with(body) {
            assert!(
                row.contains(&format!("`{key}`")),
                "{table_key} row lacks `{key}`"
            );
        }
    }
}
