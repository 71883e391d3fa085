//! The visual grammar every chart shares, in one place so that no chart can drift from it:
//!
//! - **a colour per series** (the lines of a chart, the candidates of a plan), from one
//!   qualitative palette, in the same order in every chart;
//! - **a line style and a marker per statistic**: the mean is solid with circles, the median
//!   (p50) dotted with squares, the p99 dashed with triangles, in every chart and legend;
//! - **a colour per stage** of a request, warm for queueing and cool for service, the same in
//!   the breakdown and the waterfall;
//! - reference lines (objectives, a plan's base) grey and dash-dotted.
//!
//! The legend draws its swatches with the very [`Look`] the plot draws with.

use plotters::style::RGBColor;

use crate::model::Stage;

/// The font family every text uses. The bundled DejaVu Sans is registered under this name
/// (`font.rs`), so PNGs need no system font, and an SVG viewer substitutes its own sans-serif.
pub const FONT: &str = "sans-serif";
/// Text sizes (px): the title, notes under it, axis titles, tick and legend labels.
pub const TITLE_PX: f64 = 17.0;
/// See [`TITLE_PX`].
pub const NOTE_PX: f64 = 12.0;
/// See [`TITLE_PX`].
pub const AXIS_PX: f64 = 13.0;
/// See [`TITLE_PX`].
pub const LABEL_PX: f64 = 12.0;

/// Text and axes.
pub const INK: RGBColor = RGBColor(34, 34, 34);
/// Notes under the title.
pub const MUTED: RGBColor = RGBColor(96, 96, 96);
/// Grid lines at the ticks.
pub const GRID: RGBColor = RGBColor(221, 221, 221);
/// Grid lines between the ticks (log axes).
pub const GRID_MINOR: RGBColor = RGBColor(238, 238, 238);
/// Reference lines: objectives, a plan's base rate.
pub const REFERENCE: RGBColor = RGBColor(120, 120, 120);

/// Series colours (d3's category10 without its grey, which belongs to reference lines, and
/// with a dark indigo in its place): distinct on white and in print.
const SERIES: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(57, 59, 121),
];

/// The colour of series `i` (beyond ten the palette repeats; no shipped chart has more).
pub fn series_color(i: usize) -> RGBColor {
    SERIES[i % SERIES.len()]
}

/// How a line is stroked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dash {
    /// A continuous line.
    Solid,
    /// Long dashes.
    Dashed,
    /// Short dots.
    Dotted,
    /// Dash, dot: reference lines only.
    DashDot,
}

/// The mark drawn on each data point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// No mark.
    None,
    /// A filled circle.
    Circle,
    /// A filled square.
    Square,
    /// A filled triangle, point up.
    Triangle,
    /// A filled diamond: a plan's knee.
    Diamond,
}

/// Everything that tells one drawn line from another.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Look {
    /// Its colour.
    pub color: RGBColor,
    /// Its stroke.
    pub dash: Dash,
    /// Its mark on each point.
    pub marker: Marker,
    /// Stroke width (px).
    pub width: u32,
}

impl Look {
    /// The look without its marker, thicker: a series' colour alone, for the legend's series
    /// block.
    pub fn plain(self) -> Look {
        Look {
            marker: Marker::None,
            width: 3,
            ..self
        }
    }
}

/// A statistic of a metric over a run's requests, which decides a line's stroke and marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stat {
    /// The mean (throughput is a mean too).
    Mean,
    /// The median.
    P50,
    /// The 99th percentile.
    P99,
}

impl Stat {
    /// The name the legend gives it.
    pub fn name(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::P50 => "p50",
            Stat::P99 => "p99",
        }
    }

    /// The line of series colour `color` for this statistic.
    pub fn look(self, color: RGBColor) -> Look {
        let (dash, marker) = match self {
            Stat::Mean => (Dash::Solid, Marker::Circle),
            Stat::P50 => (Dash::Dotted, Marker::Square),
            Stat::P99 => (Dash::Dashed, Marker::Triangle),
        };
        Look {
            color,
            dash,
            marker,
            width: 2,
        }
    }
}

/// A reference line (an objective, a base value).
pub fn reference_look() -> Look {
    Look {
        color: REFERENCE,
        dash: Dash::DashDot,
        marker: Marker::None,
        width: 2,
    }
}

/// Queueing stages: warm colours, in `Stage::ALL` order of the queueing stages.
const QUEUEING: [RGBColor; 9] = [
    RGBColor(214, 39, 40),
    RGBColor(255, 127, 14),
    RGBColor(255, 187, 120),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(140, 86, 75),
    RGBColor(255, 152, 150),
    RGBColor(166, 86, 0),
    RGBColor(128, 0, 38),
];

/// Service stages: cool colours, in `Stage::ALL` order of the service stages.
const SERVICE: [RGBColor; 13] = [
    RGBColor(31, 119, 180),
    RGBColor(174, 199, 232),
    RGBColor(44, 160, 44),
    RGBColor(152, 223, 138),
    RGBColor(148, 103, 189),
    RGBColor(197, 176, 213),
    RGBColor(23, 190, 207),
    RGBColor(158, 218, 229),
    RGBColor(57, 59, 121),
    RGBColor(107, 110, 207),
    RGBColor(99, 121, 57),
    RGBColor(181, 207, 107),
    RGBColor(127, 127, 127),
];

/// The colour of the stage named `name` (`Stage::name`): fixed per stage, so a stage has the
/// same colour in every chart whichever other stages it shows. An unknown name gets a grey
/// (queueing: a light red).
pub fn stage_color(name: &str, queueing: bool) -> RGBColor {
    let Some(stage) = Stage::ALL.iter().find(|s| s.name() == name) else {
        return if queueing {
            RGBColor(240, 160, 160)
        } else {
            RGBColor(170, 170, 170)
        };
    };
    let same_kind = Stage::ALL
        .iter()
        .take_while(|s| *s != stage)
        .filter(|s| s.is_queueing() == stage.is_queueing())
        .count();
    if stage.is_queueing() {
        QUEUEING[same_kind % QUEUEING.len()]
    } else {
        SERVICE[same_kind % SERVICE.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_has_its_own_colour_warm_if_it_queues() {
        let colors: Vec<RGBColor> = Stage::ALL
            .iter()
            .map(|s| stage_color(s.name(), s.is_queueing()))
            .collect();
        for (i, a) in colors.iter().enumerate() {
            for b in &colors[i + 1..] {
                assert_ne!(a, b, "two stages share a colour");
            }
        }
        let queueing = Stage::ALL.iter().filter(|s| s.is_queueing()).count();
        assert_eq!(queueing, QUEUEING.len(), "a warm colour per queueing stage");
        assert_eq!(Stage::ALL.len() - queueing, SERVICE.len());
    }

    #[test]
    fn each_statistic_has_its_own_stroke_and_marker() {
        let looks: Vec<Look> = [Stat::Mean, Stat::P50, Stat::P99]
            .iter()
            .map(|s| s.look(series_color(0)))
            .collect();
        for (i, a) in looks.iter().enumerate() {
            for b in &looks[i + 1..] {
                assert!(a.dash != b.dash && a.marker != b.marker);
            }
            assert_ne!(a.dash, reference_look().dash);
        }
    }
}
