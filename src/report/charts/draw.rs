//! Drawing primitives every chart kind is built from: text (measured with the bundled font,
//! wrapped), strokes and markers in a [`Look`], the axes of a plot, the caption and the legend.
//! Everything is in pixels on a plotters drawing area, so one function draws the SVG and the
//! PNG alike.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::scale::Scale;
use super::style::{
    AXIS_PX, Dash, FONT, GRID, GRID_MINOR, INK, LABEL_PX, Look, MUTED, Marker, NOTE_PX, TITLE_PX,
};

/// What a drawing function returns: a plotters error, in words.
pub type Drawn = Result<(), String>;

/// The drawing area of a whole chart, in pixels.
pub type Area<DB> = DrawingArea<DB, Shift>;

/// Space around every chart (px).
pub const MARGIN: i32 = 16;
/// Between a chart's plot and its legend.
pub const GAP: i32 = 24;

/// The canvas of a chart of labelled rows (stacked bars, a tornado, a waterfall, changes): the
/// caption across the top, the rows' plot from `left` and `plot_w` wide (its values included),
/// `rows_h` of rows and an axis below, the legend beside it. Returns (left, the rows' top, the
/// canvas size).
pub fn rows_layout(
    caption: &Caption,
    legend: &Legend,
    left: i32,
    plot_w: i32,
    rows_h: i32,
) -> (i32, i32, (u32, u32)) {
    let (lw, lh) = legend.size();
    let width = left + plot_w + GAP + lw + MARGIN;
    let top = MARGIN + caption.height(width - 2 * MARGIN);
    let height = (top + rows_h + 52 + MARGIN).max(top + lh + MARGIN);
    (left, top, (width as u32, height as u32))
}

/// Starts a chart `width` wide: a white canvas and the caption across its top.
pub fn begin<DB: DrawingBackend>(root: &Area<DB>, caption: &Caption, width: u32) -> Drawn {
    root.fill(&WHITE).map_err(err)?;
    caption.draw(root, (MARGIN, MARGIN), width as i32 - 2 * MARGIN)
}

/// A plotters error in words.
pub fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The width (px) of `text` at size `px`, measured with the bundled font.
pub fn width(text: &str, px: f64) -> i32 {
    super::font::register();
    (FONT, px)
        .into_font()
        .box_size(text)
        .map_or(text.chars().count() as i32 * px as i32 / 2, |(w, _)| {
            w as i32
        })
}

/// `text` broken into lines at most `max` px wide, between words (a word wider than `max` stays
/// whole on its line).
pub fn wrap(text: &str, px: f64, max: i32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && width(&candidate, px) > max {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Draws `s` with its anchor `h` at `x` and its middle at `y`.
pub fn text<DB: DrawingBackend>(
    area: &Area<DB>,
    s: &str,
    (x, y): (i32, i32),
    px: f64,
    color: RGBColor,
    h: HPos,
) -> Drawn {
    if super::font::rastering() {
        return super::font::raster_text(area, s, (x, y), (px, color), (h, false));
    }
    let style = TextStyle::from((FONT, px).into_font())
        .color(&color)
        .pos(Pos::new(h, VPos::Center));
    area.draw(&Text::new(s.to_string(), (x, y), style))
        .map_err(err)
}

/// Draws `s` turned a quarter left (reading upwards), centred at (x, y).
pub fn text_up<DB: DrawingBackend>(area: &Area<DB>, s: &str, (x, y): (i32, i32), px: f64) -> Drawn {
    if super::font::rastering() {
        return super::font::raster_text(area, s, (x, y), (px, INK), (HPos::Center, true));
    }
    let style = TextStyle::from((FONT, px).into_font().transform(FontTransform::Rotate270))
        .color(&INK)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(s.to_string(), (x, y), style))
        .map_err(err)
}

/// Strokes the polyline `pts` in `look` (its marker is not drawn: see [`mark`]).
pub fn stroke<DB: DrawingBackend>(area: &Area<DB>, pts: &[(i32, i32)], look: &Look) -> Drawn {
    if pts.len() < 2 || look.width == 0 {
        return Ok(());
    }
    let style = look.color.stroke_width(look.width);
    let pts = pts.to_vec();
    match look.dash {
        Dash::Solid => area.draw(&PathElement::new(pts, style)),
        Dash::Dashed => area.draw(&DashedPathElement::new(pts, 9, 5, style)),
        Dash::Dotted => area.draw(&DashedPathElement::new(pts, 2, 4, style)),
        Dash::DashDot => {
            // A dash-dot as two dashed strokes: long dashes, and a dot in each gap.
            area.draw(&DashedPathElement::new(pts.clone(), 10, 8, style))
                .map_err(err)?;
            dash_dot_dots(area, &pts, style)
        }
    }
    .map_err(err)
}

/// The dots of a dash-dot stroke, in the middle of each 8 px gap after each 10 px dash.
fn dash_dot_dots<DB: DrawingBackend>(
    area: &Area<DB>,
    pts: &[(i32, i32)],
    style: ShapeStyle,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let mut along = 0.0;
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (dx, dy) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
        let len = (dx * dx + dy * dy).sqrt();
        let mut t = (14.0 - along % 18.0 + 18.0) % 18.0;
        while t + 1.0 <= len {
            let at = |u: f64| {
                (
                    a.0 + (dx * u / len).round() as i32,
                    a.1 + (dy * u / len).round() as i32,
                )
            };
            area.draw(&PathElement::new(vec![at(t - 1.0), at(t + 1.0)], style))?;
            t += 18.0;
        }
        along += len;
    }
    Ok(())
}

/// Draws `look`'s marker at `at`.
pub fn mark<DB: DrawingBackend>(area: &Area<DB>, at: (i32, i32), look: &Look) -> Drawn {
    let fill = look.color.filled();
    let (x, y) = at;
    let diamond = |r: i32| vec![(x, y - r), (x + r, y), (x, y + r), (x - r, y)];
    match look.marker {
        Marker::None => Ok(()),
        Marker::Circle => area.draw(&Circle::new(at, 4, fill)),
        Marker::Square => area.draw(&Rectangle::new([(x - 4, y - 4), (x + 4, y + 4)], fill)),
        Marker::Triangle => area.draw(&Polygon::new(
            vec![(x, y - 5), (x + 5, y + 4), (x - 5, y + 4)],
            fill,
        )),
        Marker::Diamond => {
            // A white core keeps a knee visible where it sits on a line of its own colour.
            area.draw(&Polygon::new(diamond(7), fill))
                .and_then(|()| area.draw(&Polygon::new(diamond(3), WHITE.filled())))
        }
    }
    .map_err(err)
}

/// A vertical error bar from `y0` to `y1` at `x`, with caps.
pub fn error_bar<DB: DrawingBackend>(
    area: &Area<DB>,
    x: i32,
    (y0, y1): (i32, i32),
    color: RGBColor,
) -> Drawn {
    let style = color.stroke_width(1);
    for path in [
        vec![(x, y0), (x, y1)],
        vec![(x - 3, y0), (x + 3, y0)],
        vec![(x - 3, y1), (x + 3, y1)],
    ] {
        area.draw(&PathElement::new(path, style)).map_err(err)?;
    }
    Ok(())
}

/// A horizontal error bar from `x0` to `x1` at `y`, with caps.
pub fn error_bar_h<DB: DrawingBackend>(
    area: &Area<DB>,
    (x0, x1): (i32, i32),
    y: i32,
    color: RGBColor,
) -> Drawn {
    let style = color.stroke_width(1);
    for path in [
        vec![(x0, y), (x1, y)],
        vec![(x0, y - 3), (x0, y + 3)],
        vec![(x1, y - 3), (x1, y + 3)],
    ] {
        area.draw(&PathElement::new(path, style)).map_err(err)?;
    }
    Ok(())
}

/// The title and the notes under it, wrapped to the chart's width.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Caption {
    /// What the chart shows (an experiment's description, not its id).
    pub title: String,
    /// What it was run with: the model, its overrides, the workload, the replications.
    pub notes: Vec<String>,
}

impl Caption {
    /// (text, size, colour) per line, wrapped at `max` px.
    fn lines(&self, max: i32) -> Vec<(String, f64, RGBColor)> {
        let mut out: Vec<(String, f64, RGBColor)> = wrap(&self.title, TITLE_PX, max)
            .into_iter()
            .map(|l| (l, TITLE_PX, INK))
            .collect();
        for n in &self.notes {
            out.extend(
                wrap(n, NOTE_PX, max)
                    .into_iter()
                    .map(|l| (l, NOTE_PX, MUTED)),
            );
        }
        out
    }

    /// Its height (px) at width `max`, with the gap below it.
    pub fn height(&self, max: i32) -> i32 {
        self.lines(max)
            .iter()
            .map(|(_, px, _)| line_height(*px))
            .sum::<i32>()
            + 12
    }

    /// Draws it from the top left corner (x, y), wrapped at `max` px.
    pub fn draw<DB: DrawingBackend>(&self, area: &Area<DB>, (x, y): (i32, i32), max: i32) -> Drawn {
        let mut at = y;
        for (line, px, color) in self.lines(max) {
            let h = line_height(px);
            text(area, &line, (x, at + h / 2), px, color, HPos::Left)?;
            at += h;
        }
        Ok(())
    }
}

/// The height of a line of text at size `px`.
pub fn line_height(px: f64) -> i32 {
    (px * 1.35).round() as i32
}

/// A plot's frame: its rectangle in pixels and its two scales.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Left edge (px).
    pub left: i32,
    /// Top edge.
    pub top: i32,
    /// Right edge.
    pub right: i32,
    /// Bottom edge.
    pub bottom: i32,
    /// The horizontal scale.
    pub x: Scale,
    /// The vertical scale.
    pub y: Scale,
}

impl Frame {
    /// The room (px) the y tick labels and the y title need left of the frame.
    pub fn y_room(y: &Scale) -> i32 {
        let labels = y
            .ticks
            .iter()
            .map(|&t| width(&y.label(t), LABEL_PX))
            .max()
            .unwrap_or(0);
        labels + 12 + line_height(AXIS_PX) + 8
    }

    /// The room below the frame: tick labels and the x title.
    pub const X_ROOM: i32 = 52;

    /// The pixel column of x value `v`, clamped to the frame.
    pub fn px_x(&self, v: f64) -> i32 {
        let f = self.x.frac(v).clamp(0.0, 1.0);
        self.left + (f * (self.right - self.left) as f64).round() as i32
    }

    /// The pixel row of y value `v`, clamped to the frame.
    pub fn px_y(&self, v: f64) -> i32 {
        let f = self.y.frac(v).clamp(0.0, 1.0);
        self.bottom - (f * (self.bottom - self.top) as f64).round() as i32
    }

    /// The pixel of (x, y).
    pub fn px(&self, x: f64, y: f64) -> (i32, i32) {
        (self.px_x(x), self.px_y(y))
    }

    /// The position of (x, y) in pixels, not clamped: beyond the frame for values beyond its
    /// scales.
    pub fn raw(&self, x: f64, y: f64) -> (f64, f64) {
        let w = (self.right - self.left) as f64;
        let h = (self.bottom - self.top) as f64;
        (
            self.left as f64 + self.x.frac(x) * w,
            self.bottom as f64 - self.y.frac(y) * h,
        )
    }

    /// Whether a raw position lies in the frame.
    pub fn inside(&self, (x, y): (f64, f64)) -> bool {
        let eps = 0.5;
        x >= self.left as f64 - eps
            && x <= self.right as f64 + eps
            && y >= self.top as f64 - eps
            && y <= self.bottom as f64 + eps
    }

    /// The polyline `pts` (raw positions) cut to the frame: the pieces inside it, so a line
    /// that leaves the plot is cut at its edge instead of running flat along it.
    pub fn clip(&self, pts: &[(f64, f64)]) -> Vec<Vec<(i32, i32)>> {
        let mut pieces: Vec<Vec<(i32, i32)>> = Vec::new();
        let mut joined = false;
        for w in pts.windows(2) {
            let Some((a, b)) = self.clip_segment(w[0], w[1]) else {
                joined = false;
                continue;
            };
            let (a, b) = (round(a), round(b));
            match pieces.last_mut() {
                Some(p) if joined && p.last() == Some(&a) => p.push(b),
                _ => pieces.push(vec![a, b]),
            }
            // The next segment continues this piece only if this one ended at its own end.
            joined = round(w[1]) == b;
        }
        pieces
    }

    /// The part of segment a–b inside the frame (Liang–Barsky), if any.
    fn clip_segment(&self, a: (f64, f64), b: (f64, f64)) -> Option<((f64, f64), (f64, f64))> {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        let edges = [
            (-dx, a.0 - self.left as f64),
            (dx, self.right as f64 - a.0),
            (-dy, a.1 - self.top as f64),
            (dy, self.bottom as f64 - a.1),
        ];
        for (p, q) in edges {
            if p == 0.0 {
                if q < 0.0 {
                    return None;
                }
            } else {
                let t = q / p;
                if p < 0.0 {
                    t0 = t0.max(t);
                } else {
                    t1 = t1.min(t);
                }
            }
        }
        (t0 <= t1).then_some((
            (a.0 + t0 * dx, a.1 + t0 * dy),
            (a.0 + t1 * dx, a.1 + t1 * dy),
        ))
    }

    /// Draws the grid, the frame, the tick labels and the axis titles.
    pub fn draw<DB: DrawingBackend>(&self, area: &Area<DB>, x_title: &str, y_title: &str) -> Drawn {
        let thin = |c: RGBColor| c.stroke_width(1);
        for (vals, color) in [(&self.x.minor, GRID_MINOR), (&self.x.ticks, GRID)] {
            for &v in vals {
                let x = self.px_x(v);
                area.draw(&PathElement::new(
                    vec![(x, self.top), (x, self.bottom)],
                    thin(color),
                ))
                .map_err(err)?;
            }
        }
        for (vals, color) in [(&self.y.minor, GRID_MINOR), (&self.y.ticks, GRID)] {
            for &v in vals {
                let y = self.px_y(v);
                area.draw(&PathElement::new(
                    vec![(self.left, y), (self.right, y)],
                    thin(color),
                ))
                .map_err(err)?;
            }
        }
        area.draw(&Rectangle::new(
            [(self.left, self.top), (self.right, self.bottom)],
            INK.stroke_width(1),
        ))
        .map_err(err)?;
        for &v in &self.x.ticks {
            let x = self.px_x(v);
            area.draw(&PathElement::new(
                vec![(x, self.bottom), (x, self.bottom + 5)],
                thin(INK),
            ))
            .map_err(err)?;
            let at = (x, self.bottom + 15);
            text(area, &self.x.label(v), at, LABEL_PX, INK, HPos::Center)?;
        }
        for &v in &self.y.ticks {
            let y = self.px_y(v);
            area.draw(&PathElement::new(
                vec![(self.left - 5, y), (self.left, y)],
                thin(INK),
            ))
            .map_err(err)?;
            let at = (self.left - 9, y);
            text(area, &self.y.label(v), at, LABEL_PX, INK, HPos::Right)?;
        }
        let mid_x = (self.left + self.right) / 2;
        let x_title_at = (mid_x, self.bottom + 38);
        text(area, x_title, x_title_at, AXIS_PX, INK, HPos::Center)?;
        let y_title_x = self.left - Frame::y_room(&self.y) + line_height(AXIS_PX) / 2 + 2;
        text_up(
            area,
            y_title,
            (y_title_x, (self.top + self.bottom) / 2),
            AXIS_PX,
        )
    }
}

/// A position rounded to the pixel.
fn round((x, y): (f64, f64)) -> (i32, i32) {
    (x.round() as i32, y.round() as i32)
}

/// What a legend entry shows beside its label.
#[derive(Debug, Clone, PartialEq)]
pub enum Swatch {
    /// A stretch of line with its marker in the middle, as the plot draws it.
    Line(Look),
    /// A filled box, as a bar or a stage.
    Box(RGBColor),
    /// An error bar.
    ErrorBar(RGBColor),
    /// A horizontal error bar, as a dot chart of changes draws it.
    ErrorBarH(RGBColor),
}

/// One legend line.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The swatch.
    pub swatch: Swatch,
    /// The label.
    pub label: String,
}

/// A group of entries under a heading.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    /// What the entries tell apart (e.g. the axes whose values make the series).
    pub heading: Option<String>,
    /// The entries.
    pub entries: Vec<Entry>,
}

/// A legend, drawn beside the plot, never on it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Legend {
    /// Its blocks, top to bottom.
    pub blocks: Vec<Block>,
}

/// The swatch column's width.
const SWATCH_W: i32 = 30;
/// A legend label wider than this wraps.
const LEGEND_TEXT_MAX: i32 = 300;
/// A legend line's height.
const LEGEND_ROW: i32 = 19;

/// A legend block wrapped to its width: the heading's lines, and each entry's swatch and
/// lines.
type LaidOut<'a> = (Vec<String>, Vec<(&'a Swatch, Vec<String>)>);

impl Legend {
    /// Each block's heading and entries, wrapped.
    fn laid_out(&self) -> Vec<LaidOut<'_>> {
        self.blocks
            .iter()
            .map(|b| {
                let heading = b
                    .heading
                    .as_deref()
                    .map(|h| wrap(h, LABEL_PX, LEGEND_TEXT_MAX + SWATCH_W))
                    .unwrap_or_default();
                let entries = b
                    .entries
                    .iter()
                    .map(|e| (&e.swatch, wrap(&e.label, LABEL_PX, LEGEND_TEXT_MAX)))
                    .collect();
                (heading, entries)
            })
            .collect()
    }

    /// Its (width, height) in px; (0, 0) when empty.
    pub fn size(&self) -> (i32, i32) {
        let mut w = 0;
        let mut h = 0;
        for (heading, entries) in self.laid_out() {
            for l in &heading {
                w = w.max(width(l, LABEL_PX));
                h += LEGEND_ROW;
            }
            for (_, lines) in &entries {
                for l in lines {
                    w = w.max(SWATCH_W + 8 + width(l, LABEL_PX));
                }
                h += LEGEND_ROW * lines.len() as i32;
            }
            h += 10;
        }
        if h == 0 { (0, 0) } else { (w, h - 10) }
    }

    /// Draws it from the top left corner (x, y).
    pub fn draw<DB: DrawingBackend>(&self, area: &Area<DB>, (x, mut y): (i32, i32)) -> Drawn {
        for (heading, entries) in self.laid_out() {
            for l in &heading {
                text(
                    area,
                    l,
                    (x, y + LEGEND_ROW / 2),
                    LABEL_PX,
                    MUTED,
                    HPos::Left,
                )?;
                y += LEGEND_ROW;
            }
            for (swatch, lines) in entries {
                let mid = y + LEGEND_ROW / 2;
                draw_swatch(area, swatch, (x, mid))?;
                for l in &lines {
                    let at = (x + SWATCH_W + 8, y + LEGEND_ROW / 2);
                    text(area, l, at, LABEL_PX, INK, HPos::Left)?;
                    y += LEGEND_ROW;
                }
            }
            y += 10;
        }
        Ok(())
    }
}

/// Draws a swatch whose left end is at `x`, centred on row `y`.
fn draw_swatch<DB: DrawingBackend>(area: &Area<DB>, s: &Swatch, (x, y): (i32, i32)) -> Drawn {
    match s {
        Swatch::Line(look) => {
            stroke(area, &[(x, y), (x + SWATCH_W, y)], look)?;
            mark(area, (x + SWATCH_W / 2, y), look)
        }
        Swatch::Box(c) => area
            .draw(&Rectangle::new(
                [(x + 4, y - 6), (x + SWATCH_W - 4, y + 6)],
                c.filled(),
            ))
            .map_err(err),
        Swatch::ErrorBar(c) => error_bar(area, x + SWATCH_W / 2, (y - 7, y + 7), *c),
        Swatch::ErrorBarH(c) => error_bar_h(area, (x + 4, x + SWATCH_W - 4), y, *c),
    }
}
