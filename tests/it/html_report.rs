//! The HTML report end to end: a few cases run on the embedded reference server and on two wrong
//! ones (a fade a minute late, Available over Busy), rendered, and the page parsed back: the matrix, one timeline picture per
//! run, the failing observation highlighted, nothing loaded from the network.
//!
//! The page is left at `target/tmp/html_report.html` (Cargo's `CARGO_TARGET_TMPDIR`) for
//! `scripts/report-screenshot.sh`.

use std::path::Path;
use std::sync::Arc;

use jiff::SignedDuration;
use presence_conformance::html::{case_anchor, render, result_anchor};
use presence_conformance::model::{Availability::*, Profile, Semantics};
use presence_conformance::suite::executor::{RunOptions, run_suite};
use presence_conformance::suite::{SuiteTarget, load_cases};
use presence_conformance::targets::EmbeddedTarget;
use scraper::{ElementRef, Html, Selector};

const FADE: &str = "timeout::available_fades_to_away";
const STATUS: &str = "status::message_expires_at_its_expiry";
const CASES: [&str; 7] = [
    FADE,
    "aggregation::busy_outranks_available",
    "preferred::busy_defaults_to_one_day",
    "duration::negative_is_refused",
    "session::clear_leaves_other_sessions",
    STATUS,
    // beta-2021 only: not applicable on v1.0 targets, so no picture.
    "validation::beta_2021_accepts_its_four_pairs",
];

fn select(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("{css}: {e:?}"))
}

fn by_id<'a>(page: &'a Html, id: &str) -> ElementRef<'a> {
    page.select(&select(&format!("[id=\"{id}\"]")))
        .next()
        .unwrap_or_else(|| panic!("no element #{id}"))
}

/// Renders the report of `CASES` on the reference server and on a late-fading one.
fn report() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cases = load_cases(&root.join("cases")).unwrap();
    cases.retain(|c| CASES.contains(&c.name.as_str()));
    assert_eq!(
        cases.len(),
        CASES.len(),
        "{:?}",
        cases.iter().map(|c| &c.name).collect::<Vec<_>>()
    );
    let late = Semantics {
        fade_to_inactive: SignedDuration::from_mins(6),
        ..Semantics::GRAPH
    };
    let swapped = Semantics {
        precedence: [DoNotDisturb, Available, Busy, Away],
        ..Semantics::GRAPH
    };
    let targets = [
        SuiteTarget::new(Arc::new(EmbeddedTarget::new(Profile::V1_0))),
        SuiteTarget::new(Arc::new(EmbeddedTarget::with_semantics(
            Profile::V1_0,
            "late-fade",
            late,
        ))),
        SuiteTarget::new(Arc::new(EmbeddedTarget::with_semantics(
            Profile::V1_0,
            "available-over-busy",
            swapped,
        ))),
    ];
    let suite = run_suite(&cases, &targets, &RunOptions::default());
    assert_eq!(suite.trials.len(), cases.len() * targets.len());
    let page = render(&suite.html_view());
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(out).unwrap();
    std::fs::write(out.join("html_report.html"), &page).unwrap();
    page
}

#[test]
fn the_report_shows_the_matrix_the_pictures_and_the_failure() {
    let text = report();
    let page = Html::parse_document(&text);

    let targets: Vec<String> = page
        .select(&select("table#by-topic thead th.target"))
        .map(|th| th.text().collect())
        .collect();
    // Columns follow the order the targets were given in.
    assert_eq!(targets, ["reference", "late-fade", "available-over-busy"]);
    let rows: Vec<ElementRef> = page.select(&select("table#by-topic tr.case")).collect();
    let sections: Vec<ElementRef> = page.select(&select("section.case")).collect();
    assert_eq!(rows.len(), sections.len());
    assert_eq!(rows.len(), CASES.len());
    for row in &rows {
        assert_eq!(row.select(&select("td.cell")).count(), targets.len());
    }

    let not_applicable = select("details.result .verdict.not-applicable");
    assert_eq!(page.select(&not_applicable).count(), 3);
    for section in &sections {
        for result in section.select(&select("details.result")) {
            let ran = result
                .select(&select(".verdict.not-applicable"))
                .next()
                .is_none();
            let pictures = result.select(&select("svg.timeline")).count();
            assert_eq!(pictures, usize::from(ran), "{:?}", result.value().id());
        }
    }

    let fade_row = by_id(&page, &case_anchor(FADE));
    assert_eq!(
        fade_row
            .select(&select("details.result svg.timeline"))
            .count(),
        3
    );
    let failed = by_id(&page, &result_anchor(FADE, "late-fade"));
    assert!(failed.select(&select(".verdict.failed")).next().is_some());
    let marks: Vec<ElementRef> = failed.select(&select("g.obs.mismatch")).collect();
    assert!(!marks.is_empty(), "no highlighted observation");
    let title: String = marks[0]
        .select(&select("title"))
        .next()
        .unwrap()
        .text()
        .collect();
    assert!(
        title.contains("expected Available/AvailableInactive"),
        "{title}"
    );
    assert!(title.contains("observed Available/Available"), "{title}");
    let fault_lines: Vec<String> = failed
        .select(&select("table.faults td.line"))
        .map(|td| td.text().collect())
        .collect();
    let line = marks[0].value().attr("data-line").unwrap();
    assert!(
        fault_lines.iter().any(|l| l.ends_with(&format!(":{line}"))),
        "{fault_lines:?}"
    );
    // What an observation showed besides its presence is drawn on the timeline, not only in a
    // tooltip: the status message while it is set, then only the sequence number.
    let status = by_id(&page, &result_anchor(STATUS, "reference"));
    let notes: Vec<String> = status
        .select(&select("svg.timeline text.note"))
        .map(|t| {
            // The label's own text, without its tooltip.
            t.children()
                .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                .collect()
        })
        .collect();
    assert!(
        notes.iter().any(|n| n.starts_with("“Back at two”")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.starts_with("seq ")), "{notes:?}");
    let passed = by_id(&page, &result_anchor(FADE, "reference"));
    assert!(passed.select(&select(".verdict.passed")).next().is_some());
    assert_eq!(passed.select(&select("g.obs.mismatch")).count(), 0);
    assert!(passed.select(&select("g.obs")).count() >= 6);
    assert!(passed.select(&select("g.band")).count() >= 6);
}

#[test]
fn nothing_is_loaded_from_the_network() {
    let text = report();
    let page = Html::parse_document(&text);
    for element in page.select(&select("*")) {
        let name = element.value().name();
        assert!(
            !["script", "link", "img", "iframe", "object"].contains(&name),
            "<{name}>"
        );
        for (attr, value) in element.value().attrs() {
            let remote = value.contains("http://") || value.contains("https://");
            let allowed = (name == "a" && attr == "href") || (name == "svg" && attr == "xmlns");
            assert!(!remote || allowed, "<{name} {attr}=\"{value}\">");
        }
    }
    assert!(!text.contains("url("), "CSS loads nothing");
    assert!(!text.contains("@import"));
}
