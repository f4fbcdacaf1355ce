//! The timeline picture: hand-written SVG on the case's simulated time axis, one lane per user
//! (aggregated presence between observations), per app session and for the preferred presence,
//! with a marker per request and a mark per observation.
//!
//! The axis is piecewise: every instant something happens is a tick, and the gap between two
//! ticks is drawn by the logarithm of its length, so that a one-second step beside an hour stays
//! visible and every tick keeps a label.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use maud::{Markup, html};

use super::FaultView;
use super::lanes::{Band, End, Lane, LaneKind, Lanes, Mark, Request, lanes};
use crate::case::Case;
use crate::model::iso;
use crate::runner::Timeline;

const WIDTH: f64 = 1180.0;
/// Where PT0S is drawn; lane labels sit left of it.
const LEFT: f64 = 210.0;
/// Where the last instant of the case is drawn.
const RIGHT: f64 = 1050.0;
/// What lies beyond the case's end (open bands, later expiries) is drawn up to here.
const EDGE: f64 = 1172.0;
/// The axis line; its tick labels sit above it in two rows.
const AXIS: f64 = 36.0;
/// Average glyph widths of the sans-serif font at 11 and 10 px.
const CHAR_11: f64 = 6.4;
const CHAR_10: f64 = 5.9;
/// The same, bold.
const CHAR_10_BOLD: f64 = 6.6;
const EXPECTED_ROW: f64 = 14.0;

/// The picture of one run: `faults` are the run's faults (their lines mark failed observations).
pub(crate) fn timeline(timeline: &Timeline, case: Option<&Case>, faults: &[FaultView]) -> Markup {
    let mut by_line: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for f in faults {
        by_line.entry(f.line).or_default().push(f.fault.clone());
    }
    let lanes = lanes(timeline, case, &by_line);
    let instants = lanes.instants();
    let scale = Scale::new(&instants);
    let mut y = AXIS + 6.0;
    let mut drawn = Vec::new();
    for lane in &lanes.lanes {
        let (markup, height) = draw_lane(&scale, lane, y, lanes.end);
        drawn.push((markup, y, height, lane));
        y += height;
    }
    let height = y.max(AXIS + 30.0) + 6.0;
    let label = format!("Timeline of {} on {}", timeline.case, timeline.target);
    html! {
        svg.timeline xmlns="http://www.w3.org/2000/svg" role="img" aria-label=(label)
            width=(f(WIDTH)) height=(f(height)) viewBox={ "0 0 " (f(WIDTH)) " " (f(height)) } {
            title { (label) }
            (axis(&scale, &instants, &lanes, height))
            @for (markup, y, h, lane) in &drawn {
                (lane_label(lane, *y, *h))
                (markup)
            }
            @if lanes.lanes.is_empty() {
                text.empty x=(f(LEFT + 10.0)) y=(f(AXIS + 22.0)) { "no exchange was recorded" }
            }
        }
    }
}

/// Offsets to x: piecewise linear between the instants, each gap `1 + ln(1 + minutes)` wide.
#[derive(Debug)]
pub(crate) struct Scale {
    /// (seconds, x) for every instant, in order.
    knots: Vec<(f64, f64)>,
}

impl Scale {
    pub(crate) fn new(instants: &[SignedDuration]) -> Self {
        let secs: Vec<f64> = instants.iter().map(|t| t.as_secs_f64()).collect();
        let weights: Vec<f64> = secs
            .windows(2)
            .map(|w| 1.0 + (1.0 + (w[1] - w[0]) / 60.0).ln())
            .collect();
        let total: f64 = weights.iter().sum();
        let mut x = LEFT;
        let mut knots = Vec::with_capacity(secs.len());
        for (i, s) in secs.iter().enumerate() {
            knots.push((*s, x));
            if let Some(w) = weights.get(i) {
                x += w / total * (RIGHT - LEFT);
            }
        }
        Scale { knots }
    }

    /// The x of an offset; anything after the last instant is drawn at the edge.
    pub(crate) fn x(&self, t: SignedDuration) -> f64 {
        let s = t.as_secs_f64();
        let Some(&(first, x0)) = self.knots.first() else {
            return LEFT;
        };
        if s <= first {
            return x0;
        }
        for pair in self.knots.windows(2) {
            let ((s0, x0), (s1, x1)) = (pair[0], pair[1]);
            if s <= s1 {
                return x0 + (s - s0) / (s1 - s0) * (x1 - x0);
            }
        }
        EDGE
    }
}

/// Places labels of `(centre, width)` in `rows` rows without overlap; `None`: no room.
pub(crate) fn place(items: &[(f64, f64)], rows: usize) -> Vec<Option<usize>> {
    let mut ends = vec![f64::MIN; rows];
    items
        .iter()
        .map(|(centre, width)| {
            let start = centre - width / 2.0;
            let row = ends.iter().position(|end| start > *end + 4.0)?;
            ends[row] = centre + width / 2.0;
            Some(row)
        })
        .collect()
}

fn axis(scale: &Scale, instants: &[SignedDuration], lanes: &Lanes, height: f64) -> Markup {
    let labels: Vec<String> = instants.iter().map(|t| iso(*t)).collect();
    let items: Vec<(f64, f64)> = instants
        .iter()
        .zip(&labels)
        .map(|(t, l)| (scale.x(*t), l.len() as f64 * CHAR_10 + 2.0))
        .collect();
    let rows = place(&items, 2);
    let beyond = lanes
        .lanes
        .iter()
        .flat_map(|l| &l.bands)
        .any(|b| b.to.is_none_or(|to| to > lanes.end));
    html! {
        g.axis {
            line x1=(f(LEFT)) x2=(f(RIGHT)) y1=(f(AXIS)) y2=(f(AXIS)) {}
            @if beyond {
                line.beyond x1=(f(RIGHT)) x2=(f(EDGE)) y1=(f(AXIS)) y2=(f(AXIS)) {}
            }
            @for (((x, _), label), row) in items.iter().zip(&labels).zip(&rows) {
                line.grid x1=(f(*x)) x2=(f(*x)) y1=(f(AXIS - 3.0)) y2=(f(height - 4.0)) {}
                @if let Some(row) = row {
                    text.tick x=(f(*x)) y=(f(AXIS - 6.0 - 12.0 * *row as f64)) { (label) }
                }
            }
        }
    }
}

fn lane_label(lane: &Lane, y: f64, height: f64) -> Markup {
    let (class, x) = match lane.kind {
        LaneKind::User => ("lane-label user", 8.0),
        _ => ("lane-label", 20.0),
    };
    let max_chars = ((LEFT - x - 12.0) / CHAR_11) as usize;
    // The middle of the lane's band.
    let middle = match lane.kind {
        LaneKind::User => 4.0 + 11.0,
        LaneKind::Other => height / 2.0,
        _ => 9.0 + 7.0,
    };
    html! {
        @if lane.kind == LaneKind::User {
            line.separator x1="0" x2=(f(WIDTH)) y1=(f(y)) y2=(f(y)) {}
        }
        text class=(class) x=(f(x)) y=(f(y + middle + 4.0)) {
            title { (lane.label) }
            (fit(&[lane.label.as_str()], max_chars as f64 * CHAR_11, CHAR_11))
        }
    }
}

/// One lane and its height.
fn draw_lane(scale: &Scale, lane: &Lane, y: f64, end: SignedDuration) -> (Markup, f64) {
    match lane.kind {
        LaneKind::User => {
            let (top, band) = (y + 4.0, 22.0);
            let expected = expected_labels(scale, &lane.marks, top + band + 11.0);
            let height = 4.0 + band + 4.0 + expected.1 as f64 * EXPECTED_ROW;
            let markup = html! {
                @for b in &lane.bands { (draw_band(scale, b, top, band, end, lane)) }
                @for (i, m) in lane.marks.iter().enumerate() {
                    (draw_mark(scale, m, top + band / 2.0, same_instant(&lane.marks, i, |m| m.at)))
                }
                (expected.0)
                @if lane.bands.is_empty() {
                    text.unobserved x=(f(LEFT + 6.0)) y=(f(top + band / 2.0 + 4.0)) { "not observed" }
                }
            };
            (markup, height)
        }
        LaneKind::Session | LaneKind::Preferred | LaneKind::Other => {
            let (top, band) = (y + 9.0, 14.0);
            let height = if lane.kind == LaneKind::Other {
                20.0
            } else {
                26.0
            };
            let markup = html! {
                @for b in &lane.bands { (draw_band(scale, b, top, band, end, lane)) }
                @for (i, r) in lane.requests.iter().enumerate() {
                    (draw_request(scale, r, y + 1.0, same_instant(&lane.requests, i, |r| r.at)))
                }
                (request_labels(scale, lane, top + band - 3.0))
            };
            (markup, height)
        }
    }
}

/// Labels beside the requests that no band hides: every request of the `other` lane, and the
/// refused ones elsewhere.
fn request_labels(scale: &Scale, lane: &Lane, baseline: f64) -> Markup {
    let covered = |x: f64| {
        lane.bands.iter().any(|b| {
            let to = b.to.map_or(EDGE, |t| scale.x(t));
            scale.x(b.from) - 2.0 <= x && x <= to + 2.0
        })
    };
    let shown: Vec<(&Request, f64, f64)> = lane
        .requests
        .iter()
        .filter(|r| lane.kind == LaneKind::Other || r.status.is_none_or(|s| s >= 300))
        .map(|r| {
            let (at, w) = (scale.x(r.at), r.label.chars().count() as f64 * CHAR_10);
            // Right of the marker, or left of it near the edge.
            let x = if at + 7.0 + w <= EDGE {
                at + 7.0
            } else {
                at - 7.0 - w
            };
            (r, x, w)
        })
        .filter(|(_, x, w)| !covered(*x) && !covered(x + w))
        .collect();
    let items: Vec<(f64, f64)> = shown.iter().map(|(_, x, w)| (x + w / 2.0, *w)).collect();
    let rows = place(&items, 1);
    html! {
        @for ((r, x, _), row) in shown.iter().zip(&rows) {
            @if row.is_some() {
                text class={ "req-label " (status_class(r.status)) } x=(f(*x)) y=(f(baseline)) { (r.label) }
            }
        }
    }
}

fn status_class(status: Option<u16>) -> &'static str {
    match status {
        Some(200..=299) => "s2xx",
        Some(400..=499) => "s4xx",
        Some(500..=599) => "s5xx",
        _ => "other",
    }
}

/// How many items before `i` share its instant (they are drawn side by side).
fn same_instant<T>(items: &[T], i: usize, at: impl Fn(&T) -> SignedDuration) -> usize {
    items[..i].iter().filter(|o| at(o) == at(&items[i])).count()
}

/// The colours of a state, in Teams' usual palette.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Paint {
    pub(crate) fill: &'static str,
    pub(crate) stroke: Option<&'static str>,
    pub(crate) text: &'static str,
    /// DoNotDisturb: a white bar, as Teams draws it.
    pub(crate) bar: bool,
}

pub(crate) fn paint(availability: &str, activity: &str, failed: bool) -> Paint {
    const DARK: &str = "#252423";
    let solid = |fill, text| Paint {
        fill,
        stroke: None,
        text,
        bar: false,
    };
    if failed {
        return Paint {
            fill: "#F3F2F1",
            stroke: Some("#A4262C"),
            text: "#A4262C",
            bar: false,
        };
    }
    match (availability, activity) {
        (_, "OffWork" | "OutOfOffice") => solid("#B4009E", "#FFFFFF"),
        ("Available", "AvailableInactive") => solid("#FCD116", DARK),
        ("Available", _) => solid("#92C353", DARK),
        ("AvailableIdle" | "Away" | "BeRightBack", _) => solid("#FCD116", DARK),
        ("Busy" | "BusyIdle", _) => solid("#C4314B", "#FFFFFF"),
        ("DoNotDisturb", _) => Paint {
            bar: true,
            ..solid("#C4314B", "#FFFFFF")
        },
        ("Offline", _) => Paint {
            fill: "#FFFFFF",
            stroke: Some("#8A8886"),
            text: "#605E5C",
            bar: false,
        },
        _ => solid("#E1DFDD", DARK),
    }
}

/// `Available/AvailableInactive`, or `Away` when both halves agree.
fn state(availability: &str, activity: &str) -> String {
    if activity.is_empty() || availability == activity {
        availability.to_owned()
    } else {
        format!("{availability}/{activity}")
    }
}

fn draw_band(
    scale: &Scale,
    b: &Band,
    top: f64,
    height: f64,
    end: SignedDuration,
    lane: &Lane,
) -> Markup {
    let x1 = scale.x(b.from);
    let past_end = b.to.is_none_or(|to| to > end);
    let x2 = if past_end {
        EDGE
    } else {
        scale.x(b.to.unwrap_or(end))
    };
    let w = (x2 - x1).max(3.0);
    let p = paint(&b.availability, &b.activity, b.failed);
    let name = state(&b.availability, &b.activity);
    let until = match (b.end, b.to) {
        (End::Expires, Some(to)) => format!("until {}", iso(to)),
        (End::Cleared, Some(to)) => format!("cleared {}", iso(to)),
        _ => String::new(),
    };
    // Observations sit at a user band's start: its text starts after their ring.
    let pad = if lane.kind == LaneKind::User {
        11.0
    } else {
        5.0
    };
    let text_x = x1 + pad + if p.bar { 13.0 } else { 0.0 };
    let room = x1 + w - text_x - 3.0;
    let long = if until.is_empty() {
        name.clone()
    } else {
        format!("{name} · {until}")
    };
    let title = band_title(b, &lane.label, &name);
    html! {
        g.band {
            title { (title) }
            rect x=(f(x1)) y=(f(top)) width=(f(w)) height=(f(height)) rx="2" fill=(p.fill)
                stroke=[p.stroke] stroke-width=[p.stroke.map(|_| "1.5")]
                stroke-dasharray=[b.failed.then_some("4 2")] {}
            @if p.bar && w > 20.0 {
                rect x=(f(text_x - 14.0)) y=(f(top + height / 2.0 - 1.5)) width="10" height="3" fill="#FFFFFF" {}
            }
            @if matches!(b.end, End::Expires | End::Cleared) && !past_end {
                line.end x1=(f(x1 + w)) x2=(f(x1 + w)) y1=(f(top - 2.0)) y2=(f(top + height + 2.0))
                    stroke-dasharray=[(b.end == End::Expires).then_some("2 2")] {}
            }
            text.band-text x=(f(text_x)) y=(f(top + height / 2.0 + 4.0)) fill=(p.text) {
                (fit(&[long.as_str(), name.as_str(), b.activity.as_str()], room, CHAR_11))
            }
        }
    }
}

fn band_title(b: &Band, lane: &str, name: &str) -> String {
    let from = iso(b.from);
    match (b.end, b.to) {
        (End::Expires, Some(to)) => format!("{lane}: {name} from {from}, expires {}", iso(to)),
        (End::Cleared, Some(to)) => format!("{lane}: {name} from {from}, cleared {}", iso(to)),
        (End::Next, Some(to)) => format!("{lane}: {name} from {from} to {}", iso(to)),
        _ => format!("{lane}: {name} from {from} to the end"),
    }
}

/// The first candidate that fits `room` pixels, else nothing: a word cut short ("Availa…") reads
/// as a clipped label, while the band's colour and its tooltip still say what it is.
fn fit(candidates: &[&str], room: f64, per_char: f64) -> String {
    let chars = (room / per_char).floor().max(0.0) as usize;
    candidates
        .iter()
        .find(|c| !c.is_empty() && c.chars().count() <= chars)
        .map_or_else(String::new, |c| (*c).to_owned())
}

fn draw_request(scale: &Scale, r: &Request, top: f64, nth: usize) -> Markup {
    let x = scale.x(r.at) + 8.0 * nth as f64;
    let class = format!("req {}", status_class(r.status));
    let points = format!(
        "{},{} {},{} {},{}",
        f(x - 4.5),
        f(top),
        f(x + 4.5),
        f(top),
        f(x),
        f(top + 7.5)
    );
    html! {
        g class=(class) {
            title { (r.title) }
            polygon points=(points) {}
        }
    }
}

fn draw_mark(scale: &Scale, m: &Mark, cy: f64, nth: usize) -> Markup {
    let x = scale.x(m.at) + 12.0 * nth as f64;
    let p = paint(&m.availability, &m.activity, false);
    let class = if m.highlighted { "obs mismatch" } else { "obs" };
    html! {
        g class=(class) data-line=(m.line) {
            title { (m.title) }
            @if m.highlighted {
                circle.ring cx=(f(x)) cy=(f(cy)) r="8.5" {}
            }
            circle cx=(f(x)) cy=(f(cy)) r="5" fill=(p.fill) {}
        }
    }
}

/// Under the lane, in rows: the expected values of highlighted observations, and what else an
/// observation showed (its status message, its sequence number); and how many rows.
fn expected_labels(scale: &Scale, marks: &[Mark], y: f64) -> (Markup, usize) {
    let shown: Vec<(&Mark, String, &str, f64)> = marks
        .iter()
        .filter_map(|m| {
            let expected = m.highlighted.then(|| match &m.expected {
                Some(e) => format!("✗ expected {e}"),
                None => "✗ see faults".to_owned(),
            });
            match (expected, &m.note) {
                (Some(e), Some(n)) => Some((m, format!("{e} · {n}"), "expected", CHAR_10_BOLD)),
                (Some(e), None) => Some((m, e, "expected", CHAR_10_BOLD)),
                (None, Some(n)) => Some((m, n.clone(), "note", CHAR_10)),
                (None, None) => None,
            }
        })
        .collect();
    // From the mark rightwards, or ending at the edge when that would run past it.
    let items: Vec<(f64, f64)> = shown
        .iter()
        .map(|(m, t, _, per_char)| {
            let w = t.chars().count() as f64 * per_char;
            let x = (scale.x(m.at) - 6.0).min(EDGE - w).max(0.0);
            (x + w / 2.0, w)
        })
        .collect();
    let rows = place(&items, 3);
    let used = rows.iter().flatten().max().map_or(0, |r| r + 1);
    let markup = html! {
        @for (((m, text, class, _), (centre, w)), row) in shown.iter().zip(&items).zip(&rows) {
            @if let Some(row) = row {
                text class=(class) x=(f(centre - w / 2.0)) y=(f(y + EXPECTED_ROW * *row as f64)) {
                    title { (m.title) }
                    (text)
                }
            }
        }
    };
    (markup, used)
}

fn f(x: f64) -> String {
    format!("{x:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_keeps_a_second_visible_beside_an_hour() {
        let instants = [0, 299, 300, 3600].map(SignedDuration::from_secs);
        let scale = Scale::new(&instants);
        assert_eq!(scale.x(SignedDuration::ZERO), LEFT);
        assert!((scale.x(SignedDuration::from_hours(1)) - RIGHT).abs() < 1e-6);
        let second = scale.x(instants[2]) - scale.x(instants[1]);
        assert!(second > 40.0, "{second}");
        assert_eq!(scale.x(SignedDuration::from_hours(2)), EDGE);
    }

    #[test]
    fn labels_that_would_overlap_take_the_next_row_or_none() {
        let rows = place(&[(0.0, 50.0), (10.0, 50.0), (20.0, 50.0), (200.0, 50.0)], 2);
        assert_eq!(rows, [Some(0), Some(1), None, Some(0)]);
    }

    #[test]
    fn teams_colours() {
        assert_eq!(paint("Available", "Available", false).fill, "#92C353");
        assert_eq!(
            paint("Available", "AvailableInactive", false).fill,
            "#FCD116"
        );
        assert!(paint("DoNotDisturb", "Presenting", false).bar);
        assert_eq!(paint("Offline", "Offline", false).stroke, Some("#8A8886"));
        assert_eq!(paint("Away", "OutOfOffice", false).fill, "#B4009E");
        let candidates = ["Available/AvailableInactive", "AvailableInactive"];
        assert_eq!(fit(&candidates, 120.0, 6.0), "AvailableInactive");
        assert_eq!(fit(&candidates, 60.0, 6.0), "");
    }
}
