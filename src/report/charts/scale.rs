//! Axis scales: where a value lands along an axis, the ticks a reader can read (1-2-5 steps,
//! never 3.162), and numbers as people write them (180k, 0.5, 2.34 s).
//!
//! A linear axis steps by 1, 2 or 5 times a power of ten and ends on a tick. A log axis is
//! chosen from the data when its values span more than [`LOG_RATIO`]: its ticks are 1, 2 and 5
//! times the powers of ten when it spans a few decades, the powers alone beyond.

/// Values whose largest is this many times their smallest (all positive) get a log axis.
pub const LOG_RATIO: f64 = 30.0;

/// One axis: its range, linear or log, and its ticks.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    /// The lowest value shown.
    pub lo: f64,
    /// The highest value shown.
    pub hi: f64,
    /// Log10 scale.
    pub log: bool,
    /// The labelled ticks, ascending.
    pub ticks: Vec<f64>,
    /// Unlabelled grid lines between ticks (log axes spanning many decades).
    pub minor: Vec<f64>,
    /// The linear step (0 on log axes), which decides how many decimals a label has.
    step: f64,
}

/// The finite values of `xs` as (min, max); None if there is none.
fn extent(xs: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    xs.into_iter()
        .filter(|x| x.is_finite())
        .fold(None, |acc, x| match acc {
            None => Some((x, x)),
            Some((lo, hi)) => Some((lo.min(x), hi.max(x))),
        })
}

/// Rounds away the binary noise of `k * step` (0.30000000000000004 → 0.3).
fn clean(x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let digits = 12 - x.abs().log10().floor() as i32;
    let f = 10f64.powi(digits.clamp(-300, 300));
    (x * f).round() / f
}

/// The smallest 1-2-5 value (1, 2 or 5 times a power of ten) at least `x` (> 0).
fn one_two_five(x: f64) -> f64 {
    let mag = 10f64.powf(x.log10().floor());
    let v = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|s| s * mag)
        .find(|v| *v >= x * (1.0 - 1e-9));
    clean(v.unwrap_or(mag * 10.0))
}

impl Scale {
    /// A scale for `values`: log when they are all positive and span more than [`LOG_RATIO`]
    /// (`allow_log`), else linear, from zero when `from_zero`.
    pub fn auto(values: impl IntoIterator<Item = f64>, from_zero: bool, allow_log: bool) -> Scale {
        let vals: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        match extent(vals.iter().copied()) {
            Some((lo, hi)) if allow_log && lo > 0.0 && hi / lo > LOG_RATIO => Scale::log(lo, hi),
            // A little room above the highest value, so that no point sits on the frame.
            Some((lo, hi)) => Scale::linear(lo, hi + (hi - lo).abs() * 0.02, from_zero),
            None => Scale::linear(0.0, 1.0, true),
        }
    }

    /// A linear scale over [min, max], widened to whole steps (and to zero with `from_zero`).
    pub fn linear(min: f64, max: f64, from_zero: bool) -> Scale {
        let (mut lo, mut hi) = (min.min(max), min.max(max));
        if from_zero {
            lo = lo.min(0.0);
            hi = hi.max(0.0);
        }
        if hi - lo <= hi.abs().max(lo.abs()) * 1e-9 {
            // One value: a step of about a tenth of it around it (or 0 to 1).
            let pad = if hi == 0.0 { 1.0 } else { hi.abs() * 0.1 };
            hi += pad;
            if !from_zero || lo != 0.0 {
                lo -= pad;
            }
        }
        // About six steps: at most seven ticks, at least three.
        let step = one_two_five((hi - lo) / 6.0);
        // The tolerance points inwards: a bound on a tick stays that tick.
        let first = (lo / step + 1e-9).floor() as i64;
        let last = (hi / step - 1e-9).ceil() as i64;
        let ticks: Vec<f64> = (first..=last).map(|k| clean(k as f64 * step)).collect();
        Scale {
            lo: ticks[0],
            hi: ticks[ticks.len() - 1],
            log: false,
            ticks,
            minor: Vec::new(),
            step,
        }
    }

    /// A log scale over [min, max] (both > 0), a little wider (a tenth of a decade each side)
    /// so that no point sits on the frame.
    pub fn log(min: f64, max: f64) -> Scale {
        let pad = 10f64.powf(0.1);
        let (lo, hi) = (min / pad, (max * pad).max(min * 10.0));
        let decades = (hi / lo).log10();
        let mut all = Vec::new();
        let mut mag = 10f64.powf(lo.log10().floor());
        while mag <= hi {
            for s in [1.0, 2.0, 5.0] {
                let v = clean(s * mag);
                if v >= lo && v <= hi {
                    all.push(v);
                }
            }
            mag *= 10.0;
        }
        let is_power = |v: &f64| (v.log10() - v.log10().round()).abs() < 1e-9;
        // A few decades: 1, 2 and 5 labelled; more: the powers labelled, 2 and 5 as grid lines.
        let (ticks, minor): (Vec<f64>, Vec<f64>) = if decades <= 3.2 {
            (all, Vec::new())
        } else {
            all.into_iter().partition(is_power)
        };
        Scale {
            lo,
            hi,
            log: true,
            ticks,
            minor,
            step: 0.0,
        }
    }

    /// Where `v` lies along the axis, 0 at `lo` and 1 at `hi` (outside for values beyond; on a
    /// log axis a value ≤ 0 is far below).
    pub fn frac(&self, v: f64) -> f64 {
        if self.log {
            if v <= 0.0 {
                return -1.0;
            }
            (v / self.lo).log10() / (self.hi / self.lo).log10()
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    /// The label of tick `v`: as few decimals as the step needs, thousands as k, millions as M.
    pub fn label(&self, v: f64) -> String {
        if self.log {
            return human(v);
        }
        let top = self.lo.abs().max(self.hi.abs());
        let (unit, suffix) = unit_of(top);
        let decimals = (-(self.step / unit).log10() - 1e-9).ceil().max(0.0) as usize;
        let n = trim(format!("{:.*}", decimals, v / unit));
        if n == "0" { n } else { format!("{n}{suffix}") }
    }
}

/// (divisor, suffix) for numbers of size `top`.
fn unit_of(top: f64) -> (f64, &'static str) {
    if top >= 1e6 {
        (1e6, "M")
    } else if top >= 1e3 {
        (1e3, "k")
    } else {
        (1.0, "")
    }
}

/// "2.50" → "2.5", "3.00" → "3", "-0" → "0".
fn trim(s: String) -> String {
    let t = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if t == "-0" { "0".into() } else { t }
}

/// A number as people write it: three significant digits at most, thousands as k and millions
/// as M (185,742 → "186k", 1,500 → "1.5k", 0.8512 → "0.851", 12 → "12").
pub fn human(v: f64) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let (unit, suffix) = unit_of(v.abs());
    let x = v / unit;
    // Three significant digits, but never in exponent form.
    let decimals = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = trim(format!("{:.*}", decimals, x));
    // Rounding may carry into a new unit (999,600 → "1000k"): say it in the next one.
    if suffix == "k" && s == "1000" {
        return "1M".into();
    }
    format!("{s}{suffix}")
}

/// A duration in ms as people write it: "0.851 ms", "24.8 ms", "2.34 s", and below 0.1 ms in
/// µs or ns ("36.3 µs", "1.14 ns") rather than with a row of zeros.
pub fn human_ms(ms: f64) -> String {
    let a = ms.abs();
    if !ms.is_finite() || ms == 0.0 || (0.1..1000.0).contains(&a) {
        format!("{} ms", human(ms))
    } else if a >= 1000.0 {
        format!("{} s", human(ms / 1000.0))
    } else if a >= 1e-4 {
        format!("{} µs", human(ms * 1e3))
    } else {
        format!("{} ns", human(ms * 1e6))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(s: &Scale) -> Vec<String> {
        s.ticks.iter().map(|&t| s.label(t)).collect()
    }

    #[test]
    fn linear_ticks_step_by_one_two_five_and_read_as_people_write() {
        let s = Scale::linear(0.0, 185_742.0, true);
        assert_eq!(labels(&s), ["0", "50k", "100k", "150k", "200k"]);
        let s = Scale::linear(0.0, 100.0, true);
        assert_eq!(labels(&s), ["0", "20", "40", "60", "80", "100"]);
        let s = Scale::linear(0.31, 1.05, true);
        assert_eq!(labels(&s), ["0", "0.2", "0.4", "0.6", "0.8", "1", "1.2"]);
        let s = Scale::linear(35_740.0, 38_140.0, false);
        assert_eq!(
            labels(&s),
            ["35.5k", "36k", "36.5k", "37k", "37.5k", "38k", "38.5k"]
        );
        let s = Scale::linear(0.0, 20.0, true);
        assert_eq!(labels(&s), ["0", "5", "10", "15", "20"]);
        // One value, or nothing at all, still gives an axis.
        assert!(Scale::linear(7.0, 7.0, false).ticks.len() >= 2);
        assert_eq!(
            Scale::auto([], true, true).ticks,
            [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
        );
    }

    #[test]
    fn log_is_chosen_from_the_data_and_ticks_at_one_two_five() {
        let s = Scale::auto([0.66, 241.0], true, true);
        assert!(s.log);
        assert_eq!(labels(&s), ["1", "2", "5", "10", "20", "50", "100", "200"]);
        assert!(
            s.frac(0.66) > 0.0 && s.frac(241.0) < 1.0,
            "no point on the frame"
        );
        assert!(!Scale::auto([0.31, 1.05], true, true).log);
        assert!(!Scale::auto([0.66, 241.0], true, false).log);
        assert!(
            !Scale::auto([0.0, 241.0], true, true).log,
            "zero has no log"
        );
        // Many decades: powers of ten labelled, 2 and 5 as grid lines only.
        let s = Scale::auto([13.7, 185_781.0], true, true);
        assert_eq!(labels(&s), ["100", "1k", "10k", "100k"]);
        assert!(s.minor.contains(&50.0) && !s.minor.contains(&100.0));
    }

    #[test]
    fn a_value_lands_where_its_axis_says() {
        let s = Scale::log(1.0, 1000.0);
        // Padded alike at both ends: the geometric middle is in the middle.
        assert!((s.frac(10f64.powf(1.5)) - 0.5).abs() < 1e-12);
        assert!(s.frac(0.0) < 0.0);
        let s = Scale::linear(0.0, 10.0, true);
        assert!((s.frac(5.0) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(human(185_742.0), "186k");
        assert_eq!(human(180_000.0), "180k");
        assert_eq!(human(1_500.0), "1.5k");
        assert_eq!(human(0.8512), "0.851");
        assert_eq!(human(12.0), "12");
        assert_eq!(human(999_700.0), "1M");
        assert_eq!(human(2_500_000.0), "2.5M");
        assert_eq!(human(-0.5), "-0.5");
        assert_eq!(human_ms(0.5), "0.5 ms");
        assert_eq!(human_ms(2_337.0), "2.34 s");
        assert_eq!(human_ms(0.0363), "36.3 µs");
        assert_eq!(human_ms(0.000_001_14), "1.14 ns");
        assert_eq!(human_ms(0.0), "0 ms");
    }
}
