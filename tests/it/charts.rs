//! The charts (issue 18): every kind is well-formed SVG and a PNG that decodes, at the size it
//! says; legends and titles hold what they should; a statistic looks the same in every chart;
//! an experiment's folder holds its charts in both formats and a self-contained page.

use etcdsim::capacity::{Limit, Probe, Search};
use etcdsim::report::charts::style::{self, Dash, Marker};
use etcdsim::report::charts::{
    BarGroup, BarRow, Caption, Change, ChangeMetric, ChangeRow, Changes, Layer, Legend, Line,
    LinePlot, Mark, Plot, Pt, Reference, StackedBars, Stat, Swatch, Tornado, Waterfall,
};
use etcdsim::report::plan::{PlanResult, hockey_stick};

use crate::support::{etcdsim, experiment, scratch};

fn caption(title: &str) -> Caption {
    Caption {
        title: title.into(),
        notes: vec![
            "Model m.toml; workload: total=2000; 3 replications a point, base seed 1.".into(),
        ],
    }
}

fn pt(x: f64, y: f64, ci95: f64) -> Pt {
    Pt { x, y, ci95 }
}

/// A line chart of two series, mean and p99 each, with intervals, an objective and a knee.
fn lines() -> LinePlot {
    let line = |series, stat, k: f64| Line {
        series,
        stat,
        points: vec![
            pt(1.0, 0.7 * k, 0.01),
            pt(10.0, 0.8 * k, 0.02),
            pt(100.0, 3.1623 * k, 0.3),
            pt(1000.0, 180_000.0 * k / 1000.0, 4.0),
        ],
    };
    LinePlot {
        caption: caption("Read latency — Linearizable against serializable reads"),
        x_title: "clients".into(),
        log_x: true,
        y_title: "read latency (ms)".into(),
        series: vec!["consistency=l".into(), "consistency=s".into()],
        series_heading: "consistency".into(),
        lines: vec![
            line(0, Stat::Mean, 1.0),
            line(0, Stat::P99, 2.0),
            line(1, Stat::Mean, 0.5),
            line(1, Stat::P99, 1.0),
        ],
        references: vec![Reference {
            y: 50.0,
            label: "objective: read p99 ≤ 50 ms".into(),
        }],
        marks: (
            vec![Mark {
                series: 1,
                x: 100.0,
                y: 3.1623,
            }],
            "knee".into(),
        ),
        ci_label: "95% CI over 3 replications".into(),
        y_max: None,
    }
}

fn stacked() -> StackedBars {
    let layer = |name: &str, queueing| Layer {
        name: name.into(),
        queueing,
    };
    let row = |label: &str, k: f64| BarRow {
        label: label.into(),
        values: vec![0.1 * k, 0.3 * k, 0.2],
    };
    StackedBars {
        caption: caption("Where a read's time goes — quick"),
        measure: "mean read latency".into(),
        layers: vec![
            layer("cpu_queue", true),
            layer("readindex_round", false),
            layer("net_response", false),
        ],
        groups: vec![
            BarGroup {
                heading: Some("consistency=l".into()),
                rows: vec![row("clients=1", 1.0), row("clients=1000", 100.0)],
            },
            BarGroup {
                heading: Some("consistency=s".into()),
                rows: vec![row("clients=1", 0.5)],
            },
        ],
    }
}

fn tornado() -> Tornado {
    Tornado {
        caption: caption("Maximum read rate of small when each input moves ±20%"),
        x_title: "maximum reads per second within the objectives".into(),
        base: 40_000.0,
        base_label: "as planned: 40k reads/s".into(),
        directions: ["input −20%".into(), "input +20%".into()],
        rows: vec![
            ("network.rtt_us".into(), 42_000.0, 38_500.0),
            ("disk.fsync_us_mean".into(), 40_100.0, 39_900.0),
            ("member.cores".into(), 33_000.0, 46_000.0),
        ],
    }
}

fn waterfall() -> Waterfall {
    Waterfall {
        caption: caption("One read, stage by stage"),
        stages: vec![
            ("client_queue".into(), 0.01, true),
            ("net_request".into(), 0.1, false),
            ("readindex_round".into(), 0.4, false),
            ("net_response".into(), 0.1, false),
        ],
    }
}

fn changes() -> Changes {
    let c = |frac, ci95| Change { frac, ci95 };
    Changes {
        caption: caption("How read throughput and latency change from A to B: quick against slow"),
        x_title: "change from A to B (%): (B − A) / A".into(),
        metrics: vec![
            ChangeMetric {
                name: "read throughput (mean)".into(),
                look: Stat::Mean.look(style::series_color(0)),
            },
            ChangeMetric {
                name: "read latency, p99".into(),
                look: Stat::P99.look(style::series_color(1)),
            },
        ],
        rows: vec![
            ChangeRow {
                label: "clients=1".into(),
                changes: vec![c(-0.25, 0.03), c(0.5, f64::NAN)],
            },
            ChangeRow {
                label: "clients=1000".into(),
                changes: vec![c(f64::NAN, f64::NAN), c(1.2, 0.4)],
            },
        ],
        ci_label: "95% interval of the change".into(),
    }
}

fn every_kind() -> Vec<(&'static str, Plot)> {
    vec![
        ("lines", Plot::Lines(lines())),
        ("stacked", Plot::Stacked(stacked())),
        ("tornado", Plot::Tornado(tornado())),
        ("waterfall", Plot::Waterfall(waterfall())),
        ("changes", Plot::Changes(changes())),
    ]
}

/// Every text of an SVG document, in order.
fn texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap();
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or("").trim().to_string())
        .collect()
}

/// The SVG is XML, an `<svg>` of the size the chart says, and so is the PNG once decoded.
fn check_files(what: &str, size: (u32, u32), svg: &str, png: &[u8]) {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("{what}: {e}"));
    let root = doc.root_element();
    assert!(root.has_tag_name("svg"), "{what}");
    let attr = |k| root.attribute(k).unwrap().parse::<u32>().unwrap();
    assert_eq!((attr("width"), attr("height")), size, "{what}");
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buf).unwrap();
    assert_eq!((frame.width, frame.height), size, "{what}");
    // Not a blank canvas: something other than white was drawn.
    assert!(
        buf[..frame.buffer_size()].iter().any(|&b| b < 128),
        "{what}"
    );
}

#[test]
fn every_chart_kind_is_xml_and_a_png_that_decodes() {
    for (what, plot) in every_kind() {
        let (svg, png) = (plot.svg().unwrap(), plot.png().unwrap());
        check_files(what, plot.size(), &svg, &png);
        // The same chart twice gives the same bytes.
        assert_eq!(svg, plot.svg().unwrap(), "{what}");
        assert_eq!(png, plot.png().unwrap(), "{what}");
    }
}

/// Every label of `legend`, headings included.
fn legend_labels(legend: &Legend) -> Vec<String> {
    legend
        .blocks
        .iter()
        .flat_map(|b| {
            b.heading
                .iter()
                .cloned()
                .chain(b.entries.iter().map(|e| e.label.clone()))
        })
        .collect()
}

#[test]
fn legends_and_titles_hold_what_they_should() {
    for (what, plot) in every_kind() {
        let svg = plot.svg().unwrap();
        let all = texts(&svg).join(" ");
        for word in plot.caption().title.split(' ') {
            assert!(all.contains(word), "{what}: title word {word:?} not drawn");
        }
        for label in legend_labels(&plot.legend()) {
            for word in label.split(' ') {
                assert!(all.contains(word), "{what}: legend word {word:?} not drawn");
            }
        }
    }
    let labels = legend_labels(&lines().legend());
    for want in [
        "consistency",
        "consistency=l",
        "consistency=s",
        "mean",
        "p99",
        "95% CI over 3 replications",
        "objective: read p99 ≤ 50 ms",
        "knee",
    ] {
        assert!(labels.iter().any(|l| l == want), "{want} not in {labels:?}");
    }
    let labels = legend_labels(&stacked().legend());
    assert_eq!(
        labels,
        [
            "queueing",
            "cpu_queue",
            "service",
            "readindex_round",
            "net_response"
        ]
    );
    let labels = legend_labels(&tornado().legend());
    assert!(labels.contains(&"input −20%".to_string()) && labels.contains(&"input +20%".into()));
}

#[test]
fn tick_labels_are_round_numbers() {
    let svg = Plot::Lines(lines()).svg().unwrap();
    let t = texts(&svg);
    // The data has 3.1623 and 180000: the ticks have neither, only 1-2-5 values.
    for bad in ["3.162", "180000", "180000.0", "1000.0"] {
        assert!(!t.iter().any(|s| s == bad), "{bad} in {t:?}");
    }
    for want in ["1", "10", "100", "1k"] {
        assert!(t.iter().any(|s| s == want), "{want} not in {t:?}");
    }
}

fn probe(rate: f64, p99: f64) -> Probe {
    Probe {
        rate,
        pass: p99 <= 10.0,
        unresolved: false,
        reps: 3,
        read_p50_ms: p99 / 3.0,
        read_p99_ms: p99,
        write_p99_ms: f64::NAN,
        read_ci95_ms: (0.1, 0.5),
        failed: 0,
        saturated: false,
        bottleneck: ("member0_cpu".into(), 0.9),
        dominant_stage: "cpu_queue".into(),
        why: String::new(),
        interrupted: false,
    }
}

/// The stroke and marker of the legend entry labelled `stat` in `legend`.
fn stat_look(legend: &Legend, stat: &str) -> Option<(Dash, Marker)> {
    legend
        .blocks
        .iter()
        .flat_map(|b| &b.entries)
        .find_map(|e| match (&e.swatch, e.label == stat) {
            (Swatch::Line(l), true) => Some((l.dash, l.marker)),
            _ => None,
        })
}

#[test]
fn a_statistic_has_the_same_look_in_every_chart() {
    let search = Search {
        read_p99_ms: 10.0,
        write_p99_ms: None,
        allow_failures: false,
        reps: (3, 8),
        precision: 0.02,
        target: 1000.0,
        seed: 1,
    };
    let limits = [Limit {
        max_rate: 2000.0,
        probes: vec![probe(1000.0, 2.0), probe(2000.0, 8.0), probe(4000.0, 40.0)],
        interrupted: false,
    }];
    let r = PlanResult::new("p", &search, vec![("small", 1.0)], &limits);
    let hockey = hockey_stick(&r, &caption("A plan"));
    let charts = [lines().legend(), hockey.legend()];
    let mut seen = 0;
    for stat in [Stat::Mean, Stat::P50, Stat::P99] {
        let want = stat.look(style::series_color(0));
        for legend in &charts {
            if let Some(look) = stat_look(legend, stat.name()) {
                assert_eq!(look, (want.dash, want.marker), "{}", stat.name());
                seen += 1;
            }
        }
    }
    // mean and p99 in the line chart; p50 and p99 in the hockey stick.
    assert_eq!(seen, 4);
    // The lines are drawn with the look of their statistic, whichever series.
    for s in 0..3 {
        let a = Stat::P99.look(style::series_color(s));
        assert_eq!((a.dash, a.marker), (Dash::Dashed, Marker::Triangle));
    }
}

const QUICK: &str = "name = \"quick\"\ndescription = \"Two consistencies & two client counts\"\nreplications = 2\n[workload]\ntotal = 2000\n[grid]\nclients = [1, 10]\nconsistency = [\"l\", \"s\"]\n[charts]\nx = \"clients\"\n";

#[test]
fn an_experiment_writes_each_chart_as_svg_and_png_and_a_page_that_needs_nothing_else() {
    let dir = scratch("charts-page");
    let exp = experiment(&dir, QUICK);
    let out = dir.join("out");
    let o = etcdsim()
        .args(["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    for stem in ["throughput", "latency", "breakdown"] {
        let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
        let png = std::fs::read(out.join(format!("{stem}.png"))).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let root = doc.root_element();
        let attr = |k| root.attribute(k).unwrap().parse::<u32>().unwrap();
        check_files(stem, (attr("width"), attr("height")), &svg, &png);
        let t = texts(&svg).join(" ");
        // The title is the description (escaped in the SVG, read back whole), not the id.
        assert!(
            t.contains("Two consistencies & two client counts"),
            "{stem}: {t}"
        );
        assert!(t.contains("2 replications a point"), "{stem}: {t}");
        for f in [format!("{stem}.svg"), format!("{stem}.png")] {
            assert!(
                page.contains(&format!("<a href=\"{f}\">")),
                "{f} not linked"
            );
        }
    }
    let latency = texts(&std::fs::read_to_string(out.join("latency.svg")).unwrap());
    for want in [
        "consistency=l",
        "consistency=s",
        "mean",
        "p99",
        "95% CI over 2 replications",
    ] {
        assert!(
            latency.iter().any(|s| s == want),
            "{want} not in {latency:?}"
        );
    }
    for f in ["results.csv", "summary.csv", "run.toml"] {
        assert!(
            page.contains(&format!("<a href=\"{f}\">")),
            "{f} not linked"
        );
    }
    assert!(page.contains("<h1>Two consistencies &amp; two client counts</h1>"));
    for section in ["What was run", "Charts", "Summary", "Bottlenecks", "Files"] {
        assert!(page.contains(&format!("<h2>{section}</h2>")), "{section}");
    }
    // Self-contained: no script, nothing fetched; the only addresses are SVG namespaces.
    assert!(!page.contains("<script") && !page.contains("src=") && !page.contains("<link"));
    let addresses = page.matches("http").count();
    let namespaces = page.matches("http://www.w3.org/2000/svg").count();
    assert_eq!(addresses, namespaces, "{page}");
    let _ = std::fs::remove_dir_all(&dir);
}
