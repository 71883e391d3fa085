//! A self-contained HTML page for an output folder (`index.html`): what was run, the charts
//! inlined as SVG, tables, and links to the folder's files. No script, no network: the page
//! reads the same from a laptop's disk, an archive or a CI artifact.

use std::fmt::Write as _;

use super::charts::scale::human;
use super::experiment::{RunRow, SummaryRow, points};

/// A page: a title, a line under it, and sections in order.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The heading (an experiment's description).
    pub title: String,
    /// The line under it (the id, the version).
    pub subtitle: String,
    /// The sections.
    pub sections: Vec<Section>,
}

/// A chart on the page: its SVG text and the files it was written to.
#[derive(Debug, Clone)]
pub struct Figure {
    /// The SVG document.
    pub svg: String,
    /// File names to link under it (the SVG and the PNG).
    pub files: Vec<String>,
}

/// One section of a page, under its heading.
#[derive(Debug, Clone)]
pub enum Section {
    /// Name–value lines.
    Facts(String, Vec<(String, String)>),
    /// Charts.
    Figures(String, Vec<Figure>),
    /// A table: header, rows, and a note under it.
    Table(String, Vec<String>, Vec<Vec<String>>, String),
    /// Preformatted text, as the terminal shows it.
    Text(String, String),
    /// A list of lines.
    List(String, Vec<String>),
    /// Links to files of the folder, by name.
    Files(String, Vec<String>),
}

/// Escapes text for HTML content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page's style: plain, printable, and charts that shrink to the window.
const STYLE: &str = "body{font-family:'DejaVu Sans',Verdana,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ddd}\
.sub{color:#666;margin-top:0}table{border-collapse:collapse;font-size:.9em}\
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}\
figure{margin:1.2em 0}figure svg{max-width:100%;height:auto;border:1px solid #eee}\
figcaption{font-size:.85em;color:#666}pre{background:#f8f8f8;padding:.8em;overflow-x:auto;font-size:.85em}\
.note{font-size:.85em;color:#666}";

/// The page as one HTML document.
pub fn render(page: &Page) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p class=\"sub\">{}</p>\n",
        escape(&page.title),
        escape(&page.title),
        escape(&page.subtitle)
    );
    for s in &page.sections {
        section(&mut h, s);
    }
    h.push_str("</body>\n</html>\n");
    h
}

fn link(name: &str) -> String {
    format!("<a href=\"{}\">{}</a>", escape(name), escape(name))
}

fn section(h: &mut String, s: &Section) {
    match s {
        Section::Facts(title, facts) => {
            let _ = writeln!(h, "<h2>{}</h2>\n<table>", escape(title));
            for (k, v) in facts {
                let _ = writeln!(h, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(v));
            }
            h.push_str("</table>\n");
        }
        Section::Figures(title, figures) => {
            let _ = writeln!(h, "<h2>{}</h2>", escape(title));
            for f in figures {
                let files: Vec<String> = f.files.iter().map(|n| link(n)).collect();
                // The SVG's XML prologue is not allowed inside HTML: inline from <svg on.
                let svg = f.svg.find("<svg").map_or(f.svg.as_str(), |i| &f.svg[i..]);
                let _ = writeln!(
                    h,
                    "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>",
                    svg.trim_end(),
                    files.join(" · ")
                );
            }
        }
        Section::Table(title, header, rows, note) => {
            let _ = writeln!(h, "<h2>{}</h2>\n<table>\n<tr>", escape(title));
            for c in header {
                let _ = write!(h, "<th>{}</th>", escape(c));
            }
            h.push_str("</tr>\n");
            for r in rows {
                h.push_str("<tr>");
                for c in r {
                    let numeric = c.starts_with(|ch: char| ch.is_ascii_digit() || ch == '-')
                        && c.chars().any(|ch| ch.is_ascii_digit());
                    let class = if numeric { " class=\"n\"" } else { "" };
                    let _ = write!(h, "<td{class}>{}</td>", escape(c));
                }
                h.push_str("</tr>\n");
            }
            h.push_str("</table>\n");
            if !note.is_empty() {
                let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(note));
            }
        }
        Section::Text(title, text) => {
            let _ = writeln!(
                h,
                "<h2>{}</h2>\n<pre>{}</pre>",
                escape(title),
                escape(text.trim_matches('\n'))
            );
        }
        Section::List(title, items) => {
            let _ = writeln!(h, "<h2>{}</h2>\n<ul>", escape(title));
            for i in items {
                let _ = writeln!(h, "<li>{}</li>", escape(i));
            }
            h.push_str("</ul>\n");
        }
        Section::Files(title, names) => {
            let _ = writeln!(h, "<h2>{}</h2>\n<ul>", escape(title));
            for n in names {
                let _ = writeln!(h, "<li>{}</li>", link(n));
            }
            h.push_str("</ul>\n");
        }
    }
}

/// What a summary cell measures, which decides its unit.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Requests per second: whole numbers, thousands separated.
    Rate,
    /// A latency in ms: in s, ms, µs or ns by its size.
    Ms,
}

/// "1,234,567.8": the integer part of a plain decimal grouped by thousands.
fn grouped(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (k, c) in int.chars().enumerate() {
        if k > 0 && (int.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// `x` to `n` significant digits (whole numbers kept whole), no exponent, no trailing zeros.
fn sig(x: f64, n: i32) -> String {
    if x == 0.0 || !x.is_finite() {
        return human(x);
    }
    let decimals = (n - 1 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    grouped(&s)
}

/// A mean and its 95% half width in one unit ("1,267 ± 2.5", "0.734 ± 0.0016 ms"), or the
/// mean alone.
fn with_ci(mean: f64, ci95: f64, kind: Kind) -> String {
    if mean.is_nan() {
        return "–".into();
    }
    let (div, unit) = match kind {
        Kind::Rate => (1.0, ""),
        Kind::Ms => {
            let a = mean.abs();
            if a >= 1000.0 {
                (1000.0, " s")
            } else if a >= 0.1 || a == 0.0 {
                (1.0, " ms")
            } else if a >= 1e-4 {
                (1e-3, " µs")
            } else {
                (1e-6, " ns")
            }
        }
    };
    let m = mean / div;
    let m = match kind {
        Kind::Rate if m.abs() >= 100.0 => grouped(&format!("{m:.0}")),
        _ => sig(m, 3),
    };
    if ci95.is_finite() && ci95 > 0.0 {
        format!("{m} ± {}{unit}", sig(ci95 / div, 2))
    } else {
        format!("{m}{unit}")
    }
}

/// The mean utilization of resource `name` over the runs that report it.
fn utilization(runs: &[RunRow], name: &str) -> f64 {
    let xs: Vec<f64> = runs
        .iter()
        .filter_map(|r| r.utilization.iter().find(|u| u.0 == name))
        .map(|u| u.1.0)
        .filter(|x| !x.is_nan())
        .collect();
    crate::stats::mean(&xs)
}

/// The summary as a table: each point's axes, then reads (and writes, if any point wrote):
/// throughput, mean and p99 latency, each mean ± its 95% half width; the bottleneck and how
/// busy it was.
pub fn summary_table(summary: &[SummaryRow], rows: &[RunRow]) -> Section {
    let writes = summary.iter().any(|s| s.ops[1].throughput_rps.mean.0 > 0.0);
    let mut header: Vec<String> = summary
        .first()
        .map(|s| s.axes.iter().map(|a| a.0.clone()).collect())
        .unwrap_or_default();
    header.push("reps".into());
    let ops: &[(usize, &str)] = if writes {
        &[(0, "read"), (1, "write")]
    } else {
        &[(0, "read")]
    };
    for (_, op) in ops {
        header.push(format!("{op}s/s"));
        header.push(format!("{op} mean"));
        header.push(format!("{op} p99"));
    }
    header.push("bottleneck (busy)".into());
    let by_point = points(rows);
    let body = summary
        .iter()
        .map(|s| {
            let mut r: Vec<String> = s.axes.iter().map(|a| a.1.clone()).collect();
            r.push(s.replications.to_string());
            for &(i, _) in ops {
                let o = &s.ops[i];
                r.push(with_ci(
                    o.throughput_rps.mean.0,
                    o.throughput_rps.ci95.0,
                    Kind::Rate,
                ));
                r.push(with_ci(
                    o.latency_ms_mean.mean.0,
                    o.latency_ms_mean.ci95.0,
                    Kind::Ms,
                ));
                r.push(with_ci(
                    o.latency_ms_p99.mean.0,
                    o.latency_ms_p99.ci95.0,
                    Kind::Ms,
                ));
            }
            let runs = by_point
                .iter()
                .find(|p| p[0].point == s.point)
                .copied()
                .unwrap_or(&[]);
            let u = utilization(runs, &s.bottleneck);
            r.push(if u.is_nan() {
                s.bottleneck.clone()
            } else {
                format!("{} ({:.0}%)", s.bottleneck, u * 100.0)
            });
            r
        })
        .collect();
    Section::Table(
        "Summary".into(),
        header,
        body,
        "Means over the replications ± the half width of their 95% confidence interval (Student t); latencies of successful requests. Every column of every run is in results.csv, the means and half widths in summary.csv.".into(),
    )
}

/// The bottlenecks: each resource that was the most utilized at some point, with how many
/// points and how busy, the most frequent first.
pub fn bottlenecks(summary: &[SummaryRow], rows: &[RunRow]) -> Section {
    let by_point = points(rows);
    let mut seen: Vec<(String, Vec<f64>, Vec<String>)> = Vec::new();
    for s in summary {
        let runs = by_point
            .iter()
            .find(|p| p[0].point == s.point)
            .copied()
            .unwrap_or(&[]);
        let u = utilization(runs, &s.bottleneck);
        let what = s
            .axes
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(", ");
        match seen.iter_mut().find(|x| x.0 == s.bottleneck) {
            Some(x) => {
                x.1.push(u);
                x.2.push(what);
            }
            None => seen.push((s.bottleneck.clone(), vec![u], vec![what])),
        }
    }
    // Most points first; ties in the order first met.
    seen.sort_by_key(|x| std::cmp::Reverse(x.1.len()));
    let items = seen
        .into_iter()
        .map(|(name, us, at)| {
            let us: Vec<f64> = us.into_iter().filter(|u| !u.is_nan()).collect();
            let lo = us.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = us.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let busy = if us.is_empty() {
                String::new()
            } else if (hi - lo) < 0.005 {
                format!(", {:.0}% busy", hi * 100.0)
            } else {
                format!(", {:.0}–{:.0}% busy", lo * 100.0, hi * 100.0)
            };
            let shown: Vec<&String> = at.iter().take(4).collect();
            let more = if at.len() > 4 {
                format!(" and {} more", at.len() - 4)
            } else {
                String::new()
            };
            format!(
                "{name}: the most utilized resource at {} of {} points{busy} ({}{more})",
                at.len(),
                summary.len(),
                shown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })
        .collect();
    Section::List("Bottlenecks".into(), items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_cell_says_its_mean_and_interval_in_one_unit() {
        assert_eq!(with_ci(1266.7, 2.53, Kind::Rate), "1,267 ± 2.5");
        assert_eq!(with_ci(196_433.0, 313.0, Kind::Rate), "196,433 ± 313");
        assert_eq!(with_ci(0.734, 0.00158, Kind::Ms), "0.734 ± 0.0016 ms");
        assert_eq!(with_ci(21.9, 9.75, Kind::Ms), "21.9 ± 9.8 ms");
        assert_eq!(with_ci(2337.0, f64::NAN, Kind::Ms), "2.34 s");
        assert_eq!(with_ci(0.0363, 0.001, Kind::Ms), "36.3 ± 1 µs");
        assert_eq!(with_ci(f64::NAN, 1.0, Kind::Rate), "–");
        assert_eq!(grouped("-1234567.5"), "-1,234,567.5");
    }

    #[test]
    fn a_page_is_one_escaped_document_with_its_svg_inline() {
        let page = Page {
            title: "a <b> & \"c\"".into(),
            subtitle: "x".into(),
            sections: vec![
                Section::Figures(
                    "Charts".into(),
                    vec![Figure {
                        svg: "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>\n".into(),
                        files: vec!["t.svg".into(), "t.png".into()],
                    }],
                ),
                Section::Files("Files".into(), vec!["results.csv".into()]),
            ],
        };
        let h = render(&page);
        assert!(
            h.contains("<h1>a &lt;b&gt; &amp; &quot;c&quot;</h1>"),
            "{h}"
        );
        assert!(!h.contains("<?xml") && h.contains("<svg xmlns"), "{h}");
        assert!(h.contains("<a href=\"results.csv\">results.csv</a>"));
        // Nothing to run and nothing to fetch: the SVG's namespace is the only address.
        assert!(!h.contains("<script") && !h.contains("src="), "{h}");
        assert_eq!(h.matches("http").count(), 1, "{h}");
    }
}
