//! The `presence-conformance` command line: serve the reference server (and, as they land, run
//! suites, lint cases, lint and diff specs).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

use presence_conformance::server::{PresenceClock, RunningServer, ServerConfig};

#[derive(Parser)]
#[command(name = "presence-conformance", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the reference Graph presence server.
    Serve(ServeArgs),
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
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
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
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = RunningServer::start_on(args.addr, config, clock)
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
