//! A file holding the output of etcd's real `benchmark` tool, as a calibration's reference row:
//! the command line that ran it, then the report it printed (`pkg/report`: the Summary, the
//! response time histogram and the latency distribution).
//!
//! ```text
//! $ benchmark --endpoints=10.0.0.1:2379,10.0.0.2:2379 --conns=100 --clients=1000 \
//!     range foo --consistency=l --total=100000
//!  100000 / 100000 Booooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo! 100.00% 6s
//!
//! Summary:
//!   Total:        5.2133 secs.
//!   Slowest:      0.0231 secs.
//!   Fastest:      0.0004 secs.
//!   Average:      0.0051 secs.
//!   Stddev:       0.0021 secs.
//!   Requests/sec: 19181.6417
//!
//! Response time histogram:
//!   0.0004 [1]    |
//!   …
//! Latency distribution:
//!   10% in 0.0031 secs.
//!   …
//!   99% in 0.0127 secs.
//! ```
//!
//! The command line is the first line that is not blank (a `$ ` or `# ` prompt before it, a
//! trailing `\` continuing it on the next line, and `NAME=value` environment words before the
//! program are allowed); its first word is the program, whose file name is `benchmark`. Its
//! words are turned into a workload by the caller (the clap definitions of `etcdsim benchmark`
//! live in the command line's module, above this one), given as a [`CommandLine`]. Other
//! lines outside the Summary and the latency distribution (the progress bar, the histogram, an
//! error distribution) are skipped.

use super::ConfigError;
use super::calibration::{CpuPerRequest, ReferenceRow};
use super::workload::WorkloadSpec;

/// Turns the words of a pasted `benchmark` command line (the program first) into the workload
/// it ran, or says in one line why not (an unknown flag, an operation not simulated).
pub type CommandLine = fn(&[String]) -> Result<WorkloadSpec, String>;

/// What a benchmark output file holds, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchmarkOutput {
    /// The line the command starts on (1-based).
    pub command_line: usize,
    /// The command's words, the program first (prompt and environment words removed).
    pub words: Vec<String>,
    /// The report.
    pub report: Report,
}

/// etcd's report: the Summary and the latency distribution, in seconds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// `Total:` (the run's wall time, s).
    pub total_s: Option<f64>,
    /// `Slowest:` (s).
    pub slowest_s: Option<f64>,
    /// `Fastest:` (s).
    pub fastest_s: Option<f64>,
    /// `Average:` (s).
    pub average_s: f64,
    /// `Stddev:` (s).
    pub stddev_s: Option<f64>,
    /// `Requests/sec:`.
    pub requests_per_s: f64,
    /// The latency distribution: (percent, seconds), as printed (`99% in 0.0127 secs.`).
    pub percentiles_s: Vec<(f64, f64)>,
}

impl Report {
    /// The latency at `percent` in the distribution, in seconds, if printed.
    pub fn percentile_s(&self, percent: f64) -> Option<f64> {
        self.percentiles_s
            .iter()
            .find(|(p, _)| (*p - percent).abs() < 1e-9)
            .map(|(_, s)| *s)
    }
}

fn at(file: &str, line: usize, msg: impl Into<String>) -> ConfigError {
    ConfigError::Parse {
        file: file.to_string(),
        line: Some(line),
        msg: msg.into(),
    }
}

/// Parses a benchmark output file's `text` (`file` names it in errors).
pub fn parse(file: &str, text: &str) -> Result<BenchmarkOutput, ConfigError> {
    let lines: Vec<&str> = text.lines().collect();
    let (command_line, words, after) = command(file, &lines)?;
    let report = report(file, &lines, after)?;
    Ok(BenchmarkOutput {
        command_line,
        words,
        report,
    })
}

/// The command line: its first line, its words and the index of the line after it.
fn command(file: &str, lines: &[&str]) -> Result<(usize, Vec<String>, usize), ConfigError> {
    let Some(first) = lines.iter().position(|l| !l.trim().is_empty()) else {
        return Err(ConfigError::Parse {
            file: file.to_string(),
            line: None,
            msg: "empty: a benchmark output file starts with the command line (`benchmark --conns=100 --clients=1000 range foo …`), then the report".into(),
        });
    };
    let mut text = String::new();
    let mut i = first;
    loop {
        let mut l = lines[i].trim();
        if i == first {
            l = l
                .strip_prefix('$')
                .or_else(|| l.strip_prefix('#'))
                .unwrap_or(l)
                .trim_start();
        } else {
            l = l.strip_prefix("> ").unwrap_or(l);
        }
        i += 1;
        match l.strip_suffix('\\') {
            Some(head) if i < lines.len() => {
                text.push_str(head);
                text.push(' ');
            }
            _ => {
                text.push_str(l);
                break;
            }
        }
    }
    let line = first + 1;
    let words = split_words(&text).map_err(|e| at(file, line, format!("the command line: {e}")))?;
    let words: Vec<String> = words
        .into_iter()
        .skip_while(|w| is_env_assignment(w))
        .collect();
    let program = words.first().map_or("", String::as_str);
    let name = program.rsplit('/').next().unwrap_or(program);
    if name != "benchmark" {
        return Err(at(
            file,
            line,
            format!(
                "the first line must be the command that ran etcd's benchmark tool (`benchmark --conns=100 --clients=1000 range foo …`, a `$ ` prompt allowed); its program is {program:?}, not `benchmark`"
            ),
        ));
    }
    Ok((line, words, i))
}

/// `NAME=value` before the program (`ETCDCTL_API=3 benchmark …`).
fn is_env_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && !name.starts_with('-')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// A shell's words: blanks separate them; single quotes keep everything, double quotes keep
/// all but `\"` and `\\`, a backslash outside quotes keeps the next character.
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if let Some(w) = cur.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err("a single quote is not closed".into()),
                    }
                }
            }
            '"' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => w.push(c),
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err("a double quote is not closed".into()),
                        },
                        Some(c) => w.push(c),
                        None => return Err("a double quote is not closed".into()),
                    }
                }
            }
            '\\' => {
                let w = cur.get_or_insert_with(String::new);
                if let Some(c) = chars.next() {
                    w.push(c);
                }
            }
            c => cur.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(cur);
    Ok(words)
}

/// The report from line index `from` on.
fn report(file: &str, lines: &[&str], from: usize) -> Result<Report, ConfigError> {
    let mut summary_at: Option<usize> = None;
    let mut section = "";
    let mut r = Report::default();
    let (mut average, mut rps) = (None, None);
    for (i, raw) in lines.iter().enumerate().skip(from) {
        let line = i + 1;
        let l = raw.trim();
        if l.is_empty() {
            section = "";
            continue;
        }
        match l {
            "Summary:" => {
                if let Some(s) = summary_at {
                    return Err(at(
                        file,
                        line,
                        format!(
                            "a second Summary (the first is on line {s}): a file holds one benchmark run"
                        ),
                    ));
                }
                summary_at = Some(line);
                section = "summary";
                continue;
            }
            "Latency distribution:" => {
                section = "latency";
                continue;
            }
            _ if l.ends_with(':') => {
                // Another section (the response time histogram, an error distribution).
                section = "";
                continue;
            }
            _ => {}
        }
        match section {
            "summary" => {
                let Some((key, value)) = l.split_once(':') else {
                    continue;
                };
                let slot = match key.trim() {
                    "Total" => &mut r.total_s,
                    "Slowest" => &mut r.slowest_s,
                    "Fastest" => &mut r.fastest_s,
                    "Average" => &mut average,
                    "Stddev" => &mut r.stddev_s,
                    "Requests/sec" => &mut rps,
                    _ => continue,
                };
                *slot = Some(summary_number(file, line, key.trim(), value)?);
            }
            "latency" => r.percentiles_s.push(percentile(file, line, l)?),
            _ => {}
        }
    }
    let Some(summary) = summary_at else {
        return Err(ConfigError::Parse {
            file: file.to_string(),
            line: None,
            msg: "no \"Summary:\" line: after the command line comes the report etcd's benchmark prints (Summary:, Total:, …, Requests/sec:); was it cut off?".into(),
        });
    };
    let missing = |what: &str| {
        at(
            file,
            summary,
            format!(
                "the Summary has no \"{what}:\" line: etcd's benchmark prints it, and calibration needs it (the measured {})",
                if what == "Average" {
                    "mean latency"
                } else {
                    "throughput"
                }
            ),
        )
    };
    r.requests_per_s = rps.ok_or_else(|| missing("Requests/sec"))?;
    r.average_s = average.ok_or_else(|| missing("Average"))?;
    for (what, v) in [("Requests/sec", r.requests_per_s), ("Average", r.average_s)] {
        if v <= 0.0 {
            return Err(at(
                file,
                summary,
                format!("\"{what}:\" must be above 0 (got {v}): the run measured nothing"),
            ));
        }
    }
    Ok(r)
}

/// The number of a Summary line (`0.0051 secs.`, `19181.6417`).
fn summary_number(file: &str, line: usize, key: &str, value: &str) -> Result<f64, ConfigError> {
    let v = value.trim();
    let number = v.split_whitespace().next().unwrap_or("");
    let unit = v[number.len()..].trim();
    let ok_unit = match key {
        "Requests/sec" => unit.is_empty(),
        _ => matches!(unit, "secs." | "secs" | "s"),
    };
    number
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x >= 0.0 && ok_unit)
        .ok_or_else(|| {
            at(
                file,
                line,
                format!(
                    "\"{key}:\" must be a number >= 0{} (got {v:?})",
                    if key == "Requests/sec" {
                        ""
                    } else {
                        " of secs."
                    }
                ),
            )
        })
}

/// A line of the latency distribution: `99% in 0.0127 secs.`.
fn percentile(file: &str, line: usize, l: &str) -> Result<(f64, f64), ConfigError> {
    let parsed = (|| {
        let (p, rest) = l.split_once("% in ")?;
        let s = rest.trim().strip_suffix("secs.")?.trim();
        let p: f64 = p.trim().parse().ok()?;
        let s: f64 = s.parse().ok()?;
        (p > 0.0 && p <= 100.0 && s.is_finite() && s >= 0.0).then_some((p, s))
    })();
    parsed.ok_or_else(|| {
        at(
            file,
            line,
            format!(
                "a line of the latency distribution reads \"P% in S secs.\" (P in (0, 100], S >= 0); got {l:?}"
            ),
        )
    })
}

/// The reference row a benchmark output file gives: its command line (parsed by `command`)
/// as the workload, its report as the measurement. `label` names the row (the path as the
/// calibration file gives it).
pub fn reference_row(
    file: &str,
    text: &str,
    label: &str,
    command: CommandLine,
) -> Result<ReferenceRow, ConfigError> {
    let out = parse(file, text)?;
    let workload = command(&out.words)
        .map_err(|e| at(file, out.command_line, format!("the command line: {e}")))?;
    let r = &out.report;
    Ok(ReferenceRow {
        line: out.command_line,
        label: label.to_string(),
        workload,
        cluster: Vec::new(),
        qps: r.requests_per_s,
        latency_ms: r.average_s * 1e3,
        p99_ms: r.percentile_s(99.0).map(|s| s * 1e3),
        qps_spread: None,
        cpu_us: CpuPerRequest::default(),
        disk_ms: Default::default(),
        probe_ms: [None; 2],
        runq: [None; 2],
        unsupported: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str = "$ ETCDCTL_API=3 ./bin/benchmark --endpoints=h1,h2 --conns=10 \\\n    --clients=100 range 'foo' --total=5000\n 5000 / 5000 Booo! 100.00% 0s\n\nSummary:\n  Total:\t0.5000 secs.\n  Slowest:\t0.0100 secs.\n  Fastest:\t0.0005 secs.\n  Average:\t0.0012 secs.\n  Stddev:\t0.0004 secs.\n  Requests/sec:\t10000.0000\n\nResponse time histogram:\n  0.0005 [1]\t|\n  0.0100 [4999]\t|∎∎∎∎\n\nLatency distribution:\n  10% in 0.0008 secs.\n  50% in 0.0011 secs.\n  99% in 0.0030 secs.\n  99.9% in 0.0090 secs.\n";

    #[test]
    fn reads_the_command_and_the_report() {
        let o = parse("o.txt", OUT).unwrap();
        assert_eq!(o.command_line, 1);
        assert_eq!(
            o.words,
            [
                "./bin/benchmark",
                "--endpoints=h1,h2",
                "--conns=10",
                "--clients=100",
                "range",
                "foo",
                "--total=5000"
            ]
        );
        let r = &o.report;
        assert_eq!((r.requests_per_s, r.average_s), (10000.0, 0.0012));
        assert_eq!((r.total_s, r.stddev_s), (Some(0.5), Some(0.0004)));
        assert_eq!(r.percentiles_s.len(), 4);
        assert_eq!(r.percentile_s(99.9), Some(0.009));
    }

    #[test]
    fn words_split_as_a_shell_does() {
        assert_eq!(
            split_words(r#"a "b c" 'd e' f\ g "h\"i""#).unwrap(),
            ["a", "b c", "d e", "f g", "h\"i"]
        );
        assert!(split_words("a 'b").is_err());
    }

    #[test]
    fn bad_reports_name_the_line_and_the_rule() {
        let e = parse("o.txt", &OUT.replace("  Requests/sec:\t10000.0000\n", ""))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("o.txt:5:") && e.contains("Requests/sec"),
            "{e}"
        );
        let e = parse("o.txt", &OUT.replace("0.0012 secs.", "fast"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("o.txt:9:") && e.contains("Average"), "{e}");
        let e = parse("o.txt", &OUT.replace("99% in", "99 percent in"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("o.txt:20:"), "{e}");
        let e = parse("o.txt", &OUT.replace("./bin/benchmark", "etcdctl"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("o.txt:1:") && e.contains("etcdctl"), "{e}");
        let e = parse("o.txt", "benchmark range foo\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no \"Summary:\""), "{e}");
        let e = parse("o.txt", &format!("{OUT}\nSummary:\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("a second Summary"), "{e}");
        assert!(parse("o.txt", "\n\n").is_err());
    }
}
