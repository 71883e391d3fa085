//! Line charts: a metric against a numeric axis, a line per (series, statistic), error bars
//! from the replications, reference lines and marks (a plan's knees), the legend beside it.

use plotters::prelude::*;

use super::draw::{self, Area, Block, Caption, Drawn, Entry, Frame, GAP, Legend, MARGIN, Swatch};
use super::scale::Scale;
use super::style::{self, Look, Marker, Stat};

/// One point: the mean over replications and the half width of its 95% interval (NaN when
/// there is none: one replication).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pt {
    /// x.
    pub x: f64,
    /// y.
    pub y: f64,
    /// Half width of y's 95% confidence interval.
    pub ci95: f64,
}

/// One drawn line: a statistic of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The series (its colour), an index into [`LinePlot::series`].
    pub series: usize,
    /// The statistic (its stroke and marker).
    pub stat: Stat,
    /// Its points, in x order.
    pub points: Vec<Pt>,
}

/// A horizontal reference line across the plot, such as an objective.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Its height.
    pub y: f64,
    /// What it is, for the legend.
    pub label: String,
}

/// A marked point of a series, such as a plan's knee.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// The series (its colour).
    pub series: usize,
    /// Where.
    pub x: f64,
    /// Where.
    pub y: f64,
}

/// A line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePlot {
    /// Title and notes.
    pub caption: Caption,
    /// The x axis title.
    pub x_title: String,
    /// x on a log scale.
    pub log_x: bool,
    /// The y axis title.
    pub y_title: String,
    /// The series names, whose index is their colour.
    pub series: Vec<String>,
    /// What tells the series apart (the legend's heading for them).
    pub series_heading: String,
    /// The lines.
    pub lines: Vec<Line>,
    /// Reference lines.
    pub references: Vec<Reference>,
    /// Marked points, all of one meaning, and that meaning for the legend.
    pub marks: (Vec<Mark>, String),
    /// What the error bars are ("95% CI over 3 replications"), if any is drawn.
    pub ci_label: String,
    /// The y axis ends here (at the 1-2-5 value above): lines beyond are cut at the frame.
    pub y_max: Option<f64>,
}

/// The plot's width (px) without its legend.
const PLOT_W: i32 = 600;
/// The plot's height.
const PLOT_H: i32 = 380;

impl LinePlot {
    fn x_scale(&self) -> Scale {
        let xs: Vec<f64> = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.x))
            .chain(self.marks.0.iter().map(|m| m.x))
            .filter(|x| x.is_finite() && (!self.log_x || *x > 0.0))
            .collect();
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if self.log_x && lo.is_finite() && hi > lo {
            return Scale::log(lo, hi);
        }
        // x ends on the ticks around the data, with no padding: a point on the frame's side is
        // still read, where an empty step after the last point is not.
        if lo.is_finite() {
            return Scale::linear(lo, hi, false);
        }
        Scale::auto(xs, false, false)
    }

    fn y_scale(&self) -> Scale {
        let cap = self.y_max.unwrap_or(f64::INFINITY);
        let ys = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.y))
            .chain(self.references.iter().map(|r| r.y))
            .chain(self.marks.0.iter().map(|m| m.y).filter(|y| *y > 0.0))
            .map(|y| y.min(cap));
        Scale::auto(ys, true, true)
    }

    /// The legend: the series by colour, the statistics by stroke and marker (in neutral ink,
    /// or in the colour of the one series), error bars, references and marks.
    pub fn legend(&self) -> Legend {
        let mut blocks = Vec::new();
        let single = self.series.len() == 1;
        if !single {
            blocks.push(Block {
                heading: Some(self.series_heading.clone()),
                entries: self
                    .series
                    .iter()
                    .enumerate()
                    .map(|(i, s)| Entry {
                        swatch: Swatch::Line(Stat::Mean.look(style::series_color(i)).plain()),
                        label: s.clone(),
                    })
                    .collect(),
            });
        }
        let ink = if single {
            style::series_color(0)
        } else {
            style::INK
        };
        let mut stats: Vec<Stat> = self.lines.iter().map(|l| l.stat).collect();
        stats.sort();
        stats.dedup();
        let mut entries: Vec<Entry> = stats
            .iter()
            .map(|s| Entry {
                swatch: Swatch::Line(s.look(ink)),
                label: s.name().to_string(),
            })
            .collect();
        if self.has_error_bars() {
            entries.push(Entry {
                swatch: Swatch::ErrorBar(ink),
                label: self.ci_label.clone(),
            });
        }
        for r in &self.references {
            entries.push(Entry {
                swatch: Swatch::Line(style::reference_look()),
                label: r.label.clone(),
            });
        }
        if !self.marks.0.is_empty() {
            entries.push(Entry {
                swatch: Swatch::Line(knee_look(ink)),
                label: self.marks.1.clone(),
            });
        }
        let heading = match (single, self.series.first()) {
            (true, Some(s)) if s != "etcdsim" => s.clone(),
            _ => "statistic".into(),
        };
        blocks.push(Block {
            heading: Some(heading),
            entries,
        });
        Legend { blocks }
    }

    fn has_error_bars(&self) -> bool {
        self.lines
            .iter()
            .flat_map(|l| &l.points)
            .any(|p| p.ci95.is_finite() && p.ci95 > 0.0)
    }

    /// (frame, legend, canvas size).
    fn layout(&self) -> (Frame, Legend, (u32, u32)) {
        let legend = self.legend();
        let (lw, lh) = legend.size();
        let y = self.y_scale();
        let left = MARGIN + Frame::y_room(&y);
        let width = left + PLOT_W + GAP + lw + MARGIN;
        let top = MARGIN + self.caption.height(width - 2 * MARGIN);
        let height = (top + PLOT_H + Frame::X_ROOM + MARGIN).max(top + lh + MARGIN);
        let frame = Frame {
            left,
            top,
            right: left + PLOT_W,
            bottom: top + PLOT_H,
            x: self.x_scale(),
            y,
        };
        (frame, legend, (width as u32, height as u32))
    }

    /// The canvas size (px).
    pub fn size(&self) -> (u32, u32) {
        self.layout().2
    }

    /// Draws the chart on `root`.
    pub fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Drawn {
        let (frame, legend, (w, _)) = self.layout();
        draw::begin(root, &self.caption, w)?;
        frame.draw(root, &self.x_title, &self.y_title)?;
        let visible =
            |p: &Pt| p.y.is_finite() && (!frame.y.log || p.y > 0.0) && (!frame.x.log || p.x > 0.0);
        for l in &self.lines {
            let color = style::series_color(l.series);
            for p in l.points.iter().filter(|p| visible(p)) {
                if p.ci95.is_finite() && p.ci95 > 0.0 && p.y <= frame.y.hi {
                    let x = frame.px_x(p.x);
                    let span = (frame.px_y(p.y - p.ci95), frame.px_y(p.y + p.ci95));
                    draw::error_bar(root, x, span, color)?;
                }
            }
        }
        for l in &self.lines {
            let look = l.stat.look(style::series_color(l.series));
            let raw: Vec<(f64, f64)> = l
                .points
                .iter()
                .filter(|p| visible(p))
                .map(|p| frame.raw(p.x, p.y))
                .collect();
            for piece in frame.clip(&raw) {
                draw::stroke(root, &piece, &look)?;
            }
            for &(x, y) in raw.iter().filter(|p| frame.inside(**p)) {
                draw::mark(root, (x.round() as i32, y.round() as i32), &look)?;
            }
        }
        for r in &self.references {
            let y = frame.px_y(r.y);
            draw::stroke(
                root,
                &[(frame.left, y), (frame.right, y)],
                &style::reference_look(),
            )?;
        }
        for m in &self.marks.0 {
            let look = knee_look(style::series_color(m.series));
            draw::mark(root, frame.px(m.x, m.y), &look)?;
        }
        legend.draw(root, (frame.right + GAP, frame.top))
    }
}

/// How a mark (a knee) is drawn: a diamond, no line.
fn knee_look(color: RGBColor) -> Look {
    Look {
        color,
        dash: style::Dash::Solid,
        marker: Marker::Diamond,
        width: 0,
    }
}
