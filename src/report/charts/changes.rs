//! The dot chart of changes: how much each metric moved from one run to another, point by
//! point. A block of rows per point (its label on the left), a row per metric with a dot at the
//! relative change and a horizontal bar for its 95% interval, a reference line at zero, and
//! the change written after the plot. Each metric's dot has its series colour and its
//! statistic's marker ([`Look`]), as in every other chart.

use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::bars::value_axis;
use super::draw::{self, Area, Block, Caption, Drawn, Entry, GAP, Legend, MARGIN, Swatch};
use super::scale::Scale;
use super::style::{self, GRID, INK, LABEL_PX, Look, MUTED};

/// The plot's width.
const PLOT_W: i32 = 520;
/// A metric's row.
const SUB_H: i32 = 17;
/// Between two points' blocks.
const BLOCK_GAP: i32 = 8;
/// Room right of the plot for the written changes.
const VALUE_W: i32 = 130;

/// One metric shown: its name and how its dot looks.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeMetric {
    /// Its name in the legend ("read latency, p99").
    pub name: String,
    /// Its colour and marker (the stroke is not drawn).
    pub look: Look,
}

/// One relative change and the half width of its 95% interval, both as fractions (0.1 is
/// +10%); NaN when absent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// (B − A) / A.
    pub frac: f64,
    /// The interval's half width, over A.
    pub ci95: f64,
}

/// One point: its label and a change per metric.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRow {
    /// The point's label (its axis values).
    pub label: String,
    /// A change per metric, in [`Changes::metrics`] order.
    pub changes: Vec<Change>,
}

/// A chart of relative changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    /// Title and notes.
    pub caption: Caption,
    /// The value axis' title.
    pub x_title: String,
    /// The metrics, in row order within each point.
    pub metrics: Vec<ChangeMetric>,
    /// The points.
    pub rows: Vec<ChangeRow>,
    /// What the interval bars are, for the legend.
    pub ci_label: String,
}

/// The dot's look of `m` (a marker only).
fn dot(m: &ChangeMetric) -> Look {
    Look { width: 0, ..m.look }
}

/// "+1.2% ± 0.8", "-" when absent.
fn written(c: Change) -> String {
    if !c.frac.is_finite() {
        return "-".into();
    }
    let pct = c.frac * 100.0;
    // Never "-0.0%": no change reads as "+0.0%".
    let pct = if pct.abs() < 0.05 { 0.0 } else { pct };
    match c.ci95.is_finite() {
        true => format!("{pct:+.1}% ± {:.1}", c.ci95 * 100.0),
        false => format!("{pct:+.1}%"),
    }
}

impl Changes {
    /// The value axis, in percent: from the lowest interval's end to the highest, zero
    /// included (a fall stops at −100%, so a symmetric axis would waste its left half).
    pub fn scale(&self) -> Scale {
        let ends = self
            .rows
            .iter()
            .flat_map(|r| &r.changes)
            .filter(|c| c.frac.is_finite())
            .flat_map(|c| {
                let h = if c.ci95.is_finite() { c.ci95 } else { 0.0 };
                [(c.frac - h) * 100.0, (c.frac + h) * 100.0]
            });
        let (lo, hi) = ends.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let pad = (hi - lo) * 0.03;
        Scale::linear(lo - pad.min(lo.abs()), hi + pad.min(hi.abs()), true)
    }

    /// The legend: the metrics, the interval, the zero line.
    pub fn legend(&self) -> Legend {
        let metrics = Block {
            heading: Some("metric (marker: statistic)".into()),
            entries: self
                .metrics
                .iter()
                .map(|m| Entry {
                    swatch: Swatch::Line(dot(m)),
                    label: m.name.clone(),
                })
                .collect(),
        };
        let mut marks = vec![Entry {
            swatch: Swatch::Line(style::reference_look()),
            label: "no change".into(),
        }];
        if !self.ci_label.is_empty() {
            marks.insert(
                0,
                Entry {
                    swatch: Swatch::ErrorBarH(INK),
                    label: self.ci_label.clone(),
                },
            );
        }
        Legend {
            blocks: vec![
                metrics,
                Block {
                    heading: None,
                    entries: marks,
                },
            ],
        }
    }

    fn block_h(&self) -> i32 {
        SUB_H * self.metrics.len().max(1) as i32
    }

    fn rows_h(&self) -> i32 {
        let n = self.rows.len().max(1) as i32;
        n * self.block_h() + (n - 1) * BLOCK_GAP + 8
    }

    /// (left of the plot, top of the rows, canvas size)
    fn layout(&self) -> (i32, i32, (u32, u32)) {
        let label_w = self
            .rows
            .iter()
            .map(|r| draw::width(&r.label, LABEL_PX))
            .max()
            .unwrap_or(0)
            .min(420);
        draw::rows_layout(
            &self.caption,
            &self.legend(),
            MARGIN + label_w + 12,
            PLOT_W + VALUE_W,
            self.rows_h(),
        )
    }

    /// The canvas size (px).
    pub fn size(&self) -> (u32, u32) {
        self.layout().2
    }

    /// Draws the chart on `root`.
    pub fn draw<DB: DrawingBackend>(&self, root: &Area<DB>) -> Drawn {
        let (left, top, (w, _)) = self.layout();
        draw::begin(root, &self.caption, w)?;
        let scale = self.scale();
        let right = left + PLOT_W;
        let bottom = top + self.rows_h();
        value_axis(root, &scale, (left, right), (top, bottom), &self.x_title)?;
        let px = |pct: f64| left + (scale.frac(pct).clamp(0.0, 1.0) * PLOT_W as f64).round() as i32;
        let zero = px(0.0);
        draw::stroke(
            root,
            &[(zero, top), (zero, bottom)],
            &style::reference_look(),
        )?;
        let mut y = top + 4;
        for (i, r) in self.rows.iter().enumerate() {
            if i > 0 {
                // A rule between points, so each block reads as one.
                let at = y - BLOCK_GAP / 2;
                root.draw(&PathElement::new(
                    vec![(MARGIN, at), (right + VALUE_W, at)],
                    GRID.stroke_width(1),
                ))
                .map_err(draw::err)?;
            }
            let mid = y + self.block_h() / 2;
            draw::text(root, &r.label, (MARGIN, mid), LABEL_PX, INK, HPos::Left)?;
            for (m, c) in self.metrics.iter().zip(&r.changes) {
                let row = y + SUB_H / 2;
                self.change(root, (&px, row), m, *c)?;
                let color = if c.frac.is_finite() { INK } else { MUTED };
                let at = (right + 8, row);
                draw::text(root, &written(*c), at, LABEL_PX - 1.0, color, HPos::Left)?;
                y += SUB_H;
            }
            y += BLOCK_GAP;
        }
        self.legend().draw(root, (right + VALUE_W + GAP, top))
    }

    /// One metric's dot and interval on row `y`.
    fn change<DB: DrawingBackend>(
        &self,
        root: &Area<DB>,
        (px, y): (&dyn Fn(f64) -> i32, i32),
        m: &ChangeMetric,
        c: Change,
    ) -> Drawn {
        if !c.frac.is_finite() {
            return Ok(());
        }
        let pct = c.frac * 100.0;
        if c.ci95.is_finite() && c.ci95 > 0.0 {
            let h = c.ci95 * 100.0;
            draw::error_bar_h(root, (px(pct - h), px(pct + h)), y, m.look.color)?;
        }
        draw::mark(root, (px(pct), y), &dot(m))
    }
}
