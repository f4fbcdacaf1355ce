//! The `spec` and `validate` commands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};

use super::diff::{LEGEND, PRESENCE_PATHS, diff};
use super::export::export;
use super::lint::lint;
use super::load::parse_document;
use super::{Contract, HttpMessage, SpecDocument, Strictness};

#[derive(Subcommand)]
pub enum SpecCommand {
    /// Check a spec: OpenAPI 3.0, every $ref resolves, operationIds and responses, examples valid.
    #[command(
        after_help = "Examples:\n  presence-conformance spec lint\n  presence-conformance spec lint spec/graph-presence.beta.openapi.yaml"
    )]
    Lint {
        /// Default: every OpenAPI document under spec/ in a checkout of this crate; elsewhere the
        /// documents embedded in the binary.
        files: Vec<PathBuf>,
    },
    /// What differs between our spec and an upstream Graph OpenAPI file; exits 1 on drift.
    ///
    /// Bound actions compare without their `microsoft.graph.` prefix. In the text output `+` is
    /// in upstream only, `-` in ours only, `~` in both but different.
    #[command(
        after_help = "Example:\n  presence-conformance spec diff spec/graph-presence.v1.0.openapi.yaml openapi.yaml"
    )]
    Diff {
        /// Our OpenAPI document (YAML or JSON), e.g. spec/graph-presence.v1.0.openapi.yaml.
        ours: PathBuf,
        /// The upstream document, e.g. msgraph-metadata's openapi/v1.0/openapi.yaml; a YAML file
        /// of several documents is read up to its first `---` separator.
        upstream: PathBuf,
        /// Only paths matching this regular expression.
        #[arg(long, default_value = PRESENCE_PATHS)]
        paths: String,
        /// `text` (one line per difference) or `json`.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Write our contract as plain JSON for other tools (Schemathesis, Prism, Dredd).
    ///
    /// `documented` states the rules the documentation gives in prose (our `x-presence-documented`
    /// extensions, which such tools ignore) as JSON Schema keywords, so that "schema-valid" means
    /// what the reference server accepts; `upstream` removes the extensions.
    #[command(
        after_help = "Examples:\n  presence-conformance spec export --strictness documented > presence.v1.0.json\n  presence-conformance spec export --version beta --session-id <app id> --output beta.json"
    )]
    Export {
        /// `documented` (what the server keeps) or `upstream` (Microsoft's published document).
        #[arg(long, value_enum, default_value = "documented")]
        strictness: Strictness,
        /// The bundled document of `v1.0` or `beta`.
        #[arg(long, value_enum, default_value = "v1.0", conflicts_with = "spec")]
        version: DocumentVersion,
        /// Another document of ours (YAML or JSON) instead of the bundled one.
        #[arg(long)]
        spec: Option<PathBuf>,
        /// sessionId must be this app id (under auth, the app whose token the tool sends).
        #[arg(long)]
        session_id: Option<String>,
        /// Write here instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// The bundled documents.
#[derive(Clone, Copy, ValueEnum)]
pub enum DocumentVersion {
    #[value(name = "v1.0")]
    V1_0,
    Beta,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Check one message by hand.
#[derive(Args)]
pub struct ValidateArgs {
    /// Default: spec/graph-presence.v1.0.openapi.yaml (`--version beta`: the beta document) in a
    /// checkout of this crate; elsewhere that document as embedded in the binary.
    #[arg(long)]
    spec: Option<PathBuf>,
    /// Which document when there is no `--spec`.
    #[arg(long, value_enum, default_value = "v1.0", conflicts_with = "spec")]
    version: DocumentVersion,
    /// The operationId (`users.user.presence.setPresence`).
    #[arg(long)]
    operation: String,
    /// The body is a request body (one of --request and --response is required).
    #[arg(
        long,
        conflicts_with = "response",
        required_unless_present = "response"
    )]
    request: bool,
    /// The body is a response body with this status.
    #[arg(long)]
    response: Option<u16>,
    #[arg(long, value_enum, default_value = "documented")]
    strictness: Strictness,
    /// The JSON body (`-` for standard input).
    body: PathBuf,
}

pub fn run_spec(command: SpecCommand) -> anyhow::Result<ExitCode> {
    match command {
        SpecCommand::Export {
            strictness,
            version,
            spec,
            session_id,
            output,
        } => run_export(strictness, version, spec, session_id, output),
        SpecCommand::Lint { files } => {
            let documents = if files.is_empty() {
                default_documents()?
            } else {
                files.into_iter().map(SpecText::File).collect()
            };
            let mut failed = false;
            for document in documents {
                let (text, shown) = document.read()?;
                let problems = lint(&text, &shown)?;
                if problems.is_empty() {
                    println!("{shown}: ok");
                } else {
                    failed = true;
                    for p in problems {
                        println!("{shown}#{p}");
                    }
                }
            }
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        SpecCommand::Diff {
            ours,
            upstream,
            paths,
            format,
        } => {
            let filter = regex::Regex::new(&paths)
                .with_context(|| format!("--paths {paths:?} is not a regular expression"))?;
            let read = |p: &PathBuf| -> anyhow::Result<serde_json::Value> {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read {}", p.display()))?;
                Ok(parse_document(
                    first_document(&text),
                    &p.display().to_string(),
                )?)
            };
            let changes = diff(&read(&ours)?, &read(&upstream)?, &filter);
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&changes)?),
                Format::Text if changes.is_empty() => {
                    println!("no drift on paths matching {paths}")
                }
                Format::Text => {
                    println!("{LEGEND}");
                    for c in &changes {
                        println!("{c}");
                    }
                    println!("{}", crate::plural(changes.len(), "difference"));
                }
            }
            Ok(if changes.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// A spec document to read: a file, or one embedded in the binary.
enum SpecText {
    File(PathBuf),
    Embedded {
        origin: &'static str,
        text: &'static str,
    },
}

impl SpecText {
    /// The text and how messages name it.
    fn read(&self) -> anyhow::Result<(String, String)> {
        match self {
            SpecText::File(path) => Ok((
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
                path.display().to_string(),
            )),
            SpecText::Embedded { origin, text } => {
                Ok(((*text).to_owned(), format!("{origin} (embedded)")))
            }
        }
    }
}

/// Every document the binary embeds, as `spec lint` names them.
const EMBEDDED: [(&str, &str); 3] = [
    (
        "spec/control.openapi.yaml",
        include_str!("../../spec/control.openapi.yaml"),
    ),
    (
        "spec/graph-presence.beta.openapi.yaml",
        include_str!("../../spec/graph-presence.beta.openapi.yaml"),
    ),
    (
        "spec/graph-presence.v1.0.openapi.yaml",
        include_str!("../../spec/graph-presence.v1.0.openapi.yaml"),
    ),
];

/// The directory `spec/` of the checkout of this crate around the current directory, as a path
/// relative to it where it can be.
fn checkout_spec_dir() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let spec = crate::checkout::root_around(&cwd)?.join("spec");
    Some(
        spec.strip_prefix(&cwd)
            .map_or(spec.clone(), Path::to_path_buf),
    )
}

/// `spec lint` with no files: the OpenAPI documents under the checkout's `spec/`, or the embedded ones.
fn default_documents() -> anyhow::Result<Vec<SpecText>> {
    let Some(dir) = checkout_spec_dir() else {
        return Ok(EMBEDDED
            .iter()
            .map(|&(origin, text)| SpecText::Embedded { origin, text })
            .collect());
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".openapi.yaml"))
        .collect();
    found.sort();
    Ok(found.into_iter().map(SpecText::File).collect())
}

/// `validate`'s document: `--spec`, else `version`'s from the checkout's `spec/` or embedded.
fn validate_document(spec: Option<PathBuf>, version: DocumentVersion) -> SpecText {
    let document = match version {
        DocumentVersion::V1_0 => SpecDocument::V1_0,
        DocumentVersion::Beta => SpecDocument::Beta,
    };
    let name = Path::new(document.origin())
        .file_name()
        .unwrap_or_default()
        .to_owned();
    match (spec, checkout_spec_dir()) {
        (Some(path), _) => SpecText::File(path),
        (None, Some(dir)) => SpecText::File(dir.join(name)),
        (None, None) => SpecText::Embedded {
            origin: document.origin(),
            text: document.bundled_text(),
        },
    }
}

/// `spec export`: the bundled document of `version`, or `spec`, as JSON at `strictness`.
fn run_export(
    strictness: Strictness,
    version: DocumentVersion,
    spec: Option<PathBuf>,
    session_id: Option<String>,
    output: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let (text, origin) = match &spec {
        Some(path) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
            path.display().to_string(),
        ),
        None => {
            let document = match version {
                DocumentVersion::V1_0 => SpecDocument::V1_0,
                DocumentVersion::Beta => SpecDocument::Beta,
            };
            (
                document.bundled_text().to_owned(),
                document.origin().to_owned(),
            )
        }
    };
    let document = parse_document(&text, &origin)?;
    let exported = export(document, strictness, session_id.as_deref());
    let mut json = serde_json::to_string_pretty(&exported)?;
    json.push('\n');
    match output {
        Some(path) => crate::fsutil::write_atomically(&path, json.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{json}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The first document of a YAML stream (`---` separates documents; a leading one is allowed).
fn first_document(text: &str) -> &str {
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end();
        if bare == "---" || bare.starts_with("--- ") || bare == "..." {
            if text[start..offset].trim().is_empty()
                || text[start..offset].lines().all(is_blank_or_comment)
            {
                start = offset + line.len();
            } else {
                return &text[start..offset];
            }
        }
        offset += line.len();
    }
    &text[start..]
}

fn is_blank_or_comment(line: &str) -> bool {
    let line = line.trim();
    line.is_empty() || line.starts_with('#') || line.starts_with('%')
}

pub fn run_validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let (text, shown) = validate_document(args.spec, args.version).read()?;
    let contract = Contract::from_yaml_str(&text, &shown, args.strictness)?;
    let body = if args.body.as_os_str() == "-" {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut text)?;
        text
    } else {
        std::fs::read(&args.body).with_context(|| format!("cannot read {}", args.body.display()))?
    };
    let Some((method, path)) = contract.example_request(&args.operation) else {
        let known: Vec<&str> = contract.operation_ids().collect();
        anyhow::bail!(
            "{shown} has no operation {}; it has:\n  {}",
            args.operation,
            known.join("\n  ")
        );
    };
    let request = HttpMessage {
        method: &method,
        path: &path,
        content_type: Some("application/json"),
        body: &body,
    };
    let violations = match args.response {
        None => contract.check_request(&request),
        Some(status) => {
            let empty = HttpMessage {
                body: b"",
                ..request
            };
            let response = HttpMessage {
                body: &body,
                ..request
            };
            contract.check_response(&empty, status, &response)
        }
    };
    for v in &violations {
        println!("{v}");
    }
    println!("{}", crate::plural(violations.len(), "violation"));
    Ok(if violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
