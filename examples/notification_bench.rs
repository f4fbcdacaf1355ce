//! Change notifications under load, for `scripts/bench.sh` (issue 27, "Speed"), against a running
//! `presence-conformance serve --clock real --no-auth`. Under `--no-auth` every request is one app,
//! which may hold one subscription: it names USERS ids (650 by default, Graph's most).
//!
//! - `deliver`: subscribes USERS ids to a webhook in this process and sends setPresence writes
//!   that each change a user's aggregate (Busy and DoNotDisturb in turn). A user is written again
//!   only once its last write was notified, so each notification answers one known write, and
//!   its latency is its arrival less that write's send instant. Without `--rate`, every user goes
//!   round as fast as the server delivers (the ceiling); with `--rate`, a write is due every
//!   1/RATE s (a user still waiting for its notification is passed over, and counted). Prints
//!   deliveries/s, the latency's p50, p99 and max, and the CPU each process used.
//! - `receiver --mode hang|fail|accept`: a webhook that answers validation, then holds every
//!   notification's connection without answering (`hang`), answers 500 (`fail`) or 202 at once
//!   (`accept`), until killed. It prints its URL.
//! - `subscribe` / `unsubscribe`: one subscription of USERS ids to a URL, and its deletion.
//!
//! The webhook here is a few lines of axum rather than the crate's own `Receiver` (the runner's):
//! that one keeps every item for a case and hands them out as a copy, while a writer here must
//! wait for one user's next arrival.
//!
//! `cargo run --release --example notification_bench -- deliver --server http://127.0.0.1:PORT`

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};
use tokio::sync::mpsc;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Deliveries per second and the latency from write to notification.
    Deliver {
        /// The reference server, e.g. http://127.0.0.1:18190.
        #[arg(long)]
        server: String,
        /// The server's process id, to report its CPU time.
        #[arg(long)]
        server_pid: Option<u32>,
        #[arg(long, default_value_t = 650)]
        users: usize,
        /// Writers, each with its own connection and its share of the users.
        #[arg(long, default_value_t = 8)]
        connections: usize,
        /// Seconds of writes.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// Writes a second; without it, as fast as notifications come back.
        #[arg(long)]
        rate: Option<f64>,
    },
    /// A webhook that answers validation, then every notification as MODE says, until killed.
    Receiver {
        #[arg(long, value_enum)]
        mode: Mode,
    },
    /// Subscribes USERS ids to URL; prints the subscription id.
    Subscribe {
        #[arg(long)]
        server: String,
        #[arg(long)]
        url: String,
        #[arg(long, default_value_t = 650)]
        users: usize,
        /// The ids' first group (`{PREFIX}-0000-4000-8000-{i:012x}`, as scripts/lib's wrk
        /// scripts write them); fresh ids without it.
        #[arg(long)]
        prefix: Option<String>,
    },
    /// Deletes a subscription.
    Unsubscribe {
        #[arg(long)]
        server: String,
        #[arg(long)]
        id: String,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Holds each notification's connection and never answers.
    Hang,
    /// Answers each notification 500.
    Fail,
    /// Answers each notification 202 at once.
    Accept,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let client = reqwest::Client::builder().no_proxy().build()?;
    match Cli::parse().command {
        Command::Deliver {
            server,
            server_pid,
            users,
            connections,
            seconds,
            rate,
        } => {
            let plan = Plan {
                users: fresh_users(users),
                connections: connections.clamp(1, users.max(1)),
                length: Duration::from_secs_f64(seconds),
                rate,
            };
            deliver(&client, &server, server_pid, plan).await
        }
        Command::Receiver { mode } => hold(mode).await,
        Command::Subscribe {
            server,
            url,
            users,
            prefix,
        } => {
            let ids = match prefix {
                Some(prefix) => users_under(&prefix, users),
                None => fresh_users(users),
            };
            let id = subscribe(&client, &server, &url, &ids).await?;
            println!("{id}");
            Ok(())
        }
        Command::Unsubscribe { server, id } => unsubscribe(&client, &server, &id).await,
    }
}

/// USERS ids no earlier run has written: a user's first write then always changes its aggregate.
fn fresh_users(count: usize) -> Vec<String> {
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() ^ (d.as_secs() as u32));
    users_under(&format!("{run:08x}"), count)
}

fn users_under(prefix: &str, count: usize) -> Vec<String> {
    (0..count)
        .map(|i| format!("{prefix}-0000-4000-8000-{i:012x}"))
        .collect()
}

/// `POST /v1.0/subscriptions` on `users` to `url`, for 59 minutes of the server's clock.
async fn subscribe(
    client: &reqwest::Client,
    server: &str,
    url: &str,
    users: &[String],
) -> anyhow::Result<String> {
    let clock: Value = client
        .get(format!("{server}/_conformance/clock"))
        .send()
        .await
        .context("GET /_conformance/clock")?
        .json()
        .await?;
    let now: jiff::Timestamp = clock["now"]
        .as_str()
        .context("the clock has no `now`")?
        .parse()?;
    let ids: Vec<String> = users.iter().map(|u| format!("'{u}'")).collect();
    let body = json!({
        "changeType": "updated",
        "notificationUrl": url,
        "resource": format!("/communications/presences?$filter=id in ({})", ids.join(",")),
        "expirationDateTime": (now + jiff::SignedDuration::from_mins(59)).to_string(),
        "clientState": "bench",
    });
    let response = client
        .post(format!("{server}/v1.0/subscriptions"))
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    let created: Value = response.json().await?;
    if status != StatusCode::CREATED {
        bail!("POST /v1.0/subscriptions answered {status}: {created}");
    }
    created["id"]
        .as_str()
        .map(str::to_owned)
        .context("the subscription has no id")
}

async fn unsubscribe(client: &reqwest::Client, server: &str, id: &str) -> anyhow::Result<()> {
    let status = client
        .delete(format!("{server}/v1.0/subscriptions/{id}"))
        .send()
        .await?
        .status();
    if status != StatusCode::NO_CONTENT {
        bail!("DELETE /v1.0/subscriptions/{id} answered {status}");
    }
    Ok(())
}

/// Answers a validation request as Graph asks: 200, text/plain, the decoded token.
fn validation(query: &HashMap<String, String>) -> Option<Response> {
    query.get("validationToken").map(|token| {
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            token.clone(),
        )
            .into_response()
    })
}

/// Binds 127.0.0.1:0 and serves `app`; the notification URL.
async fn listen(app: Router) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://{addr}/notifications"))
}

async fn hold(mode: Mode) -> anyhow::Result<()> {
    let app = Router::new().route(
        "/notifications",
        post(
            move |Query(query): Query<HashMap<String, String>>| async move {
                if let Some(answer) = validation(&query) {
                    return answer;
                }
                match mode {
                    Mode::Hang => std::future::pending().await,
                    Mode::Fail => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                    Mode::Accept => StatusCode::ACCEPTED.into_response(),
                }
            },
        ),
    );
    println!("{}", listen(app).await?);
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// What `deliver` does.
struct Plan {
    users: Vec<String>,
    connections: usize,
    length: Duration,
    rate: Option<f64>,
}

/// Where the webhook sends each arrival: to the writer that owns the user (user i: writer i % n).
struct Arrivals {
    index: HashMap<String, usize>,
    writers: Vec<mpsc::UnboundedSender<(usize, Instant)>>,
}

async fn receive(
    State(arrivals): State<Arc<Arrivals>>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let arrived = Instant::now();
    if let Some(answer) = validation(&query) {
        return answer;
    }
    let Ok(collection) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    for item in collection["value"].as_array().into_iter().flatten() {
        let user = item["resourceData"]["id"].as_str().unwrap_or_default();
        if let Some(&i) = arrivals.index.get(user) {
            let _ = arrivals.writers[i % arrivals.writers.len()].send((i, arrived));
        }
    }
    StatusCode::ACCEPTED.into_response()
}

/// What one writer saw.
#[derive(Default)]
struct Tally {
    writes: u64,
    failed_writes: u64,
    /// Writes due on the rate while their user still waited for a notification.
    passed_over: u64,
    /// Latencies of the notifications that arrived while writes went on.
    latencies: Vec<Duration>,
    /// Of those, how many arrived by the end of the writes.
    delivered_in_window: u64,
    /// Writes still waiting for a notification when the wait after the writes ended.
    unanswered: u64,
}

async fn deliver(
    client: &reqwest::Client,
    server: &str,
    server_pid: Option<u32>,
    plan: Plan,
) -> anyhow::Result<()> {
    let (senders, mut inboxes): (Vec<_>, Vec<_>) = (0..plan.connections)
        .map(|_| mpsc::unbounded_channel())
        .unzip();
    let arrivals = Arc::new(Arrivals {
        index: plan
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.clone(), i))
            .collect(),
        writers: senders,
    });
    let url = listen(
        Router::new()
            .route("/notifications", post(receive))
            .with_state(arrivals),
    )
    .await?;
    let id = subscribe(client, server, &url, &plan.users).await?;
    let cpu_before = (cpu_seconds(server_pid), cpu_seconds(None));
    let start = Instant::now();
    let end = start + plan.length;
    let mut tasks = Vec::new();
    for (w, inbox) in inboxes.drain(..).enumerate() {
        let mine: Vec<(usize, String)> = (w..plan.users.len())
            .step_by(plan.connections)
            .map(|i| (i, plan.users[i].clone()))
            .collect();
        let interval = plan
            .rate
            .map(|r| Duration::from_secs_f64(plan.connections as f64 / r));
        let writer = Writer {
            client: reqwest::Client::builder().no_proxy().build()?,
            url: format!("{server}/v1.0/users"),
            users: mine,
            inbox,
        };
        tasks.push(tokio::spawn(writer.run(end, interval)));
    }
    let mut total = Tally::default();
    for task in tasks {
        let tally = task.await?;
        total.writes += tally.writes;
        total.failed_writes += tally.failed_writes;
        total.passed_over += tally.passed_over;
        total.delivered_in_window += tally.delivered_in_window;
        total.unanswered += tally.unanswered;
        total.latencies.extend(tally.latencies);
    }
    let cpu_after = (cpu_seconds(server_pid), cpu_seconds(None));
    unsubscribe(client, server, &id).await?;
    report(&plan, &total, (cpu_before, cpu_after));
    Ok(())
}

/// One connection's writes, to its share of the users.
struct Writer {
    client: reqwest::Client,
    url: String,
    /// (index, id)
    users: Vec<(usize, String)>,
    inbox: mpsc::UnboundedReceiver<(usize, Instant)>,
}

/// After the writes, how long the last notifications are waited for.
const DRAIN: Duration = Duration::from_secs(10);

/// What a writer does next.
enum Next {
    Write(usize, String),
    /// On a rate: the user due still waits for its notification.
    PassOver,
    /// Without a rate: every user waits for a notification.
    Wait,
}

impl Writer {
    async fn run(mut self, end: Instant, interval: Option<Duration>) -> Tally {
        let mut tally = Tally::default();
        // By user index: the send instant of the write waiting for its notification, and how many
        // writes the user had.
        let mut waiting: HashMap<usize, Instant> = HashMap::new();
        let mut written: HashMap<usize, u64> = HashMap::new();
        let mut ticker = interval.map(|i| {
            let mut t = tokio::time::interval(i);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            t
        });
        let mut next = 0;
        while Instant::now() < end {
            while let Ok((i, arrived)) = self.inbox.try_recv() {
                arrival(&mut waiting, &mut tally, i, arrived, end);
            }
            if let Some(t) = ticker.as_mut() {
                t.tick().await;
            }
            match self.pick(&waiting, &mut next, ticker.is_some()) {
                Next::Write(i, user) => {
                    let count = written.entry(i).or_default();
                    let sent = Instant::now();
                    if self.write(&user, *count).await {
                        *count += 1;
                        tally.writes += 1;
                        waiting.insert(i, sent);
                    } else {
                        tally.failed_writes += 1;
                    }
                }
                Next::PassOver => tally.passed_over += 1,
                Next::Wait => {
                    let until = tokio::time::Instant::from_std(end);
                    if let Ok(Some((i, arrived))) =
                        tokio::time::timeout_at(until, self.inbox.recv()).await
                    {
                        arrival(&mut waiting, &mut tally, i, arrived, end);
                    }
                }
            }
        }
        let drain_until = tokio::time::Instant::now() + DRAIN;
        while !waiting.is_empty() {
            match tokio::time::timeout_at(drain_until, self.inbox.recv()).await {
                Ok(Some((i, arrived))) => arrival(&mut waiting, &mut tally, i, arrived, end),
                _ => break,
            }
        }
        tally.unanswered = waiting.len() as u64;
        tally
    }

    /// The next user round the circle (from `next`): on a rate, the one due; without, the next
    /// one not waiting for a notification.
    fn pick(&self, waiting: &HashMap<usize, Instant>, next: &mut usize, on_rate: bool) -> Next {
        let tries = if on_rate { 1 } else { self.users.len() };
        for _ in 0..tries {
            let (i, user) = &self.users[*next % self.users.len()];
            *next += 1;
            if !waiting.contains_key(i) {
                return Next::Write(*i, user.clone());
            }
        }
        if on_rate { Next::PassOver } else { Next::Wait }
    }

    /// setPresence that changes the user's aggregate: Busy on even writes, DoNotDisturb on odd.
    async fn write(&self, user: &str, count: u64) -> bool {
        let (availability, activity) = if count.is_multiple_of(2) {
            ("Busy", "InACall")
        } else {
            ("DoNotDisturb", "Presenting")
        };
        let body = json!({
            "sessionId": "11111111-2222-4333-8444-555555555555",
            "availability": availability,
            "activity": activity,
            "expirationDuration": "PT1H",
        });
        self.client
            .post(format!("{}/{user}/presence/setPresence", self.url))
            .json(&body)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }
}

/// A notification about `user` arrived: the write it answers, if one waits, is notified.
fn arrival(
    waiting: &mut HashMap<usize, Instant>,
    tally: &mut Tally,
    user: usize,
    arrived: Instant,
    end: Instant,
) {
    if let Some(sent) = waiting.remove(&user) {
        tally
            .latencies
            .push(arrived.saturating_duration_since(sent));
        if arrived <= end {
            tally.delivered_in_window += 1;
        }
    }
}

/// User plus system CPU seconds of a process (`None`: this one), from /proc.
fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let path = pid.map_or_else(
        || "/proc/self/stat".to_owned(),
        |p| format!("/proc/{p}/stat"),
    );
    let stat = std::fs::read_to_string(path).ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces): utime is the
    // 12th, stime the 13th; both in clock ticks (100 a second on Linux).
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

type Cpu = (Option<f64>, Option<f64>);

fn report(plan: &Plan, total: &Tally, (before, after): (Cpu, Cpu)) {
    let seconds = plan.length.as_secs_f64();
    let mut latencies = total.latencies.clone();
    latencies.sort_unstable();
    let at = |q: f64| -> String {
        if latencies.is_empty() {
            return "n/a".to_owned();
        }
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len()) - 1;
        format!("{:.2}", latencies[i].as_secs_f64() * 1000.0)
    };
    let busy = |b: Option<f64>, a: Option<f64>| match (b, a) {
        (Some(b), Some(a)) => format!("{:.0}%", 100.0 * (a - b) / seconds),
        _ => "n/a".to_owned(),
    };
    let mode = match plan.rate {
        Some(r) => format!("steady {r:.0} writes/s"),
        None => "as fast as notified".to_owned(),
    };
    println!(
        "notifications ({mode}, {} users, {} connections, {seconds:.0} s): {:.0} writes/s, {:.0} deliveries/s, latency p50 {} ms p99 {} ms max {} ms",
        plan.users.len(),
        plan.connections,
        total.writes as f64 / seconds,
        total.delivered_in_window as f64 / seconds,
        at(0.50),
        at(0.99),
        at(1.0),
    );
    println!(
        "  writes {}, failed writes {}, passed over {}, notified {}, never notified {}; CPU of a core: server {}, this driver {}",
        total.writes,
        total.failed_writes,
        total.passed_over,
        total.latencies.len(),
        total.unanswered,
        busy(before.0, after.0),
        busy(before.1, after.1),
    );
}
