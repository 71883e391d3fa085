//! The bundled font and the PNG encoder: what lets a chart become a PNG with no system library
//! or font at run time.
//!
//! DejaVu Sans (`assets/fonts/DejaVuSans.ttf`, its license beside it) is compiled into the
//! binary and registered with plotters' `ab_glyph` text renderer under the family name the
//! charts use. The same font measures text for the layout of SVG and PNG alike, so both have
//! the same geometry.

use std::sync::Once;

use plotters::style::FontStyle;

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
