//! Results as tables (Markdown, for people and `docs/performance.md`) and
//! JSON (for machines and for `summarize`, which takes medians over
//! repeated runs).

use std::{collections::BTreeMap, path::Path};

use serde::{Deserialize, Serialize};

use crate::stats::median;

/// One scenario run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Report {
    pub(crate) scenario: String,
    /// Parameters in the order they are printed.
    pub(crate) params: Vec<(String, String)>,
    pub(crate) rows: Vec<Row>,
    /// Why the run failed (lost messages, errors); empty when it passed.
    pub(crate) problems: Vec<String>,
    /// `/proc/loadavg` when the run started (other users of the machine).
    pub(crate) load: String,
    /// How many runs a summarized report is the median of.
    #[serde(default)]
    pub(crate) runs: usize,
}

/// One line of a table: a label and named figures, in column order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Row {
    pub(crate) label: String,
    /// Figures that could not be measured are left out (`null` in older
    /// files is read as left out too).
    #[serde(deserialize_with = "known_metrics")]
    pub(crate) metrics: Vec<(String, f64)>,
}

fn known_metrics<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<(String, f64)>, D::Error> {
    let raw: Vec<(String, Option<f64>)> = Deserialize::deserialize(d)?;
    Ok(raw.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect())
}

impl Row {
    pub(crate) fn new(label: impl Into<String>) -> Self {
        Self { label: label.into(), metrics: Vec::new() }
    }

    /// Adds a figure; NaN (not measured) is left out.
    pub(crate) fn with(mut self, name: &str, value: f64) -> Self {
        if value.is_finite() {
            self.metrics.push((name.to_owned(), value));
        }
        self
    }

    pub(crate) fn get(&self, name: &str) -> Option<f64> {
        self.metrics.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

impl Report {
    pub(crate) fn new(scenario: &str) -> Self {
        Self { scenario: scenario.to_owned(), load: load_average(), runs: 1, ..Self::default() }
    }

    pub(crate) fn param(&mut self, name: &str, value: impl ToString) {
        self.params.push((name.to_owned(), value.to_string()));
    }

    /// A Markdown table with a heading line of parameters.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        let params: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let runs = if self.runs > 1 { format!(", median of {} runs", self.runs) } else { String::new() };
        out.push_str(&format!("### {} ({}{runs})\n\n", self.scenario, params.join(" ")));
        let mut columns: Vec<&str> = Vec::new();
        for row in &self.rows {
            for (name, _) in &row.metrics {
                if !columns.contains(&name.as_str()) {
                    columns.push(name);
                }
            }
        }
        out.push_str(&format!("| step | {} |\n", columns.join(" | ")));
        out.push_str(&format!("|---|{}\n", "---:|".repeat(columns.len())));
        for row in &self.rows {
            let cells: Vec<String> = columns.iter().map(|c| row.get(c).map_or("–".to_owned(), format_value)).collect();
            out.push_str(&format!("| {} | {} |\n", row.label, cells.join(" | ")));
        }
        if self.problems.is_empty() {
            out.push_str("\nresult: OK, 0 lost\n");
        } else {
            out.push_str(&format!("\nresult: FAILED: {}\n", self.problems.join("; ")));
        }
        if !self.load.is_empty() {
            out.push_str(&format!("load average at start: {}\n", self.load));
        }
        out
    }
}

fn format_value(v: f64) -> String {
    if v.is_nan() {
        "–".to_owned()
    } else if v.abs() >= 1000.0 || v.fract() == 0.0 {
        format!("{:.0}", v)
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Writes reports as a JSON array.
pub(crate) fn write_json(path: &Path, reports: &[Report]) -> anyhow::Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(reports)?)?;
    Ok(())
}

/// Medians over repeated runs: reports with the same scenario and
/// parameters are merged row by row (rows matched by label), each figure
/// the median of the runs that have that row.
pub(crate) fn summarize(runs: Vec<Report>) -> Vec<Report> {
    let mut groups: BTreeMap<(String, String), Vec<Report>> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for report in runs {
        let key = (report.scenario.clone(), format!("{:?}", report.params));
        if !groups.contains_key(&key) {
            order.push(key.clone());
        }
        groups.entry(key).or_default().push(report);
    }
    let mut merged = Vec::new();
    for key in order {
        let Some(reports) = groups.remove(&key) else { continue };
        let mut out = Report { runs: reports.len(), ..reports[0].clone() };
        out.rows.clear();
        out.problems.clear();
        let loads: Vec<String> = reports.iter().map(|r| r.load.clone()).collect();
        out.load = loads.join(" / ");
        let mut labels: Vec<String> = Vec::new();
        for r in &reports {
            for row in &r.rows {
                if !labels.contains(&row.label) {
                    labels.push(row.label.clone());
                }
            }
            for p in &r.problems {
                out.problems.push(format!("run {}: {p}", out.problems.len() + 1));
            }
        }
        for label in labels {
            let rows: Vec<&Row> = reports.iter().flat_map(|r| r.rows.iter().filter(|row| row.label == label)).collect();
            let mut row = Row::new(if rows.len() < reports.len() {
                format!("{label} ({}/{} runs)", rows.len(), reports.len())
            } else {
                label.clone()
            });
            let mut names: Vec<&String> = Vec::new();
            for r in &rows {
                for (name, _) in &r.metrics {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
            }
            for name in names {
                let mut values: Vec<f64> = rows.iter().filter_map(|r| r.get(name)).collect();
                if let Some(m) = median(&mut values) {
                    row.metrics.push((name.clone(), m));
                }
            }
            out.rows.push(row);
        }
        merged.push(out);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarize_takes_medians_per_row() {
        let run = |v: f64| Report {
            scenario: "fanout".into(),
            params: vec![("members".into(), "10".into())],
            rows: vec![Row::new("20000/s").with("p99 ms", v)],
            ..Report::default()
        };
        let merged = summarize(vec![run(3.0), run(1.0), run(2.0)]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].runs, 3);
        assert_eq!(merged[0].rows[0].get("p99 ms"), Some(2.0));
        assert!(merged[0].render().contains("median of 3 runs"));
    }
}
