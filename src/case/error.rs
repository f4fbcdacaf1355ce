//! Errors in case files, reported the way a compiler reports them: the file, line and column, the
//! reason, the offending source line with a caret, and a hint where one helps.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

static LINE_COLUMN_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^line \d+ column \d+: ").unwrap_or_else(|e| unreachable!("constant pattern: {e}"))
});

/// A case file that cannot be run as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseError {
    pub path: PathBuf,
    pub line: u64,
    pub column: u64,
    pub message: String,
    pub hint: Option<String>,
    source_line: Option<String>,
}

impl std::error::Error for CaseError {}

impl CaseError {
    pub fn at(path: &Path, text: &str, line: u64, column: u64, message: String) -> Self {
        let source_line = usize::try_from(line)
            .ok()
            .and_then(|l| l.checked_sub(1))
            .and_then(|i| text.lines().nth(i))
            .map(str::to_owned);
        CaseError {
            path: path.to_path_buf(),
            line,
            column,
            message,
            hint: None,
            source_line,
        }
    }

    pub fn io(path: &Path, e: &std::io::Error) -> Self {
        CaseError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the case file: {e}"),
            hint: None,
            source_line: None,
        }
    }

    /// A YAML or shape error from the parser (unknown field, wrong type, duplicate key).
    pub(crate) fn from_yaml(path: &Path, text: &str, e: &serde_saphyr::Error) -> Self {
        let (line, column) = e.location().map_or((1, 1), |l| (l.line(), l.column()));
        // The parser's own text may carry a snippet; keep its first line, we draw our own.
        let full = e.to_string();
        let message = full
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("invalid YAML")
            .trim()
            .trim_start_matches("error: ");
        // The parser prefixes its own "line L column C: "; the location is shown below anyway.
        let message = LINE_COLUMN_PREFIX.replace(message, "").into_owned();
        let mut error = CaseError::at(path, text, line, column, message);
        if error.message.contains("unknown field") {
            error.hint = Some("see spec/case.schema.json for the fields a case may use".into());
            if let Some((wrong, expected)) = unknown_field(&error.message) {
                let expected = expected.clone();
                error = error.with_suggestion(&wrong, expected.iter().map(String::as_str));
            }
        }
        error
    }

    pub(crate) fn with_hint(mut self, hint: &str) -> Self {
        self.hint = Some(hint.to_owned());
        self
    }

    /// Adds "did you mean ...?" when a known name is one or two edits away.
    pub(crate) fn with_suggestion<'a>(
        self,
        wrong: &str,
        known: impl Iterator<Item = &'a str>,
    ) -> Self {
        let best = known
            .map(|k| (strsim::levenshtein(wrong, k), k))
            .filter(|(d, _)| *d <= 2)
            .min();
        match best {
            Some((_, k)) => self.with_hint(&format!("did you mean '{k}'?")),
            None => self,
        }
    }

    /// The full, multi-line report.
    pub fn render(&self) -> String {
        let mut out = format!("error: {}\n  --> {}", self.message, self.location());
        if let Some(source) = &self.source_line {
            let gutter = self.line.to_string().len();
            let caret = " ".repeat(usize::try_from(self.column.saturating_sub(1)).unwrap_or(0));
            out.push_str(&format!(
                "\n{:gutter$} |\n{} | {source}\n{:gutter$} | {caret}^",
                "", self.line, ""
            ));
        }
        if let Some(hint) = &self.hint {
            out.push_str(&format!("\n  = hint: {hint}"));
        }
        out
    }

    fn location(&self) -> String {
        if self.line == 0 {
            self.path.display().to_string()
        } else {
            format!("{}:{}:{}", self.path.display(), self.line, self.column)
        }
    }
}

impl fmt::Display for CaseError {
    /// One line: `file:line:column: reason`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// The field and the expected ones of serde's "unknown field `x`, expected one of a, b" (names
/// with or without backticks).
fn unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.split("unknown field").nth(1)?;
    let wrong = rest.split('`').nth(1)?.to_owned();
    let expected = rest.split("expected").nth(1)?;
    let expected = expected
        .trim_start_matches(" one of")
        .split([',', ' '])
        .map(|name| name.trim().trim_matches('`'))
        .filter(|name| !name.is_empty() && *name != "or")
        .map(str::to_owned)
        .collect();
    Some((wrong, expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_key_gets_the_closest_expected_one() {
        let text = "steps:\n  - setPresense: {}\n";
        let error = CaseError::at(
            Path::new("x.yaml"),
            text,
            2,
            5,
            "unknown field `setPresense`, expected one of `at`, `setPresence`, `observe`".into(),
        );
        let (wrong, expected) = unknown_field(&error.message).unwrap();
        assert_eq!(wrong, "setPresense");
        let error = error.with_suggestion(&wrong, expected.iter().map(String::as_str));
        assert_eq!(error.hint.as_deref(), Some("did you mean 'setPresence'?"));
    }
}
