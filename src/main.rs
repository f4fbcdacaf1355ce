//! The `presence-conformance` command line: serve the reference server (and, as they land, run
//! suites, lint cases, lint and diff specs).

// No function in src/ over 80 lines (the threshold is in clippy.toml).
#![warn(clippy::too_many_lines)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use presence_conformance::server::conditions::{Conditions, ConditionsConfig};
use presence_conformance::server::{AppState, PresenceClock, RunningServer, ServerConfig};
use presence_conformance::spec::cli::{SpecCommand, ValidateArgs, run_spec, run_validate};
use presence_conformance::suite::executor::{RunOptions, run_suite};
use presence_conformance::suite::{load_cases, select_targets};

#[derive(Parser)]
#[command(name = "presence-conformance", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the conformance suite (default: against the embedded reference server).
    Run(RunArgs),
    /// Run the reference Graph presence server.
    Serve(ServeArgs),
    /// Work with case files.
    #[command(subcommand)]
    Cases(CasesCommand),
    /// Lint our OpenAPI documents, or diff them against Microsoft's.
    #[command(subcommand)]
    Spec(SpecCommand),
    /// Check one request or response body against a spec by hand.
    Validate(ValidateArgs),
    /// Replay generated timelines on a target and compare it with the pure model.
    Explore(ExploreArgs),
    /// List the rule catalogue (spec/rules.yaml): each rule's level, source and cases.
    ///
    /// Example: `presence-conformance rules --uncovered` lists the rules no case checks.
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
    /// Where the case files are.
    #[arg(long, default_value = "cases")]
    cases: PathBuf,
}

#[derive(Clone, Copy, ValueEnum)]
enum LevelArg {
    Documented,
    Observed,
    Ours,
}

#[derive(clap::Args)]
struct ExploreArgs {
    /// A target profile; default: the embedded reference server.
    #[arg(long)]
    target: Option<PathBuf>,
    #[arg(long, default_value_t = 1000)]
    timelines: u32,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write the minimal case of a difference.
    #[arg(long, default_value = "cases/generated")]
    out: PathBuf,
}

#[derive(clap::Args)]
#[command(after_help = "Examples:
  presence-conformance run                                  the suite on the embedded reference
  presence-conformance run timeout -v                       cases whose name contains `timeout`, one line each
  presence-conformance run --target targets/local.toml --html report.html --junit junit.xml
  presence-conformance run --target a.toml --target b.toml  two implementations side by side
  presence-conformance run --target a.toml --repeat 3       a flake check")]
struct RunArgs {
    /// Only cases whose name contains this (e.g. `timeout` or `aggregation::busy`).
    filter: Option<String>,
    /// A target profile (TOML, see targets/); give it several times to compare targets.
    /// Default: $PRESENCE_TARGET, else the embedded reference server under v1.0, beta and
    /// beta-2021.
    #[arg(long)]
    target: Vec<PathBuf>,
    /// Where the case files are.
    #[arg(long, default_value = "cases")]
    cases: PathBuf,
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
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum CasesCommand {
    /// Check every case file (format, actors, durations, order) and report each error with its line.
    Lint {
        #[arg(default_value = "cases")]
        dir: PathBuf,
    },
    /// Print the JSON Schema of the case format (committed as spec/case.schema.json).
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
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    #[arg(long, value_enum, default_value = "real")]
    clock: ClockKind,
    /// With --clock real: how many presence seconds pass per wall second (60 = a minute a second).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Run(args) => run(args),
        Command::Cases(CasesCommand::Lint { dir }) => lint_cases(&dir),
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
    let cases = load_cases(&args.cases)
        .with_context(|| format!("cannot read the case directory {}", args.cases.display()))?;
    if cases.is_empty() {
        anyhow::bail!("no case files (*.yaml) under {}", args.cases.display());
    }
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
    let targets = select_targets(&args.target)?;
    check_targets(&targets)?;
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
    };
    let report = run_suite(
        &cases,
        &targets,
        &|target| presence_conformance::suite::contract_for(target),
        &options,
    );
    write_run_outputs(&args, &report)?;
    let flaky = !report.flaky().is_empty();
    Ok(if report.failed() == 0 && !flaky {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Every target answers before the suite starts; a target that is down is one error.
fn check_targets(targets: &[presence_conformance::suite::SuiteTarget]) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    for target in targets {
        if let Err(cause) = runtime.block_on(target.target.reachable()) {
            anyhow::bail!(
                "target '{}' is not reachable: {cause}\n  start a local reference with: presence-conformance serve --clock virtual --config targets/local.server.toml",
                target.target.name()
            );
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
            anstream::print!("{}", report.render_with(console));
            if args.target.len() > 1 {
                print!("{}", report.differences());
            }
        }
    }
    if let Some(path) = &args.junit {
        report
            .write_junit(path)
            .with_context(|| format!("cannot write the JUnit report {}", path.display()))?;
    }
    if let Some(path) = &args.html {
        let page = presence_conformance::html::render(&report.html_view());
        presence_conformance::fsutil::write_atomically(path, page.as_bytes())
            .with_context(|| format!("cannot write the HTML report {}", path.display()))?;
    }
    Ok(())
}

fn explore(args: ExploreArgs) -> anyhow::Result<ExitCode> {
    let target = match &args.target {
        Some(path) => presence_conformance::target::profile::load_profile(path)?.target,
        None => std::sync::Arc::new(presence_conformance::target::EmbeddedTarget::new(
            presence_conformance::model::Profile::V1_0,
        )),
    };
    let found = presence_conformance::explore::explore(target.as_ref(), args.timelines, args.seed);
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
                    "minimal timeline ({} steps) written to {}",
                    presence_conformance::explore::step_count(text),
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
    let cases = load_cases(&args.cases)
        .with_context(|| format!("cannot read the case directory {}", args.cases.display()))?;
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
        if covering.is_empty() && rule.level.fails_by_default() {
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
    }
    let total = catalogue.rules().len();
    println!("\n{} shown of {}", plural(shown, "rule"), total);
    Ok(if args.uncovered && uncovered_binding > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `1 case`, `2 cases`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn lint_cases(dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let cases = load_cases(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut broken = 0;
    for case in &cases {
        match &case.case {
            Err(e) => {
                eprintln!("{}\n", e.render());
                broken += 1;
            }
            Ok(loaded) => {
                for profile in &loaded.profiles {
                    let spec = presence_conformance::spec::SpecProfile::from(*profile);
                    let contract = presence_conformance::spec::Contract::bundled(
                        spec,
                        presence_conformance::spec::Strictness::Documented,
                    )?;
                    let problems =
                        presence_conformance::case::lint::lint_requests(loaded, contract);
                    for p in &problems {
                        eprintln!("error: {p} [{profile}]");
                    }
                    broken += usize::from(!problems.is_empty());
                }
            }
        }
    }
    println!("{} case files, {broken} with errors", cases.len());
    Ok(if broken == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
        anyhow::bail!(
            "--time-scale must be a positive number, not {}",
            args.time_scale
        );
    }
    let mut config = match &args.config {
        Some(path) => ServerConfig::from_file(path)?,
        None => ServerConfig::default(),
    };
    config.no_auth |= args.no_auth;
    config.log_requests = !args.quiet;
    let clock = match args.clock {
        ClockKind::Virtual => PresenceClock::virtual_at_epoch(),
        ClockKind::Real => PresenceClock::real(args.time_scale),
    };
    let conditions = match &args.conditions {
        Some(path) => Some(ConditionsConfig::from_file(path)?),
        None => None,
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let state = match conditions {
            Some(c) => AppState::with_conditions(config, clock, Conditions::new(c)),
            None => AppState::new(config, clock),
        };
        let server = RunningServer::start_state_on(args.addr, state)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let auth = if server.state().config.no_auth {
            "no auth"
        } else {
            "bearer tokens required"
        };
        eprintln!(
            "presence-conformance reference server on http://{} (v1.0 and beta; {} clock; {auth})",
            server.addr(),
            match args.clock {
                ClockKind::Virtual => "virtual".to_owned(),
                ClockKind::Real => format!("real x{}", args.time_scale),
            },
        );
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for Ctrl-C")?;
        server.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}
