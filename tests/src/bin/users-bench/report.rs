//! The figures of one run: each value beside its baseline from the same run,
//! printed as a table and written as JSON.

use serde::Serialize;
use std::time::Duration;

/// How this run measures.
pub struct Plan {
    /// Small sizes and short runs.
    pub quick: bool,
    /// Length of each throughput measurement.
    pub secs: Duration,
    /// PBKDF2 iterations for the login figures.
    pub login_iterations: u32,
}

/// One measured figure.
#[derive(Serialize)]
pub struct Figure {
    figure: u8,
    what: String,
    value: f64,
    unit: String,
    baseline: Option<f64>,
    baseline_what: String,
    ratio: Option<f64>,
    goal: String,
    met: Option<bool>,
}

/// Every figure of the run, in order; as JSON, the list of figures.
#[derive(Default, Serialize)]
#[serde(transparent)]
pub struct Report {
    figures: Vec<Figure>,
}

/// What a figure is measured against, and the goal for it.
pub struct Against<'a> {
    /// The baseline's value and what it is, if the figure has one.
    pub baseline: Option<(f64, &'a str)>,
    /// The goal, for people (`>= 0.8`, `< 2 s`, `-`).
    pub goal: &'a str,
    /// Whether the goal was met, where there is one.
    pub met: Option<bool>,
}

impl Against<'_> {
    /// Reported, not judged.
    pub const NONE: Against<'static> = Against {
        baseline: None,
        goal: "-",
        met: None,
    };
}

impl Report {
    /// Adds a figure.
    pub fn push(&mut self, figure: u8, what: &str, value: f64, unit: &str, against: Against) {
        let ratio = against
            .baseline
            .map(|(b, _)| if b > 0.0 { value / b } else { 0.0 });
        self.figures.push(Figure {
            figure,
            what: what.into(),
            value,
            unit: unit.into(),
            baseline: against.baseline.map(|b| b.0),
            baseline_what: against.baseline.map(|b| b.1.to_owned()).unwrap_or_default(),
            ratio,
            goal: against.goal.into(),
            met: against.met,
        });
    }

    /// The table, and what each baseline is.
    pub fn print(&self) {
        println!(
            "\n{:<3} {:<58} {:>12} {:<9} {:>12} {:>7}  {:<9} met",
            "#", "figure", "value", "unit", "baseline", "ratio", "goal"
        );
        for f in &self.figures {
            let baseline = f.baseline.map_or("-".into(), |b| format!("{b:.1}"));
            let ratio = f.ratio.map_or("-".into(), |r| format!("{r:.2}"));
            let met = match f.met {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "-",
            };
            println!(
                "{:<3} {:<58} {:>12.2} {:<9} {:>12} {:>7}  {:<9} {}",
                f.figure, f.what, f.value, f.unit, baseline, ratio, f.goal, met
            );
        }
        for f in self.figures.iter().filter(|f| f.baseline.is_some()) {
            println!("    {}: baseline is {}", f.what, f.baseline_what);
        }
    }
}
