//! Charts for a report, as SVG and PNG from the same drawing code.
//!
//! A chart is a plain value ([`Plot`]) built from results by the report modules; [`Plot::svg`]
//! and [`Plot::png`] draw it through plotters' SVG and bitmap backends. Text is measured and,
//! in PNGs, drawn with the bundled DejaVu Sans (`font.rs`), so neither needs a system library
//! or font, and both are byte-identical from run to run.
//!
//! Every chart follows one grammar (`style.rs`): a colour per series, a stroke and marker per
//! statistic, a colour per stage, the same in the legend as in the plot and in every chart;
//! legends sit beside the plot, never on it; axes tick at 1-2-5 steps and go log when the
//! values span decades (`scale.rs`); titles say what was run, not an id.

mod bars;
mod changes;
mod draw;
mod font;
mod lines;
pub mod scale;
pub mod style;
mod tornado;
mod waterfall;

use plotters::prelude::*;

pub use bars::{BarGroup, BarRow, Layer, SHARE_RATIO, StackedBars};
pub use changes::{Change, ChangeMetric, ChangeRow, Changes};
pub use draw::{Block, Caption, Entry, Legend, Swatch};
pub use lines::{Line, LinePlot, Mark, Pt, Reference};
pub use style::Stat;
pub use tornado::Tornado;
pub use waterfall::Waterfall;

/// Any chart.
#[derive(Debug, Clone, PartialEq)]
pub enum Plot {
    /// Lines against a numeric axis.
    Lines(LinePlot),
    /// A breakdown's stacked bars.
    Stacked(StackedBars),
    /// A tornado.
    Tornado(Tornado),
    /// A waterfall.
    Waterfall(Waterfall),
    /// Relative changes from one run to another, with their intervals.
    Changes(Changes),
}

impl Plot {
    /// The canvas size (px).
    pub fn size(&self) -> (u32, u32) {
        match self {
            Plot::Lines(p) => p.size(),
            Plot::Stacked(p) => p.size(),
            Plot::Tornado(p) => p.size(),
            Plot::Waterfall(p) => p.size(),
            Plot::Changes(p) => p.size(),
        }
    }

    /// The caption (title and notes).
    pub fn caption(&self) -> &Caption {
        match self {
            Plot::Lines(p) => &p.caption,
            Plot::Stacked(p) => &p.caption,
            Plot::Tornado(p) => &p.caption,
            Plot::Waterfall(p) => &p.caption,
            Plot::Changes(p) => &p.caption,
        }
    }

    /// The legend, as drawn beside the plot.
    pub fn legend(&self) -> Legend {
        match self {
            Plot::Lines(p) => p.legend(),
            Plot::Stacked(p) => p.legend(),
            Plot::Tornado(p) => p.legend(),
            Plot::Waterfall(p) => p.legend(),
            Plot::Changes(p) => p.legend(),
        }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), String> {
        match self {
            Plot::Lines(p) => p.draw(root),
            Plot::Stacked(p) => p.draw(root),
            Plot::Tornado(p) => p.draw(root),
            Plot::Waterfall(p) => p.draw(root),
            Plot::Changes(p) => p.draw(root),
        }
    }

    /// The chart as an SVG document.
    pub fn svg(&self) -> Result<String, String> {
        font::register();
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, self.size()).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(draw::err)?;
        }
        Ok(out)
    }

    /// The chart as a PNG file (RGB, no alpha), drawn by the same code as the SVG.
    pub fn png(&self) -> Result<Vec<u8>, String> {
        font::register();
        let (w, h) = self.size();
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        {
            let _text = font::Rastering::start();
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(draw::err)?;
        }
        font::encode_png(&rgb, (w, h))
    }
}

/// A waterfall: `stages` are (name, mean ms, queueing?) in the order a request meets them;
/// `title` may be long (it wraps). Draw it with [`Plot::svg`] or [`Plot::png`].
pub fn waterfall(title: &str, stages: &[(String, f64, bool)]) -> Plot {
    Plot::Waterfall(Waterfall {
        caption: Caption {
            title: title.to_string(),
            notes: Vec::new(),
        },
        stages: stages.to_vec(),
    })
}
