//! What the server looks like from outside: `/proc` (CPU time, RSS) and
//! `GET /metrics`.

use std::collections::BTreeMap;

/// Clock ticks per second for `/proc/<pid>/stat` times. Linux reports
/// `USER_HZ`, which is 100 on every mainstream architecture.
pub(crate) const TICKS_PER_SEC: f64 = 100.0;

/// User plus system CPU time of a process (all threads), in clock ticks.
pub(crate) fn cpu_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it do not.
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split(' ').collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Resident set size of a process, in KiB.
pub(crate) fn rss_kib(pid: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Busy and total jiffies per CPU from `/proc/stat` (`cpu0`, `cpu1`, …).
pub(crate) fn cpu_times() -> Vec<(u64, u64)> {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else { return Vec::new() };
    stat.lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            let v: Vec<u64> = l.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
            let total: u64 = v.iter().take(8).sum();
            // idle and iowait are not busy.
            let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
            (total - idle, total)
        })
        .collect()
}

/// The counters of `GET /metrics`, summed over label sets.
#[derive(Debug, Clone, Default)]
pub(crate) struct Metrics(BTreeMap<String, f64>);

impl Metrics {
    pub(crate) fn parse(text: &str) -> Self {
        let mut values = BTreeMap::new();
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let Some((series, value)) = line.rsplit_once(' ') else { continue };
            let Ok(value) = value.parse::<f64>() else { continue };
            // Histogram buckets would be double counted; keep only sums,
            // counts and plain series.
            if series.contains("_bucket{") {
                continue;
            }
            let name = series.split('{').next().unwrap_or(series).to_owned();
            *values.entry(name).or_insert(0.0) += value;
        }
        Self(values)
    }

    pub(crate) fn get(&self, name: &str) -> f64 {
        self.0.get(name).copied().unwrap_or(0.0)
    }

    /// Adds another server's series to these (for a cluster's sums).
    pub(crate) fn add(&mut self, other: &Metrics) {
        for (name, value) in &other.0 {
            *self.0.entry(name.clone()).or_insert(0.0) += value;
        }
    }

    /// `self - before` for one series.
    pub(crate) fn delta(&self, before: &Metrics, name: &str) -> f64 {
        self.get(name) - before.get(name)
    }
}

/// Fetches `GET /metrics`; an empty set when it cannot be read (the
/// figures it feeds are cross-checks, not the measurement).
pub(crate) async fn scrape(http: &reqwest::Client, base: &str) -> Metrics {
    let Ok(response) = http.get(format!("{base}/metrics")).send().await else { return Metrics::default() };
    let Ok(text) = response.text().await else { return Metrics::default() };
    Metrics::parse(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_sum_label_sets_and_skip_buckets() {
        let text = "# TYPE chat_logins_total counter\nchat_logins_total{result=\"ok\"} 3\n\
                    chat_logins_total{result=\"refused\"} 1\nchat_store_commit_seconds_bucket{le=\"0.1\"} 9\n\
                    chat_store_commit_seconds_sum 0.5\nchat_connections 7\n";
        let m = Metrics::parse(text);
        assert_eq!(m.get("chat_logins_total"), 4.0);
        assert_eq!(m.get("chat_store_commit_seconds_sum"), 0.5);
        assert_eq!(m.get("chat_store_commit_seconds_bucket"), 0.0);
        assert_eq!(m.get("chat_connections"), 7.0);
    }

    #[test]
    fn metrics_of_several_nodes_add_up_by_series() {
        let mut sum = Metrics::parse("chat_connections 7\nchat_messages_stored_total 2\n");
        sum.add(&Metrics::parse("chat_connections 5\nchat_frames_queued_total 9\n"));
        assert_eq!(sum.get("chat_connections"), 12.0);
        assert_eq!(sum.get("chat_messages_stored_total"), 2.0);
        assert_eq!(sum.get("chat_frames_queued_total"), 9.0);
    }

    #[test]
    fn own_process_has_cpu_time_and_rss() {
        let me = std::process::id().to_string();
        assert!(cpu_ticks(&me).is_some());
        assert!(rss_kib(&me).unwrap() > 0);
    }
}
