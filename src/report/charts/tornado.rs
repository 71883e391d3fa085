//! The tornado: how far one result (a plan's maximum read rate) moves when each input moves
//! down and up, a pair of bars per input from the base value, the widest first, the legend
//! beside the plot so it never hides a bar.

use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::bars::{ROW_H, value_axis};
use super::draw::{self, Area, Block, Caption, Drawn, Entry, GAP, Legend, MARGIN, Swatch};
use super::scale::{Scale, human};
use super::style::{self, INK, LABEL_PX};

/// The bars' width.
const BARS_W: i32 = 560;
/// Room (px) beyond the longest bar for the value written there.
const VALUE_ROOM: f64 = 100.0;

/// A tornado chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Tornado {
    /// Title and notes.
    pub caption: Caption,
    /// The result's axis title.
    pub x_title: String,
    /// The result as planned.
    pub base: f64,
    /// What the base is, for the legend.
    pub base_label: String,
    /// The legend's names of the lowered and the raised input ("input −20%").
    pub directions: [String; 2],
    /// (input, result with the input lowered, with it raised).
    pub rows: Vec<(String, f64, f64)>,
}

/// The colours of the lowered and raised inputs.
fn direction_color(k: usize) -> RGBColor {
    style::series_color(k)
}

impl Tornado {
    fn sorted(&self) -> Vec<&(String, f64, f64)> {
        let mut rows: Vec<&(String, f64, f64)> = self.rows.iter().collect();
        let reach = |r: &(String, f64, f64)| (r.1 - self.base).abs().max((r.2 - self.base).abs());
        // Widest first; ties keep the file's order (a stable sort).
        rows.sort_by(|a, b| reach(b).total_cmp(&reach(a)));
        rows
    }

    fn scale(&self) -> Scale {
        let reach = self
            .rows
            .iter()
            .flat_map(|r| [r.1, r.2])
            .filter(|v| v.is_finite())
            .map(|v| (v - self.base).abs())
            .fold(0.0, f64::max);
        // Symmetric about the base, so that a lowered and a raised input compare by length, and
        // wide enough that the value written beyond the longest bar stays off the labels.
        let half = f64::from(BARS_W) / 2.0;
        let reach = if reach > 0.0 {
            reach * half / (half - VALUE_ROOM)
        } else {
            self.base.abs().max(1.0) * 0.05
        };
        Scale::linear(self.base - reach, self.base + reach, false)
    }

    /// The legend: the two directions and the base.
    pub fn legend(&self) -> Legend {
        let mut entries: Vec<Entry> = self
            .directions
            .iter()
            .enumerate()
            .map(|(k, d)| Entry {
                swatch: Swatch::Box(direction_color(k)),
                label: d.clone(),
            })
            .collect();
        entries.push(Entry {
            swatch: Swatch::Line(style::reference_look()),
            label: self.base_label.clone(),
        });
        Legend {
            blocks: vec![Block {
                heading: Some("each input moved".into()),
                entries,
            }],
        }
    }

    fn layout(&self) -> (i32, i32, (u32, u32)) {
        let label_w = self
            .rows
            .iter()
            .map(|r| draw::width(&r.0, LABEL_PX))
            .max()
            .unwrap_or(0);
        let rows_h = 2 * ROW_H * self.rows.len().max(1) as i32 + 12;
        draw::rows_layout(
            &self.caption,
            &self.legend(),
            MARGIN + label_w + 12,
            BARS_W,
            rows_h,
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
        let right = left + BARS_W;
        let bottom = top + 2 * ROW_H * self.rows.len().max(1) as i32 + 12;
        value_axis(root, &scale, (left, right), (top, bottom), &self.x_title)?;
        let px = |v: f64| left + (scale.frac(v).clamp(0.0, 1.0) * BARS_W as f64).round() as i32;
        let base_x = px(self.base);
        let mut y = top + 6;
        for r in self.sorted() {
            draw::text(root, &r.0, (MARGIN, y + ROW_H), LABEL_PX, INK, HPos::Left)?;
            for (k, v) in [r.1, r.2].into_iter().enumerate() {
                let row = y + k as i32 * ROW_H;
                if !v.is_finite() {
                    continue;
                }
                let x = px(v);
                let (x0, x1) = (x.min(base_x), x.max(base_x));
                let color = direction_color(k);
                root.draw(&Rectangle::new(
                    [(x0, row + 3), (x1.max(x0 + 1), row + ROW_H - 2)],
                    color.filled(),
                ))
                .map_err(draw::err)?;
                // The change, written beyond the bar's end, away from the base.
                let change = (v / self.base - 1.0) * 100.0;
                let label = format!("{} ({change:+.1}%)", human(v));
                let (at, anchor) = if v < self.base {
                    (x0 - 4, HPos::Right)
                } else {
                    (x1 + 4, HPos::Left)
                };
                draw::text(
                    root,
                    &label,
                    (at, row + ROW_H / 2),
                    LABEL_PX - 1.0,
                    INK,
                    anchor,
                )?;
            }
            y += 2 * ROW_H;
        }
        draw::stroke(
            root,
            &[(base_x, top), (base_x, bottom)],
            &style::reference_look(),
        )?;
        self.legend().draw(root, (right + GAP, top))
    }
}
