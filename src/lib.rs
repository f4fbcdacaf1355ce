//! presence-conformance: a conformance harness, an OpenAPI contract checker and a reference
//! server for the Microsoft Graph presence API.
//!
//! Most people use it through the `presence-conformance` command (`run`, `serve`, `explore`,
//! `cases lint`, `rules`; the README is its guide). This page is the guide to the library behind
//! it: what each module is, how data flows between them, and how to drive a target from Rust.
//!
//! # How a case flows
//!
//! ```text
//!  cases/*.yaml ──case──▶ Case ──runner──▶ Target (targets) ──HTTP──▶ an implementation
//!                                  │  ▲                                (the reference server,
//!                                  │  └── contract: every exchange      a URL, Graph itself)
//!                                  ▼      checked against the spec
//!                         CaseRun: Timeline + failures
//!                                  │
//!           suite (snapshots, known failures) ──▶ report (console, JUnit, JSON) / html
//! ```
//!
//! A case file is parsed once at the edge into a checked [`case::Case`] (every actor resolved,
//! every duration parsed, every step knowing its line). The [`runner`] replays it on a
//! [`targets::Target`]: each request is rendered from the [`operation`] table, sent, checked by
//! the [`contract`] and judged against the case's expectations, and every step is recorded in a
//! typed [`runner::Timeline`]. The [`suite`] runs many cases on many targets, compares timelines
//! with their snapshots, and hands the results to [`report`] and [`html`].
//!
//! # The modules, from the ground up
//!
//! No module imports from a module above it in this list.
//!
//! | module | what it is |
//! |---|---|
//! | [`operation`] | The Graph presence surface, described once: API versions ([`operation::Profile`]), path forms ([`operation::Via`]) and the table of operations ([`operation::Operation`]: the presence operations and the subscription operations; name, method, paths, parameters, permission class, reply). Harness and server both read it. |
//! | [`model`] | The pure presence model: values, the documented rules ([`model::rules`]: every number lives there), one user's sessions and their aggregation, the store. State and instant in, state out; no HTTP, no clock. [`model::oracle`] is the same rules written for a reader, the oracle `explore` uses. |
//! | [`notifications`] | Change notifications on presence: subscriptions and their limits, change detection from the model (writes and timers), deliveries on the server's clock, the documented encryption of rich notifications, and the webhook receiver the runner gives a case that subscribes. |
//! | [`catalogue`] | The rule catalogue (`spec/rules.yaml`): each rule's id, level (`documented`, `observed`, `ours`) and source. |
//! | [`contract`] | The OpenAPI documents under `spec/`, compiled into a checker of requests and responses; `spec lint` and `spec diff`. |
//! | [`server`] | The reference server: axum, Graph's presence paths parsed by the operation table, the token endpoint, the control protocol for a virtual clock. |
//! | [`case`] | The case file format and its loader, with compiler-grade errors; the request a step sends. |
//! | [`targets`] | How a case reaches an implementation: the embedded reference server, a URL, the real service. |
//! | [`runner`] | Replaying one case on one target: the timeline, the faults, and the notifications its receiver got. |
//! | [`suite`] | Many cases on many targets: selection, known failures, snapshots. |
//! | [`explore`] | Generated timelines, replayed on a target and compared with the reference model. |
//! | [`report`], [`html`] | What a run looked like: console, JUnit and JSON reports; the HTML report with its timeline lanes. |
//! | [`fsutil`] | Writing files so that a crash or a full disk never leaves one half-written. |
//! | `checkout` | Whether a path lies inside a checkout of this crate's source (its `spec/` on disk, cargo's tools at hand) or the binary is used elsewhere. |
//!
//! # Driving a target from Rust
//!
//! A case is text; a target is anything that implements [`targets::Target`]. Here the embedded
//! reference server answers a two-step case:
//!
//! ```
//! use std::path::Path;
//!
//! use presence_conformance::case::load_str;
//! use presence_conformance::operation::Profile;
//! use presence_conformance::runner::run_case;
//! use presence_conformance::targets::EmbeddedTarget;
//!
//! let case = load_str(
//!     "example::busy",
//!     Path::new("busy.yaml"),
//!     r#"
//! title: A session set Busy shows Busy
//! rules: [aggregation.precedence]
//! users: [alice]
//! apps: { teams: {} }
//! steps:
//!   - at: PT0S
//!     setPresence: { user: alice, availability: Busy, activity: InACall }
//!   - at: PT1M
//!     observe: { user: alice, availability: Busy, activity: InACall }
//! "#,
//! )?;
//! let target = EmbeddedTarget::new(Profile::V1_0);
//! let runtime = tokio::runtime::Runtime::new()?;
//! let run = runtime.block_on(run_case(&case, &target, None));
//! assert!(run.passed(), "{}", run.report(&case));
//! assert_eq!(
//!     run.timeline.entries[0].request.as_ref().map(ToString::to_string).as_deref(),
//!     Some("POST /v1.0/users/{alice}/presence/setPresence")
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! To check a third-party implementation, describe it in a target file (`targets/*.toml`) and
//! load it with [`suite::select_targets`]; to check it against the spec alone, pass a
//! [`contract::Contract`] as the third argument of [`runner::run_case`].

// No function in src/ over 80 lines (the threshold is in clippy.toml).
#![warn(clippy::too_many_lines)]

pub mod case;
pub mod catalogue;
pub(crate) mod checkout;
pub mod contract;
pub mod explore;
pub mod fsutil;
pub mod html;
pub mod model;
pub mod notifications;
pub mod operation;
pub mod report;
pub mod runner;
pub mod server;
pub mod suite;
pub mod targets;

/// `1 case`, `2 cases`: a count and its noun, singular for one.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
