//! The `presence-conformance` command line: serve the reference server (and, as they land, run
//! suites, lint cases, lint and diff specs).

// No function in src/ over 80 lines (the threshold is in clippy.toml).
#![warn(clippy::too_many_lines)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use presence_conformance::contract::cli::{SpecCommand, ValidateArgs, run_spec, run_validate};
use presence_conformance::operation::Operation;
use presence_conformance::plural;
use presence_conformance::server::conditions::{Conditions, ConditionsConfig};
use presence_conformance::server::{AppState, PresenceClock, RunningServer, ServerConfig};
use presence_conformance::suite::executor::{RunOptions, run_suite};
use presence_conformance::suite::snapshot::SnapshotMode;
use presence_conformance::suite::{load_cases, select_targets};
use presence_conformance::targets::PreflightError;

/// `validate`'s examples, with the operation's OpenAPI operationId from the operation table.
fn validate_examples() -> String {
    let set = Operation::SetPresence;
    format!(
        "Examples:\n  echo '{{\"sessionId\":\"s\",\"availability\":\"Busy\",\"activity\":\"InACall\"}}' | presence-conformance validate --operation users.user.presence.{set} --request -\n  presence-conformance validate --operation users.GetPresence --response 200 body.json"
    )
}

#[derive(Parser)]
#[command(name = "presence-conformance", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the conformance suite (default: against the embedded reference server).
    #[command(
        after_help = "Examples:\n  presence-conformance run timeout\n  presence-conformance run --target targets/local.toml --junit report.xml"
    )]
    Run(RunArgs),
    /// Run the reference Graph presence server.
    ///
    /// Exits 2 on a usage error, 1 when it cannot listen (the port is in use).
    #[command(
        after_help = "Examples:\n  presence-conformance serve --addr localhost:8080 --clock virtual --no-auth\n  presence-conformance serve --clock real --time-scale 60"
    )]
    Serve(ServeArgs),
    /// Work with case files.
    #[command(subcommand, after_help = "Example:\n  presence-conformance cases lint")]
    Cases(CasesCommand),
    /// Lint our OpenAPI documents, or diff them against Microsoft's.
    #[command(subcommand, after_help = "Example:\n  presence-conformance spec lint")]
    Spec(SpecCommand),
    /// Check one request or response body against a spec by hand (with the documented rules).
    #[command(
        after_help = validate_examples()
    )]
    Validate(ValidateArgs),
    /// Replay generated timelines on a target and compare it with the pure model.
    ///
    /// Exits 1 on a difference (its minimal timeline written as a case file), 2 when the target
    /// cannot be reached.
    #[command(
        after_help = "Examples:\n  presence-conformance explore --timelines 200\n  presence-conformance explore --target targets/local.toml --seed 7"
    )]
    Explore(ExploreArgs),
    /// List the rule catalogue (spec/rules.yaml): each rule's level, source and cases.
    ///
    /// Example: `presence-conformance rules --uncovered` lists the rules no case checks.
    #[command(
        after_help = "Examples:\n  presence-conformance rules --uncovered\n  presence-conformance rules --level documented"
    )]
    Rules(RulesArgs),
}

#[derive(clap::Args)]
struct RulesArgs {
    /// Only the rules no case checks; exits 1 if a documented or observed one is among them.
    #[arg(long)]
    uncovered: bool,
    /// Only rules of this level.
    #[arg(long, value_enum)]
    level: Option<LevelArg>,
    /// A directory of case files to use instead of the suite this binary carries. Default:
    /// `./cases` when it exists (a checkout of this repository, or `cases export`), else the
    /// embedded suite.
    #[arg(long)]
    cases: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LevelArg {
    Documented,
    Observed,
    Ours,
}

#[derive(clap::Args)]
struct ExploreArgs {
    /// A target file, or `reference` (`reference-beta`, `reference-beta-2021`) for the
    /// embedded reference server; default: the embedded reference.
    #[arg(long)]
    target: Option<PathBuf>,
    /// How many generated timelines to replay (each up to 30 steps); stops at the first
    /// difference.
    #[arg(long, default_value_t = 1000)]
    timelines: u32,
    /// The random seed: the same seed generates the same timelines, so a difference can be
    /// reproduced.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write the minimal case of a difference (not under ./cases, which `run` would
    /// then take for the suite).
    #[arg(long, default_value = "explore-reproducers")]
    out: PathBuf,
}

#[derive(clap::Args)]
#[command(after_help = "Examples:
  presence-conformance run                                  the suite on the embedded reference
  presence-conformance run timeout -v                       cases whose name contains `timeout`, one line each
  presence-conformance run --target targets/local.toml --html report.html --junit junit.xml
  presence-conformance run --target a.toml --target b.toml  two implementations side by side
  presence-conformance run --target a.toml --repeat 3       a flake check
  presence-conformance run --target my.toml --snapshots update    record the regression baseline
  presence-conformance run --target my.toml --snapshots require   CI: a missing or changed snapshot fails")]
struct RunArgs {
    /// Only cases whose name contains this (e.g. `timeout` or `aggregation::busy`).
    filter: Option<String>,
    /// A target file (TOML, see targets/), or `reference` (`reference-beta`,
    /// `reference-beta-2021`) for the embedded reference server; give it several times to
    /// compare targets. Default: $PRESENCE_TARGET, else the embedded reference server under
    /// v1.0, beta and beta-2021.
    #[arg(long)]
    target: Vec<PathBuf>,
    /// A directory of case files to use instead of the suite this binary carries. Default:
    /// `./cases` when it holds case files (a checkout of this repository, or `cases export`),
    /// else the embedded suite; the run's first line says which.
    #[arg(long)]
    cases: Option<PathBuf>,
    /// Trials run at once (default: the number of cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Also write a JUnit XML report here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Also write a self-contained HTML report here (a matrix, and a timeline picture per case).
    #[arg(long)]
    html: Option<PathBuf>,
    /// Fail deviations too: expectations that rest on our own choices (`ours` rules), not on
    /// Microsoft's documents or observed behaviour. The embedded reference is always strict.
    #[arg(long)]
    strict: bool,
    /// One line per case: its verdict and duration (and why, if it did not apply).
    #[arg(short, long)]
    verbose: bool,
    /// Print the selected cases without running them.
    #[arg(long)]
    list: bool,
    /// `json`: one JSON object per trial (name, target, verdict, rules, faults, observed
    /// timeline, duration) instead of the text summary.
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
    /// With `--format json`: write to this file instead of stdout.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Run every selected case this many times; a case whose verdicts differ is flaky and fails
    /// the run.
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
    /// Regression snapshots of the observed timelines, per target in `snapshots/<name>/` (or
    /// the target file's `snapshots` directory). `compare`: a changed timeline fails the run with
    /// a diff, a missing snapshot is "new" and does not fail; `require`: a missing snapshot
    /// fails too; `update`: write the snapshots of new and changed timelines; `off`: none.
    #[arg(long, value_enum, default_value = "compare")]
    snapshots: SnapshotsArg,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SnapshotsArg {
    Compare,
    Require,
    Update,
    Off,
}

impl From<SnapshotsArg> for SnapshotMode {
    fn from(arg: SnapshotsArg) -> Self {
        match arg {
            SnapshotsArg::Compare => SnapshotMode::Compare,
            SnapshotsArg::Require => SnapshotMode::Require,
            SnapshotsArg::Update => SnapshotMode::Update,
            SnapshotsArg::Off => SnapshotMode::Off,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum CasesCommand {
    /// Check every case file (format, actors, durations, order) and report each error with its line.
    #[command(
        after_help = "Examples:\n  presence-conformance cases lint\n  presence-conformance cases lint cases/timeout"
    )]
    Lint {
        /// The directory of case files (searched recursively).
        #[arg(default_value = "cases")]
        dir: PathBuf,
    },
    /// Write the suite this binary carries to a directory, to read and extend it (then
    /// `run --cases DIR`).
    #[command(after_help = "Example:\n  presence-conformance cases export my-cases")]
    Export {
        /// Where to write the case files (must not hold any yet).
        dir: PathBuf,
    },
    /// Print the JSON Schema of the case format (committed as spec/case.schema.json).
    #[command(after_help = "Example:\n  presence-conformance cases schema > spec/case.schema.json")]
    Schema,
}

#[derive(Clone, Copy, ValueEnum)]
enum ClockKind {
    /// Time moves only through POST /_conformance/clock/advance.
    Virtual,
    /// Wall time, optionally sped up with --time-scale.
    Real,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on, `host:port` (a host name such as `localhost` is resolved; port 0
    /// picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// `real` (wall time) or `virtual` (time moves only through /_conformance/clock/advance).
    #[arg(long, value_enum, default_value = "real")]
    clock: ClockKind,
    /// With --clock real: how many presence seconds pass per wall second (60 = a minute a
    /// second; default 1). Refused with --clock virtual.
    #[arg(long)]
    time_scale: Option<f64>,
    /// A TOML file with the tenant, app registrations and users (see README).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Tenant conditions: throttling, propagation lag, transient faults, token lifetime (a TOML
    /// file; see targets/conditions/graph-like.toml).
    #[arg(long)]
    conditions: Option<PathBuf>,
    /// Accept every request without a token, as an app with every permission.
    #[arg(long)]
    no_auth: bool,
    /// Do not print a line per request.
    #[arg(long)]
    quiet: bool,
}

/// Restores the default action for SIGPIPE (Rust ignores it), so that `cases schema | head -1`
/// ends quietly when the reader goes away instead of panicking in `println!`. Sockets are not
/// affected: the standard library sends with MSG_NOSIGNAL.
#[cfg(unix)]
fn restore_sigpipe() {
    unsafe extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGPIPE: i32 = 13;
    const SIG_DFL: usize = 0;
    // SAFETY: setting a signal's disposition to its default before any thread starts.
    unsafe {
        signal(SIGPIPE, SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}

fn export_cases(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let written = presence_conformance::suite::export_cases(dir)
        .with_context(|| format!("cannot export the suite to {}", dir.display()))?;
    println!(
        "{} written under {}",
        plural(written, "case file"),
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `--version`: the version and the suite it carries.
fn suite_version() -> &'static str {
    let cases = presence_conformance::suite::embedded_case_count();
    let rules =
        presence_conformance::catalogue::Catalogue::try_bundled().map_or(0, |c| c.rules().len());
    let text = format!(
        "{} (suite: {}, {})",
        env!("CARGO_PKG_VERSION"),
        plural(cases, "case"),
        plural(rules, "rule")
    );
    Box::leak(text.into_boxed_str())
}

fn main() -> ExitCode {
    restore_sigpipe();
    // The suite's counts only when asked: other commands do not read the catalogue at start-up.
    let mut command = Cli::command();
    if std::env::args().any(|a| a == "--version" || a == "-V") {
        let version = suite_version();
        command = command.long_version(version).version(version);
    }
    let cli = Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit());
    let outcome = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Run(args) => run(args),
        Command::Cases(CasesCommand::Lint { dir }) => lint_cases(&dir),
        Command::Cases(CasesCommand::Export { dir }) => export_cases(&dir),
        Command::Spec(command) => run_spec(command),
        Command::Validate(args) => run_validate(args),
        Command::Explore(args) => explore(args),
        Command::Rules(args) => list_rules(args),
        Command::Cases(CasesCommand::Schema) => {
            println!("{:#}", presence_conformance::case::json_schema());
            Ok(ExitCode::SUCCESS)
        }
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    use presence_conformance::suite::executor::selected;
    use std::io::IsTerminal;
    let suite = presence_conformance::suite::choose_suite(args.cases.as_deref())
        .map_err(anyhow::Error::msg)?;
    let cases = suite.cases;
    let chosen = selected(&cases, args.filter.as_deref());
    if chosen.is_empty() {
        let filter = args.filter.as_deref().unwrap_or_default();
        anyhow::bail!("no case matches '{filter}'");
    }
    if args.list {
        for i in chosen {
            println!("{}", cases[i].name);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.repeat == 0 {
        anyhow::bail!("--repeat must be at least 1");
    }
    check_outputs(&args)?;
    let targets = select_targets(&args.target)?;
    let stop = std::sync::Arc::new(presence_conformance::suite::stop::Stop::new());
    stop_on_ctrl_c(stop.clone());
    eprintln!("suite: {}", suite.source);
    preflight(&targets)?;
    let options = RunOptions {
        filter: args.filter.clone(),
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        judging: if args.strict {
            presence_conformance::suite::Judging::Strict
        } else {
            presence_conformance::suite::Judging::Default
        },
        progress: !args.quiet && std::io::stderr().is_terminal(),
        repeat: args.repeat,
        snapshots: args.snapshots.into(),
        stop,
    };
    let report = run_suite(&cases, &targets, &options);
    write_run_outputs(&args, &report)?;
    if let Some(cause) = &report.stopped {
        // Not a verdict: what ran is in the reports, the rest is "not run".
        eprintln!("error: the run stopped: {cause}");
        return Ok(ExitCode::from(2));
    }
    if report.nothing_judged() {
        eprintln!(
            "error: no case was judged: every case was not applicable (the reasons are above)"
        );
        return Ok(ExitCode::from(2));
    }
    let flaky = !report.flaky().is_empty();
    // A regression fails the run whatever the verdicts.
    Ok(
        if report.failed() == 0 && !flaky && report.regression_failures() == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

/// Usage and paths before the first case: `--output` needs `--format json`, and every report
/// path must be writable (a report that cannot be written fails now, not after the run).
fn check_outputs(args: &RunArgs) -> anyhow::Result<()> {
    if args.output.is_some() && args.format != OutputFormat::Json {
        anyhow::bail!("--output writes the JSON lines of --format json: add --format json");
    }
    let outputs = [
        ("--html", &args.html),
        ("--junit", &args.junit),
        ("--output", &args.output),
    ];
    for (flag, path) in outputs {
        if let Some(path) = path {
            presence_conformance::fsutil::check_writable(path)
                .with_context(|| format!("{flag} {}: cannot write there", path.display()))?;
        }
    }
    Ok(())
}

/// Ctrl-C stops the run as a target that stops answering does: the trials under way finish,
/// the rest are not run, and the reports are written. A second Ctrl-C ends the process.
#[cfg(not(unix))]
fn stop_on_ctrl_c(_stop: std::sync::Arc<presence_conformance::suite::stop::Stop>) {}

/// Ctrl-C stops the run as a target that stops answering does: the trials under way finish,
/// the rest are not run, and the reports are written. A second Ctrl-C ends the process.
#[cfg(unix)]
fn stop_on_ctrl_c(stop: std::sync::Arc<presence_conformance::suite::stop::Stop>) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    // The handler is installed before the suite starts, not when the thread gets to it.
    let Ok(mut first) = runtime.block_on(async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
    }) else {
        return;
    };
    std::thread::spawn(move || {
        runtime.block_on(async {
            if first.recv().await.is_some() {
                stop.request("interrupted (Ctrl-C)");
            }
            if first.recv().await.is_some() {
                std::process::exit(130);
            }
        });
    });
}

/// Every target answers, and runs the clock its target file says, before the suite starts: the
/// header says what was found; a mismatch is one error naming the key to change.
fn preflight(targets: &[presence_conformance::suite::SuiteTarget]) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    for target in targets {
        let from = match &target.source {
            Some(path) => format!(" ({})", path.display()),
            None => String::new(),
        };
        match runtime.block_on(target.target.preflight()) {
            Ok(found) => eprintln!(
                "target {}{from}: {}, profile {}, auth {}, clock {}",
                target.target.name(),
                found.url,
                target.target.profile(),
                found.auth,
                found.clock
            ),
            Err(cause @ PreflightError::Unreachable { .. }) => anyhow::bail!(
                "target '{}'{from}: {cause}\n  (a local reference: presence-conformance serve --clock virtual --config targets/local.server.toml)",
                target.target.name()
            ),
            Err(cause) => anyhow::bail!("target '{}'{from}: {cause}", target.target.name()),
        }
    }
    Ok(())
}

/// The console summary (or JSON), the differences between targets, JUnit and HTML files.
fn write_run_outputs(
    args: &RunArgs,
    report: &presence_conformance::report::SuiteReport,
) -> anyhow::Result<()> {
    use presence_conformance::report::Console;
    match (args.format, &args.output) {
        (OutputFormat::Json, Some(path)) => {
            presence_conformance::fsutil::write_atomically(path, report.json_lines().as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        (OutputFormat::Json, None) => print!("{}", report.json_lines()),
        (OutputFormat::Text, _) => {
            let console = Console {
                colour: true,
                verbose: args.verbose,
            };
            if args.target.len() > 1 {
                anstream::print!("{}", report.render_compared(console));
            } else {
                anstream::print!("{}", report.render_with(console));
            }
        }
    }
    if let Some(path) = &args.junit {
        report
            .write_junit(path)
            .with_context(|| format!("cannot write the JUnit report {}", path.display()))?;
    }
    if let Some(path) = &args.html {
        let mut view = report.html_view();
        view.meta.command = std::env::args().collect::<Vec<_>>().join(" ");
        let page = presence_conformance::html::render(&view);
        presence_conformance::fsutil::write_atomically(path, page.as_bytes())
            .with_context(|| format!("cannot write the HTML report {}", path.display()))?;
    }
    Ok(())
}

fn explore(args: ExploreArgs) -> anyhow::Result<ExitCode> {
    use presence_conformance::targets::EmbeddedTarget;
    let target: std::sync::Arc<dyn presence_conformance::targets::Target> =
        match args.target.as_deref() {
            None => std::sync::Arc::new(EmbeddedTarget::new(
                presence_conformance::model::Profile::V1_0,
            )),
            Some(path) => match presence_conformance::suite::embedded_named(path) {
                Some(profile) => std::sync::Arc::new(EmbeddedTarget::new(profile)),
                None => presence_conformance::targets::config::load_target(path)?.target,
            },
        };
    let found = presence_conformance::explore::explore(target.as_ref(), args.timelines, args.seed);
    if let Some(cause) = &found.unreachable {
        // Not a difference: nothing is written, and the exit code is the one for "could not run".
        anyhow::bail!("cannot explore {}: {cause}", target.name());
    }
    let rate = f64::from(found.timelines) / found.wall.as_secs_f64().max(1e-9);
    match &found.difference {
        None => {
            println!(
                "{} timelines on {}, no difference from the model ({:.2} s, {rate:.0} timelines/s)",
                found.timelines,
                target.name(),
                found.wall.as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        Some((text, report)) => {
            println!("{} differs from the model:\n{report}", target.name());
            if !text.is_empty() {
                let path = presence_conformance::explore::write_case(
                    &args.out,
                    target.name(),
                    args.seed,
                    text,
                )?;
                println!(
                    "minimal timeline ({}) written to {}",
                    plural(presence_conformance::explore::step_count(text), "step"),
                    path.display()
                );
            }
            Ok(ExitCode::FAILURE)
        }
    }
}

fn list_rules(args: RulesArgs) -> anyhow::Result<ExitCode> {
    use presence_conformance::catalogue::{Catalogue, Level};
    let catalogue = Catalogue::try_bundled().map_err(anyhow::Error::msg)?;
    let cases = presence_conformance::suite::choose_suite(args.cases.as_deref())
        .map_err(anyhow::Error::msg)?
        .cases;
    let loaded = cases.iter().filter_map(|c| c.case.as_ref().ok());
    let level = args.level.map(|l| match l {
        LevelArg::Documented => Level::Documented,
        LevelArg::Observed => Level::Observed,
        LevelArg::Ours => Level::Ours,
    });
    let mut shown = 0;
    let mut uncovered_binding = 0;
    for (rule, covering) in catalogue.coverage(loaded) {
        if level.is_some_and(|l| l != rule.level) || (args.uncovered && !covering.is_empty()) {
            continue;
        }
        shown += 1;
        if covering.is_empty() && rule.level.fails_by_default() && rule.untestable.is_none() {
            uncovered_binding += 1;
        }
        println!(
            "{}  [{}]  {}\n    {}\n    source: {}",
            rule.id,
            rule.level,
            plural(covering.len(), "case"),
            rule.statement,
            rule.source_line()
        );
        if !covering.is_empty() {
            println!("    cases: {}", covering.join(", "));
        }
        if let Some(why) = &rule.untestable {
            println!("    untestable: {why}");
        }
    }
    let total = catalogue.rules().len();
    println!("\n{} shown of {}", plural(shown, "rule"), total);
    Ok(if args.uncovered && uncovered_binding > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn lint_cases(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let cases = load_cases(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let report = presence_conformance::case::lint::lint_files(cases.iter().map(|c| &c.case))?;
    for problem in &report.problems {
        eprintln!("{problem}");
    }
    println!(
        "{}, {} with errors",
        plural(cases.len(), "case file"),
        report.broken_files
    );
    Ok(if report.broken_files == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The address `serve` listens on: `--addr` as given, or its host name resolved.
fn listen_addr(addr: &str) -> anyhow::Result<SocketAddr> {
    use std::net::ToSocketAddrs;
    let mut found = addr
        .to_socket_addrs()
        .with_context(|| format!("--addr {addr}: not a host:port this machine can resolve"))?;
    found
        .next()
        .with_context(|| format!("--addr {addr}: the name resolves to no address"))
}

/// The clock `serve` runs on, or a usage error for a combination that means nothing.
fn serve_clock(args: &ServeArgs) -> anyhow::Result<(PresenceClock, String)> {
    match (args.clock, args.time_scale) {
        (ClockKind::Virtual, Some(_)) => anyhow::bail!(
            "--time-scale applies only to --clock real (a virtual clock moves only through \
             POST /_conformance/clock/advance)"
        ),
        (ClockKind::Virtual, None) => Ok((PresenceClock::virtual_at_epoch(), "virtual".into())),
        (ClockKind::Real, scale) => {
            let scale = scale.unwrap_or(1.0);
            if !(scale.is_finite() && scale > 0.0) {
                anyhow::bail!("--time-scale must be a positive number, not {scale}");
            }
            Ok((PresenceClock::real(scale), format!("real x{scale}")))
        }
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let (clock, clock_name) = serve_clock(&args)?;
    let addr = listen_addr(&args.addr)?;
    let mut config = match &args.config {
        Some(path) => ServerConfig::from_file(path)?,
        None => ServerConfig::default(),
    };
    config.no_auth |= args.no_auth;
    config.log_requests = !args.quiet;
    let conditions = match &args.conditions {
        Some(path) => Some(ConditionsConfig::from_file(path)?),
        None => None,
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        // One server until the process exits: its state is never freed.
        let state = match conditions {
            Some(c) => AppState::with_conditions(config, clock, Conditions::new(c)),
            None => AppState::new(config, clock),
        }
        .for_the_process();
        let server = match RunningServer::start_state_on(addr, state).await {
            Ok(server) => server,
            Err(e) => {
                // Not a usage error (2): the address is taken or not ours to bind.
                eprintln!("error: cannot listen on {addr}: {e}");
                return Ok(ExitCode::FAILURE);
            }
        };
        let config = &server.state().config;
        let auth = if config.no_auth {
            "no auth".to_owned()
        } else {
            format!(
                "bearer tokens required; tenant {tenant}, tokens from http://{addr}/{tenant}/oauth2/v2.0/token",
                tenant = config.tenant_id,
                addr = server.addr(),
            )
        };
        eprintln!(
            "presence-conformance reference server on http://{} (v1.0 and beta; {clock_name} clock; {auth})",
            server.addr(),
        );
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for Ctrl-C")?;
        server.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}
