//! Latency histograms that travel between processes, and percentiles.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Microseconds, 1 µs to 10 minutes, 3 significant digits.
#[derive(Debug, Clone)]
pub(crate) struct Latency(Histogram<u64>);

const HIGHEST_US: u64 = 600_000_000;

impl Latency {
    pub(crate) fn new() -> anyhow::Result<Self> {
        Ok(Self(Histogram::new_with_bounds(1, HIGHEST_US, 3)?))
    }

    pub(crate) fn record_us(&mut self, us: u64) {
        self.0.saturating_record(us.max(1));
    }

    pub(crate) fn reset(&mut self) {
        self.0.reset();
    }

    /// The recorded values as `(value, count)` pairs, for JSON.
    pub(crate) fn to_buckets(&self) -> Buckets {
        Buckets(self.0.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect())
    }

    pub(crate) fn add(&mut self, buckets: &Buckets) {
        for &(value, count) in &buckets.0 {
            // Values came from a histogram with the same bounds.
            let _ = self.0.record_n(value.clamp(1, HIGHEST_US), count);
        }
    }

    /// p50/p90/p99/p99.9/max in milliseconds.
    pub(crate) fn summary(&self) -> Percentiles {
        let ms = |q: f64| self.0.value_at_quantile(q) as f64 / 1000.0;
        Percentiles {
            count: self.0.len(),
            p50: ms(0.5),
            p90: ms(0.9),
            p99: ms(0.99),
            p999: ms(0.999),
            max: self.0.max() as f64 / 1000.0,
        }
    }
}

/// A histogram in transit.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Buckets(pub(crate) Vec<(u64, u64)>);

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(crate) struct Percentiles {
    pub(crate) count: u64,
    pub(crate) p50: f64,
    pub(crate) p90: f64,
    pub(crate) p99: f64,
    pub(crate) p999: f64,
    pub(crate) max: f64,
}

/// The median of `values` (the mean of the middle two for an even count).
pub(crate) fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_round_trip_keeps_percentiles() {
        let mut a = Latency::new().unwrap();
        for us in 1..=10_000 {
            a.record_us(us);
        }
        let mut b = Latency::new().unwrap();
        b.add(&a.to_buckets());
        assert_eq!(b.summary().count, 10_000);
        assert!((b.summary().p99 - a.summary().p99).abs() < 0.02);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(&mut []), None);
    }
}
