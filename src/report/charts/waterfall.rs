//! The waterfall: one request's life left to right, a row per stage starting where the previous
//! one ended, coloured by stage as in the breakdown (warm: queueing, cool: service), each with
//! its time and share written after it.

use plotters::prelude::*;
use plotters::style::text_anchor::HPos;

use super::bars::{ROW_H, value_axis};
use super::draw::{self, Area, Block, Caption, Drawn, Entry, GAP, Legend, MARGIN, Swatch};
use super::scale::{Scale, human_ms};
use super::style::{self, INK, LABEL_PX};

/// The bars' width.
const BARS_W: i32 = 560;
/// Room right of the bars for the written times.
const VALUE_W: i32 = 130;

/// A waterfall chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Waterfall {
    /// Title and notes.
    pub caption: Caption,
    /// (stage, mean ms, queueing?) in the order a request meets them.
    pub stages: Vec<(String, f64, bool)>,
}

impl Waterfall {
    fn total(&self) -> f64 {
        self.stages
            .iter()
            .map(|s| s.1)
            .filter(|v| v.is_finite())
            .sum()
    }

    /// The legend: which colour family is queueing.
    pub fn legend(&self) -> Legend {
        let first = |queueing: bool| {
            self.stages
                .iter()
                .find(|s| s.2 == queueing)
                .map(|s| style::stage_color(&s.0, queueing))
        };
        let entries = [
            (true, "queueing (warm colours)"),
            (false, "service (cool colours)"),
        ]
        .into_iter()
        .filter_map(|(q, label)| {
            first(q).map(|c| Entry {
                swatch: Swatch::Box(c),
                label: label.to_string(),
            })
        })
        .collect();
        Legend {
            blocks: vec![Block {
                heading: Some("stage kind".into()),
                entries,
            }],
        }
    }

    fn layout(&self) -> (i32, i32, (u32, u32)) {
        let label_w = self
            .stages
            .iter()
            .map(|s| draw::width(&s.0, LABEL_PX))
            .max()
            .unwrap_or(0);
        let rows_h = ROW_H * self.stages.len().max(1) as i32 + 8;
        draw::rows_layout(
            &self.caption,
            &self.legend(),
            MARGIN + label_w + 12,
            BARS_W + VALUE_W,
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
        let total = self.total();
        let scale = Scale::linear(0.0, total, true);
        let right = left + BARS_W;
        let bottom = top + ROW_H * self.stages.len().max(1) as i32 + 8;
        value_axis(
            root,
            &scale,
            (left, right),
            (top, bottom),
            "time since the request started (ms)",
        )?;
        let px = |v: f64| left + (scale.frac(v).clamp(0.0, 1.0) * BARS_W as f64).round() as i32;
        let mut t = 0.0;
        let mut y = top + 4;
        for (name, ms, queueing) in &self.stages {
            draw::text(
                root,
                name,
                (MARGIN, y + ROW_H / 2),
                LABEL_PX,
                INK,
                HPos::Left,
            )?;
            let (x0, x1) = (px(t), px(t + ms));
            let color = style::stage_color(name, *queueing);
            root.draw(&Rectangle::new(
                [(x0, y + 3), (x1.max(x0 + 1), y + ROW_H - 3)],
                color.filled(),
            ))
            .map_err(draw::err)?;
            let share = if total > 0.0 { ms / total * 100.0 } else { 0.0 };
            let label = format!("{} ({share:.0}%)", human_ms(*ms));
            draw::text(
                root,
                &label,
                (x1.max(x0 + 1) + 6, y + ROW_H / 2),
                LABEL_PX,
                INK,
                HPos::Left,
            )?;
            t += ms;
            y += ROW_H;
        }
        self.legend().draw(root, (right + VALUE_W + GAP, top))
    }
}
