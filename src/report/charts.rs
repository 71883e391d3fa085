//! Charts as SVG strings (plotters' SVG backend: no fonts or system libraries needed). Each
//! function draws one chart kind from plain numbers; the runner writes the text to a file.

use plotters::prelude::*;

/// One line of a line chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// (x, y) points, in x order.
    pub points: Vec<(f64, f64)>,
    /// Draw markers on the points (to tell a second line of the same colour apart).
    pub markers: bool,
    /// Colour index: lines with the same index share a colour.
    pub color: usize,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Draws the series legend at `at`, on a white box with a black border.
fn legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    at: SeriesLabelPosition,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    CT: plotters::coord::CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(at)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

fn range(vals: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if from_zero {
        lo = lo.min(0.0);
    }
    if hi - lo < 1e-12 {
        hi = lo + 1.0;
    }
    (lo, hi + (hi - lo) * 0.05)
}

/// A line chart with one line per series. With `log_x`, x is drawn on a log10 scale.
pub fn line_chart(
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Series],
    log_x: bool,
) -> Result<String, String> {
    let tx = |x: f64| if log_x { x.max(1e-12).log10() } else { x };
    let (x0, x1) = range(
        series.iter().flat_map(|s| s.points.iter().map(|p| tx(p.0))),
        false,
    );
    let (y0, y1) = range(
        series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
        true,
    );
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (800, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(err)?;
        let fmt_x = |v: &f64| {
            let x = if log_x { 10f64.powf(*v) } else { *v };
            format!("{}", (x * 1000.0).round() / 1000.0)
        };
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_label_formatter(&fmt_x)
            .draw()
            .map_err(err)?;
        for s in series {
            let color = Palette99::pick(s.color).to_rgba();
            let pts: Vec<(f64, f64)> = s.points.iter().map(|p| (tx(p.0), p.1)).collect();
            let drawn = chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
                .map_err(err)?;
            drawn.label(s.label.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
            if s.markers {
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
                    .map_err(err)?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// Stacked bars: one bar per category, one stack segment per (label, values) layer.
pub fn stacked_bars(
    title: &str,
    y_desc: &str,
    categories: &[String],
    layers: &[(String, Vec<f64>)],
) -> Result<String, String> {
    let n = categories.len().max(1);
    let totals: Vec<f64> = (0..n)
        .map(|i| {
            layers
                .iter()
                .map(|l| l.1.get(i).copied().unwrap_or(0.0))
                .sum()
        })
        .collect();
    let (_, y1) = range(totals.iter().copied(), true);
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (1000, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        // The legend gets its own panel on the right, so it never covers a bar.
        let (left, right) = root.split_horizontally(800);
        let mut chart = ChartBuilder::on(&left)
            .caption(title, ("sans-serif", 20))
            .margin(15)
            .x_label_area_size(60)
            .y_label_area_size(80)
            .build_cartesian_2d(0f64..n as f64, 0f64..y1)
            .map_err(err)?;
        let label_of = |v: &f64| {
            let i = v.floor() as usize;
            if (v - v.floor() - 0.5).abs() < 0.26 && i < categories.len() {
                categories[i].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n * 2 + 1)
            .x_label_formatter(&label_of)
            .y_desc(y_desc)
            .draw()
            .map_err(err)?;
        let mut base = vec![0.0; n];
        for (k, (_, vals)) in layers.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            let rects: Vec<Rectangle<(f64, f64)>> = (0..n)
                .map(|i| {
                    let v = vals.get(i).copied().unwrap_or(0.0);
                    let r = Rectangle::new(
                        [(i as f64 + 0.15, base[i]), (i as f64 + 0.85, base[i] + v)],
                        color.filled(),
                    );
                    base[i] += v;
                    r
                })
                .collect();
            chart.draw_series(rects).map_err(err)?;
        }
        // Top of the stack first, as the bars read.
        for (row, (k, (label, _))) in layers.iter().enumerate().rev().enumerate() {
            let y = 60 + 22 * row as i32;
            let color = Palette99::pick(k).to_rgba();
            right
                .draw(&Rectangle::new([(10, y), (24, y + 14)], color.filled()))
                .map_err(err)?;
            right
                .draw(&Text::new(label.clone(), (32, y), ("sans-serif", 14)))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// A waterfall: one row per stage, each bar starting where the previous stage ended, so the
/// bars read left to right as the request's life. `stages` are (name, mean ms, queueing?).
pub fn waterfall(title: &str, stages: &[(String, f64, bool)]) -> Result<String, String> {
    let total: f64 = stages.iter().map(|s| s.1).sum::<f64>().max(1e-9);
    let n = stages.len().max(1);
    let height = 120 + 32 * n as u32;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (900, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(15)
            .x_label_area_size(40)
            .y_label_area_size(170)
            .build_cartesian_2d(0f64..total * 1.02, 0f64..n as f64)
            .map_err(err)?;
        let row_label = |v: &f64| {
            let i = v.floor() as usize;
            if (v - v.floor() - 0.5).abs() < 0.26 && i < n {
                stages[n - 1 - i].0.clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n * 2 + 1)
            .y_label_formatter(&row_label)
            .x_desc("time since the request started (ms)")
            .draw()
            .map_err(err)?;
        let mut t = 0.0;
        let queue_color = RGBColor(230, 120, 60);
        let service_color = RGBColor(60, 110, 200);
        for (i, (_, ms, queueing)) in stages.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let color = if *queueing {
                queue_color
            } else {
                service_color
            };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(t, y + 0.2), (t + ms, y + 0.8)],
                    color.filled(),
                )))
                .map_err(err)?;
            t += ms;
        }
        let legend = [("queueing", queue_color), ("service", service_color)];
        let y = height as i32 - 22;
        for (k, (label, color)) in legend.into_iter().enumerate() {
            let x = 15 + 90 * k as i32;
            root.draw(&Rectangle::new([(x, y), (x + 12, y + 12)], color.filled()))
                .map_err(err)?;
            root.draw(&Text::new(label, (x + 16, y), ("sans-serif", 13)))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(out)
}

/// A tornado chart: one horizontal bar per input, from its value at −change to its value at
/// +change, around a vertical line at `base`; the widest bar first.
pub fn tornado(
    title: &str,
    x_desc: &str,
    base: f64,
    rows: &[(String, f64, f64)],
) -> Result<String, String> {
    let mut rows: Vec<&(String, f64, f64)> = rows.iter().collect();
    rows.sort_by(|a, b| (b.2 - b.1).abs().total_cmp(&(a.2 - a.1).abs()));
    let (x0, x1) = range(rows.iter().flat_map(|r| [r.1, r.2]).chain([base]), false);
    let pad = (x1 - x0) * 0.1;
    let n = rows.len().max(1) as f64;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (800, 120 + 50 * rows.len() as u32))
            .into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(170)
            .build_cartesian_2d((x0 - pad)..(x1 + pad), 0.0..n)
            .map_err(err)?;
        let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        let fmt_y = move |v: &f64| {
            let i = (n - v - 0.5).round();
            if (v.fract() - 0.5).abs() < 1e-9 && i >= 0.0 && (i as usize) < labels.len() {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_labels(2 * rows.len() + 1)
            .y_label_formatter(&fmt_y)
            .disable_y_mesh()
            .draw()
            .map_err(err)?;
        for (k, r) in rows.iter().enumerate() {
            let y = n - k as f64;
            for (v, color) in [(r.1, Palette99::pick(0)), (r.2, Palette99::pick(1))] {
                let (a, b) = if v < base { (v, base) } else { (base, v) };
                chart
                    .draw_series([Rectangle::new(
                        [(a, y - 0.8), (b, y - 0.2)],
                        color.mix(0.8).filled(),
                    )])
                    .map_err(err)?;
            }
        }
        chart
            .draw_series(LineSeries::new(
                vec![(base, 0.0), (base, n)],
                BLACK.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("base {base:.0}"))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(2)));
        // Empty bars that only carry the legend entries of the two colours.
        for (color, label) in [(0, "input −"), (1, "input +")] {
            chart
                .draw_series([Rectangle::new(
                    [(x0, 0.0), (x0, 0.0)],
                    Palette99::pick(color).filled(),
                )])
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| {
                    Rectangle::new(
                        [(x, y - 5), (x + 15, y + 5)],
                        Palette99::pick(color).filled(),
                    )
                });
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present().map_err(err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text parses as XML whose root is an `svg` element.
    fn is_svg(s: &str) -> bool {
        roxmltree::Document::parse(s).is_ok_and(|d| d.root_element().tag_name().name() == "svg")
    }

    #[test]
    fn line_chart_renders_linear_and_log() {
        let s = vec![
            Series {
                label: "a".into(),
                points: vec![(1.0, 2.0), (10.0, 3.0), (100.0, 5.0)],
                markers: false,
                color: 0,
            },
            Series {
                label: "a p99".into(),
                points: vec![(1.0, 4.0), (10.0, 6.0), (100.0, 9.0)],
                markers: true,
                color: 0,
            },
        ];
        for log in [false, true] {
            let svg = line_chart("t", "x", "y", &s, log).unwrap();
            assert!(is_svg(&svg));
            assert!(svg.contains("a p99"));
        }
    }

    #[test]
    fn waterfall_renders() {
        let st = vec![
            ("client_cpu".to_string(), 0.04, false),
            ("cpu_queue".to_string(), 0.2, true),
        ];
        let svg = waterfall("t", &st).unwrap();
        assert!(is_svg(&svg) && svg.contains("cpu_queue"));
    }

    #[test]
    fn stacked_bars_render() {
        let cats = vec!["p0".to_string(), "p1".to_string()];
        let layers = vec![
            ("grpc".to_string(), vec![1.0, 2.0]),
            ("index".to_string(), vec![0.5, 0.5]),
        ];
        let svg = stacked_bars("t", "ms", &cats, &layers).unwrap();
        assert!(is_svg(&svg));
        assert!(svg.matches("<rect").count() >= 4);
        assert!(svg.contains("index"));
    }
}
