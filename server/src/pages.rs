//! PDF pages as pictures and text, for reading a letter inside its page and
//! for OCR: hayro (pure Rust) draws a page, lopdf reads its text.
//!
//! Drawing is CPU work that grows with the page and what is on it, so a
//! [`Renderer`] does it on blocking threads, a few at a time (one per core),
//! and gives up at a time cap. A page's picture is limited in pixels, and a
//! document in how many pages are offered, so neither a huge page box nor a
//! thousand-page PDF can make one request cost more than a bounded amount.

use bytes::Bytes;
use std::{sync::Arc, time::Duration};
use tokio::sync::Semaphore;

/// What reading a document in the page may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimits {
    /// A larger document is offered as a download only.
    pub max_bytes: u64,
    /// Only this many first pages are shown.
    pub max_pages: usize,
    /// A drawn page has at most this many pixels, whatever its shape.
    pub max_pixels: u64,
    /// Per page, what its content streams may decompress to (text).
    pub max_decompressed_bytes: usize,
    /// The most text kept of one page.
    pub max_chars: usize,
    pub timeout: Duration,
}

impl Default for PageLimits {
    fn default() -> Self {
        Self {
            max_bytes: 50 * 1024 * 1024,
            max_pages: 30,
            // 1600 × 2263 is an A4 page at the widest width; room for
            // somewhat longer pages, not for posters.
            max_pixels: 4_000_000,
            max_decompressed_bytes: 8 * 1024 * 1024,
            max_chars: 20_000,
            timeout: Duration::from_secs(10),
        }
    }
}

/// One page: its size in points (for the picture's aspect) and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct PageFacts {
    pub width_pt: f32,
    pub height_pt: f32,
    pub text: String,
}

/// The pages a document shows: at most [`PageLimits::max_pages`] of `total`.
#[derive(Debug, Clone, PartialEq)]
pub struct Outline {
    pub pages: Vec<PageFacts>,
    pub total: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("the document cannot be read: {0}")]
    Unreadable(String),
    #[error("the document is larger than {0} bytes")]
    TooLarge(u64),
    #[error("the document has no page {0} to show")]
    NoSuchPage(usize),
    #[error("drawing took longer than {0:?}")]
    TimedOut(Duration),
}

fn open(bytes: &Bytes) -> Result<hayro::hayro_syntax::Pdf, PageError> {
    hayro::hayro_syntax::Pdf::new(Arc::new(bytes.clone()))
        .map_err(|error| PageError::Unreadable(format!("{error:?}")))
}

/// Each shown page's size and text; CPU work, for a blocking thread.
pub fn outline(bytes: &Bytes, limits: &PageLimits) -> Result<Outline, PageError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(PageError::TooLarge(limits.max_bytes));
    }
    let pdf = open(bytes)?;
    let total = pdf.pages().len();
    let shown = total.min(limits.max_pages);
    // lopdf reads the text; a page whose text it cannot read shows none
    // rather than hiding the picture.
    let texts = lopdf::Document::load_mem(bytes).ok();
    let pages = pdf
        .pages()
        .iter()
        .take(shown)
        .enumerate()
        .map(|(index, page)| {
            let (width_pt, height_pt) = page.render_dimensions();
            let text = texts
                .as_ref()
                .and_then(|document| {
                    let number = u32::try_from(index + 1).ok()?;
                    document
                        .extract_text_with_limit(&[number], limits.max_decompressed_bytes)
                        .ok()
                })
                .map(|text| capped(text.trim(), limits.max_chars))
                .unwrap_or_default();
            PageFacts {
                width_pt,
                height_pt,
                text,
            }
        })
        .collect();
    Ok(Outline { pages, total })
}

fn capped(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text.to_owned(),
    }
}

/// Page `number` (from 1) drawn `width` pixels wide, or narrower when the
/// page is so long that the pixel limit needs it, as PNG. CPU work, for a
/// blocking thread.
pub fn render_png(
    bytes: &Bytes,
    number: usize,
    width: u32,
    limits: &PageLimits,
) -> Result<Vec<u8>, PageError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(PageError::TooLarge(limits.max_bytes));
    }
    if number == 0 || number > limits.max_pages {
        return Err(PageError::NoSuchPage(number));
    }
    let pdf = open(bytes)?;
    let page = pdf
        .pages()
        .get(number - 1)
        .ok_or(PageError::NoSuchPage(number))?;
    let (width_pt, height_pt) = page.render_dimensions();
    if width_pt < 1.0 || height_pt < 1.0 {
        return Err(PageError::Unreadable(format!("page {number} has no area")));
    }
    let scale = fitting_scale(width_pt, height_pt, width, limits.max_pixels);
    let pixmap = render_on_white(page, &hayro::RenderCache::new(), scale);
    pixmap
        .into_png()
        .map_err(|error| PageError::Unreadable(error.to_string()))
}

/// Pixels per point for a page drawn `width` pixels wide, made smaller so the
/// picture stays within `max_pixels` (and within the 65,535 pixels a side the
/// drawing surface allows).
fn fitting_scale(width_pt: f32, height_pt: f32, width: u32, max_pixels: u64) -> f32 {
    let wanted = width as f32 / width_pt;
    let by_area = (max_pixels as f32 / (width_pt * height_pt)).sqrt();
    let by_side = f32::from(u16::MAX - 1) / width_pt.max(height_pt);
    wanted.min(by_area).min(by_side)
}

/// A page drawn at `scale` pixels per point on a white ground.
pub fn render_on_white<'a>(
    page: &'a hayro::hayro_syntax::page::Page<'a>,
    cache: &hayro::RenderCache<'a>,
    scale: f32,
) -> hayro::vello_cpu::Pixmap {
    hayro::render(
        page,
        cache,
        &hayro::hayro_interpret::InterpreterSettings::default(),
        &hayro::RenderSettings {
            x_scale: scale,
            y_scale: scale,
            width: None,
            height: None,
            bg_color: hayro::vello_cpu::color::palette::css::WHITE,
        },
    )
}

/// Draws and reads pages off the async threads, a few at a time.
#[derive(Clone)]
pub struct Renderer {
    limits: PageLimits,
    permits: Arc<Semaphore>,
}

impl Renderer {
    pub fn new(limits: PageLimits) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |cores| cores.get());
        Self {
            limits,
            permits: Arc::new(Semaphore::new(cores)),
        }
    }

    pub fn limits(&self) -> &PageLimits {
        &self.limits
    }

    pub async fn outline(&self, bytes: Bytes) -> Result<Outline, PageError> {
        let limits = self.limits;
        self.off_runtime(move || outline(&bytes, &limits)).await
    }

    pub async fn render_png(
        &self,
        bytes: Bytes,
        number: usize,
        width: u32,
    ) -> Result<Vec<u8>, PageError> {
        let limits = self.limits;
        self.off_runtime(move || render_png(&bytes, number, width, &limits))
            .await
    }

    /// Runs `work` on a blocking thread once a permit is free. Past the time
    /// cap the answer is given up; the thread finishes its page and then
    /// gives its permit back, so a slow page cannot let more pile up.
    async fn off_runtime<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, PageError> + Send + 'static,
    ) -> Result<T, PageError> {
        let timeout = self.limits.timeout;
        let started = tokio::time::Instant::now();
        let permit = tokio::time::timeout(timeout, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| PageError::TimedOut(timeout))?
            .expect("the semaphore is never closed");
        let work = tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        });
        match tokio::time::timeout_at(started + timeout, work).await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => Err(PageError::Unreadable(format!(
                "the renderer failed: {panic}"
            ))),
            Err(_) => Err(PageError::TimedOut(timeout)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(pages: &[&str]) -> Bytes {
        Bytes::from(crate::pdf::pages_pdf(pages).expect("a PDF"))
    }

    #[test]
    fn every_page_has_its_size_and_its_own_text() {
        let outline = outline(
            &letter(&["Vedtak om skatt", "Klagerett og frister"]),
            &PageLimits::default(),
        )
        .expect("an outline");
        assert_eq!(outline.total, 2);
        assert_eq!(outline.pages.len(), 2);
        assert!((outline.pages[0].width_pt - 595.28).abs() < 1.0);
        assert!(outline.pages[0].text.contains("Vedtak om skatt"));
        assert!(!outline.pages[0].text.contains("Klagerett"));
        assert!(outline.pages[1].text.contains("Klagerett og frister"));
    }

    #[test]
    fn only_the_first_pages_are_shown_and_no_later_one_is_drawn() {
        let limits = PageLimits {
            max_pages: 2,
            ..PageLimits::default()
        };
        let bytes = letter(&["én", "to", "tre"]);
        let outline = outline(&bytes, &limits).expect("an outline");
        assert_eq!((outline.pages.len(), outline.total), (2, 3));
        assert_eq!(
            render_png(&bytes, 3, 480, &limits),
            Err(PageError::NoSuchPage(3))
        );
        assert_eq!(
            render_png(&bytes, 0, 480, &limits),
            Err(PageError::NoSuchPage(0))
        );
    }

    #[test]
    fn a_page_is_drawn_as_a_png_of_the_asked_width_that_shows_its_ink() {
        let png =
            render_png(&letter(&["Vedtak"]), 1, 800, &PageLimits::default()).expect("a picture");
        let decoder = png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().expect("a PNG");
        let info = reader.info();
        assert_eq!(info.width, 800);
        assert_eq!(info.height, (800.0 * 841.89 / 595.28) as u32);
        let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
        reader.next_frame(&mut pixels).expect("pixels");
        let dark = pixels.chunks(4).filter(|pixel| pixel[0] < 128).count();
        assert!(dark > 100, "the text is drawn: {dark} dark pixels");
        let white = pixels
            .chunks(4)
            .filter(|pixel| pixel[..3] == [255; 3])
            .count();
        assert!(white > pixels.len() / 4 / 2, "on a white ground");
    }

    #[test]
    fn a_long_page_is_drawn_narrower_to_stay_within_the_pixel_limit() {
        // A page 1 point wide and 100,000 points long at 1600 pixels wide
        // would be 160 million pixels.
        let scale = fitting_scale(100.0, 100_000.0, 1600, 4_000_000);
        let pixels = (100.0 * scale) * (100_000.0 * scale);
        assert!(pixels <= 4_000_000.0 * 1.001, "{pixels}");
        assert!((fitting_scale(595.28, 841.89, 800, 4_000_000) - 800.0 / 595.28).abs() < 1e-4);
    }

    #[test]
    fn what_is_not_a_pdf_is_unreadable() {
        assert!(matches!(
            outline(&Bytes::from_static(b"not a pdf"), &PageLimits::default()),
            Err(PageError::Unreadable(_))
        ));
    }
}
