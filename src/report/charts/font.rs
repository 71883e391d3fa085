//! The bundled font and the PNG encoder: what lets a chart become a PNG with no system library
//! or font at run time.
//!
//! DejaVu Sans (`assets/fonts/DejaVuSans.ttf`, its license beside it) is compiled into the
//! binary and registered with plotters' `ab_glyph` text renderer under the family name the
//! charts use. The same font measures text for the layout of SVG and PNG alike, so both have
//! the same geometry.
//!
//! PNG text is rasterized here rather than by plotters: plotters 0.3.7 places each glyph's
//! pixels without the glyph's left side bearing, so narrow glyphs (`.`, `l`, `i`) sit too far
//! left and words read as "cl ients" or "3. 4. 9". [`raster_text`] positions every glyph by
//! its outline's own bounds, with the same advances and kerning that [`super::draw::width`]
//! measures.

use std::cell::Cell;
use std::sync::{Once, OnceLock};

use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::HPos;

use super::style::FONT;

/// DejaVu Sans 2.37 (Bitstream Vera license, `assets/fonts/LICENSE-DejaVu.txt`).
static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Registers the bundled font (once per process; every chart function calls it first).
pub fn register() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is a fixed file of the repository, checked by a test: it always parses.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS);
    });
}

thread_local! {
    /// Whether the chart being drawn on this thread is a bitmap (its text rasterized here).
    static RASTER: Cell<bool> = const { Cell::new(false) };
}

/// While it lives, text on this thread is rasterized by [`raster_text`] (a PNG is drawn).
pub struct Rastering(bool);

impl Rastering {
    /// Starts rasterizing text on this thread.
    pub fn start() -> Rastering {
        Rastering(RASTER.with(|r| r.replace(true)))
    }
}

impl Drop for Rastering {
    fn drop(&mut self) {
        RASTER.with(|r| r.set(self.0));
    }
}

/// Whether text on this thread is being rasterized (a PNG is drawn).
pub fn rastering() -> bool {
    RASTER.with(|r| r.get())
}

/// The bundled font, parsed once.
fn dejavu() -> &'static FontRef<'static> {
    static FONT_REF: OnceLock<FontRef<'static>> = OnceLock::new();
    // The font is a fixed file of the repository, checked by a test: it always parses.
    FONT_REF.get_or_init(|| FontRef::try_from_slice(DEJAVU_SANS).expect("bundled font parses"))
}

/// Draws `s` at size `px` in `color` into a bitmap: anchored by `h` at `x` and centred on
/// `y`, or, `up`, turned a quarter left (reading upwards) and centred on (x, y).
pub fn raster_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    (x, y): (i32, i32),
    (px, color): (f64, RGBColor),
    (h, up): (HPos, bool),
) -> Result<(), String> {
    let font = dejavu().as_scaled(PxScale::from(px as f32));
    // Pen positions along the text, as plotters measures its width.
    let mut glyphs = Vec::new();
    let mut pen = 0f32;
    let mut prev = None;
    for c in s.chars() {
        let id = font.glyph_id(c);
        if let Some(p) = prev {
            pen += font.kern(p, id);
        }
        glyphs.push((id, pen));
        pen += font.h_advance(id);
        prev = Some(id);
    }
    let start = match (h, up) {
        (_, true) | (HPos::Center, _) => -pen / 2.0,
        (HPos::Right, _) => -pen,
        (HPos::Left, _) => 0.0,
    };
    // The baseline that puts the middle of the font's ascent–descent box on y.
    let baseline = (font.ascent() + font.descent()) / 2.0;
    let mut failed = None;
    for (id, at) in glyphs {
        let glyph = id.with_scale_and_position(font.scale(), point(start + at, baseline));
        let Some(outline) = font.outline_glyph(glyph) else {
            continue;
        };
        let b = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let (lx, ly) = (b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32);
            let at = if up {
                (x + ly, y - lx)
            } else {
                (x + lx, y + ly)
            };
            let c = RGBAColor(color.0, color.1, color.2, f64::from(coverage.min(1.0)));
            if coverage > 0.0 && failed.is_none() {
                failed = area.draw_pixel(at, &c).err().map(|e| e.to_string());
            }
        });
    }
    failed.map_or(Ok(()), Err)
}

/// `rgb` (3 bytes a pixel, rows from the top) as a PNG file.
pub fn encode_png(rgb: &[u8], (w, h): (u32, u32)) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgb).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_bundled_font_parses_and_measures_text() {
        assert!(ab_glyph_parses());
        let w = super::super::draw::width("throughput", 12.0);
        assert!((40..100).contains(&w), "{w}");
    }

    fn ab_glyph_parses() -> bool {
        plotters::style::register_font(
            "etcdsim-font-test",
            plotters::style::FontStyle::Normal,
            super::DEJAVU_SANS,
        )
        .is_ok()
    }
}
