//! PDF documents Postkasse makes itself, written with `krilla`: plain
//! letters with real, extractable text (for the demo, the CLI's test letters
//! and the tests), and the pieces print-ready letters are built from. Every
//! font is embedded (a subset of DejaVu Sans, shipped in `assets/fonts`), so
//! what Postkasse makes passes the print houses' preflight.

use anyhow::Context;
use krilla::{
    geom::{PathBuilder, Point, Rect},
    page::PageSettings,
    surface::Surface,
    text::{Font, TextDirection},
    Document, SerializeSettings,
};
use std::sync::OnceLock;

/// A4 in points.
pub const A4_POINTS: (f32, f32) = (595.28, 841.89);
/// Points in a millimetre.
pub const POINTS_PER_MM: f32 = 72.0 / 25.4;

/// DejaVu Sans, the one font Postkasse writes with (PDFs, the console's chart).
pub static DEJAVU_SANS: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// The one font Postkasse writes with; it covers Norwegian and Sámi letters.
pub fn font() -> Font {
    static FONT: OnceLock<Font> = OnceLock::new();
    FONT.get_or_init(|| Font::new(DEJAVU_SANS.into(), 0).expect("the bundled font loads"))
        .clone()
}

/// A new document as Postkasse writes them: PDF 1.7 (krilla's default, the
/// newest print houses take), untagged.
pub fn new_document() -> Document {
    Document::new_with(SerializeSettings {
        enable_tagging: false,
        ..SerializeSettings::default()
    })
}

pub fn a4() -> PageSettings {
    PageSettings::from_wh(A4_POINTS.0, A4_POINTS.1).expect("A4 is a valid page size")
}

/// One line of text with its baseline at (`x`, `y`) points from the top left.
pub fn text(surface: &mut Surface, x: f32, y: f32, size: f32, line: &str) {
    surface.draw_text(
        Point::from_xy(x, y),
        font(),
        size,
        line,
        false,
        TextDirection::Auto,
    );
}

/// Filled black rectangles, `(x, y, width, height)` in points from the top
/// left, drawn as one path (one fill, however many rectangles).
pub fn filled_rects(surface: &mut Surface, rects: impl IntoIterator<Item = (f32, f32, f32, f32)>) {
    let mut path = PathBuilder::new();
    for (x, y, width, height) in rects {
        if let Some(rect) = Rect::from_xywh(x, y, width, height) {
            path.push_rect(rect);
        }
    }
    if let Some(path) = path.finish() {
        surface.draw_path(&path);
    }
}

/// The finished document's bytes.
pub fn finish(document: Document) -> anyhow::Result<Vec<u8>> {
    document
        .finish()
        .map_err(|error| anyhow::anyhow!("writing the PDF failed: {error:?}"))
}

/// A one-page A4 PDF letter with real, extractable text.
pub fn letter_pdf(title: &str, addressee: &str, paragraphs: &[&str]) -> anyhow::Result<Vec<u8>> {
    let mut document = new_document();
    {
        let mut page = document.start_page_with(a4());
        let mut surface = page.surface();
        // 60 pt (21 mm) from the left: clear of the print houses' 18 mm margin.
        let left = 60.0;
        let mut y = 72.0;
        text(&mut surface, left, y, 16.0, title);
        y += 22.0;
        text(&mut surface, left, y, 11.0, &format!("Til: {addressee}"));
        for paragraph in paragraphs {
            y += 22.0;
            text(&mut surface, left, y, 11.0, paragraph);
        }
        surface.finish();
        page.finish();
    }
    finish(document).context("writing a letter")
}

/// An A4 PDF with one page per entry of `pages`, each a line of text: for
/// letters of several pages (the demo, tests of the page reader).
pub fn pages_pdf(pages: &[&str]) -> anyhow::Result<Vec<u8>> {
    let mut document = new_document();
    for line in pages {
        let mut page = document.start_page_with(a4());
        let mut surface = page.surface();
        text(&mut surface, 60.0, 72.0, 16.0, line);
        surface.finish();
        page.finish();
    }
    finish(document).context("writing pages")
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::MediaType;

    #[test]
    fn generated_letters_are_pdfs_with_their_text() {
        let bytes = letter_pdf(
            "Vedtak om foreldrepenger",
            "Kari Nordmann",
            &["Vi har innvilget søknaden."],
        )
        .unwrap();
        assert!(MediaType::Pdf.matches_content(&bytes));
        let parsed = lopdf::Document::load_mem(&bytes).unwrap();
        assert_eq!(parsed.get_pages().len(), 1);
        let text = parsed.extract_text(&[1]).unwrap();
        assert!(text.contains("Vi har innvilget søknaden."), "{text}");
    }
}
