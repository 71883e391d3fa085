//! Horizontal bar charts: a row per item with its label on the left, the value axis below.
//! The breakdown stacks a request's stages in each row, rows grouped under headings (the series
//! of the line charts), so every label is readable and every value keyed; when the rows' totals
//! span more than [`SHARE_RATIO`] the bars show each stage's share and the total is written
//! at the end of each bar.

use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::draw::{self, Area, Block, Caption, Drawn, Entry, GAP, Legend, MARGIN, Swatch};
use super::scale::{Scale, human_ms};
use super::style::{self, AXIS_PX, INK, LABEL_PX, MUTED};

/// Totals spanning more than this are drawn as shares (a linear axis would flatten the small).
pub const SHARE_RATIO: f64 = 10.0;

/// The bars' width at full scale.
pub const BARS_W: i32 = 520;
/// A row's height.
pub const ROW_H: i32 = 19;
/// Room right of the bars for the written totals.
pub const VALUE_W: i32 = 80;

/// A value axis below horizontal bars: grid lines, tick labels, title.
pub fn value_axis<DB: DrawingBackend>(
    area: &Area<DB>,
    scale: &Scale,
    (left, right): (i32, i32),
    (top, bottom): (i32, i32),
    title: &str,
) -> Drawn {
    let px = |v: f64| left + (scale.frac(v).clamp(0.0, 1.0) * (right - left) as f64) as i32;
    for &v in &scale.ticks {
        let x = px(v);
        area.draw(&PathElement::new(
            vec![(x, top), (x, bottom + 4)],
            style::GRID.stroke_width(1),
        ))
        .map_err(draw::err)?;
        draw::text(
            area,
            &scale.label(v),
            (x, bottom + 15),
            LABEL_PX,
            INK,
            HPos::Center,
        )?;
    }
    area.draw(&PathElement::new(
        vec![(left, bottom), (right, bottom)],
        INK.stroke_width(1),
    ))
    .map_err(draw::err)?;
    draw::text(
        area,
        title,
        ((left + right) / 2, bottom + 38),
        AXIS_PX,
        INK,
        HPos::Center,
    )
}

/// One stage shown: its name and whether it is queueing (which decides its colour family).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// The stage's name.
    pub name: String,
    /// Time spent waiting rather than being served.
    pub queueing: bool,
}

/// One bar: a point of an experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct BarRow {
    /// Its label (the values that tell it from the other rows of its group).
    pub label: String,
    /// The mean time in each layer (ms), by layer.
    pub values: Vec<f64>,
}

/// Rows under one heading.
#[derive(Debug, Clone, PartialEq)]
pub struct BarGroup {
    /// The heading (the values the group's rows share), if the rows are grouped.
    pub heading: Option<String>,
    /// Its rows.
    pub rows: Vec<BarRow>,
}

/// A breakdown: where a request's time goes, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct StackedBars {
    /// Title and notes.
    pub caption: Caption,
    /// What the bars measure ("mean read latency").
    pub measure: String,
    /// The stages, in stacking order.
    pub layers: Vec<Layer>,
    /// The rows, grouped.
    pub groups: Vec<BarGroup>,
}

impl StackedBars {
    fn totals(&self) -> Vec<f64> {
        self.groups
            .iter()
            .flat_map(|g| &g.rows)
            .map(|r| r.values.iter().filter(|v| v.is_finite()).sum())
            .collect()
    }

    /// Whether the bars show shares: the totals span more than [`SHARE_RATIO`].
    pub fn as_shares(&self) -> bool {
        let t: Vec<f64> = self.totals().into_iter().filter(|t| *t > 0.0).collect();
        let lo = t.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = t.iter().copied().fold(0.0, f64::max);
        lo.is_finite() && hi / lo > SHARE_RATIO
    }

    /// The value axis and its title.
    fn axis(&self) -> (Scale, String) {
        if self.as_shares() {
            (
                Scale::linear(0.0, 100.0, true),
                format!(
                    "share of the {} (%); the total at the end of each bar",
                    self.measure
                ),
            )
        } else {
            let hi = self.totals().into_iter().fold(0.0, f64::max);
            (
                Scale::linear(0.0, hi, true),
                format!("{} (ms)", self.measure),
            )
        }
    }

    /// The legend: the stages shown, queueing first, each under its kind.
    pub fn legend(&self) -> Legend {
        let block = |queueing: bool, heading: &str| Block {
            heading: Some(heading.to_string()),
            entries: self
                .layers
                .iter()
                .filter(|l| l.queueing == queueing)
                .map(|l| Entry {
                    swatch: Swatch::Box(style::stage_color(&l.name, l.queueing)),
                    label: l.name.clone(),
                })
                .collect(),
        };
        Legend {
            blocks: [block(true, "queueing"), block(false, "service")]
                .into_iter()
                .filter(|b| !b.entries.is_empty())
                .collect(),
        }
    }

    fn label_w(&self) -> i32 {
        let rows = self
            .groups
            .iter()
            .flat_map(|g| {
                let indent = if g.heading.is_some() { 14 } else { 0 };
                g.rows
                    .iter()
                    .map(move |r| indent + draw::width(&r.label, LABEL_PX))
            })
            .max()
            .unwrap_or(0);
        let headings = self
            .groups
            .iter()
            .filter_map(|g| g.heading.as_deref())
            .map(|h| draw::width(h, LABEL_PX))
            .max()
            .unwrap_or(0);
        rows.max(headings).min(420)
    }

    fn rows_h(&self) -> i32 {
        self.groups
            .iter()
            .map(|g| ROW_H * g.rows.len() as i32 + if g.heading.is_some() { ROW_H + 4 } else { 0 })
            .sum()
    }

    /// (left of the bars, top of the rows, canvas size)
    fn layout(&self) -> (i32, i32, (u32, u32)) {
        let left = MARGIN + self.label_w() + 10;
        draw::rows_layout(
            &self.caption,
            &self.legend(),
            left,
            BARS_W + VALUE_W,
            self.rows_h() + 8,
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
        let (scale, title) = self.axis();
        let shares = self.as_shares();
        let right = left + BARS_W;
        let bottom = top + self.rows_h() + 8;
        value_axis(root, &scale, (left, right), (top, bottom), &title)?;
        let px = |v: f64| left + (scale.frac(v).clamp(0.0, 1.0) * BARS_W as f64).round() as i32;
        let mut y = top + 4;
        for g in &self.groups {
            let indent = match &g.heading {
                Some(h) => {
                    let at = (MARGIN, y + ROW_H / 2);
                    draw::text(root, h, at, LABEL_PX, MUTED, HPos::Left)?;
                    y += ROW_H + 4;
                    14
                }
                None => 0,
            };
            for r in &g.rows {
                let at = (MARGIN + indent, y + ROW_H / 2);
                draw::text(root, &r.label, at, LABEL_PX, INK, HPos::Left)?;
                let total: f64 = r.values.iter().filter(|v| v.is_finite()).sum();
                let scale_by = if shares && total > 0.0 {
                    100.0 / total
                } else {
                    1.0
                };
                let mut acc = 0.0;
                for (layer, v) in self.layers.iter().zip(&r.values) {
                    if !(v.is_finite() && *v > 0.0) {
                        continue;
                    }
                    let (x0, x1) = (px(acc * scale_by), px((acc + v) * scale_by));
                    acc += v;
                    let color = style::stage_color(&layer.name, layer.queueing);
                    if x1 > x0 {
                        root.draw(&Rectangle::new(
                            [(x0, y + 3), (x1, y + ROW_H - 3)],
                            color.filled(),
                        ))
                        .map_err(draw::err)?;
                    }
                }
                let end = px(acc * scale_by) + 6;
                draw::text(
                    root,
                    &human_ms(total),
                    (end, y + ROW_H / 2),
                    LABEL_PX,
                    INK,
                    HPos::Left,
                )?;
                y += ROW_H;
            }
        }
        self.legend().draw(root, (right + VALUE_W + GAP, top))
    }
}
