//! Text from documents, for the index: PDF (with lopdf, already used to make
//! and read letters), HTML (tags, scripts and styles removed by ammonia) and
//! plain text. Images, and PDFs whose pages are only images (a scan), are
//! read by Tesseract with its Norwegian model (Debian's `tesseract-ocr` and
//! `tesseract-ocr-nor`), run as a subprocess that is killed at the time cap;
//! a scanned PDF's pages are rendered for it with hayro.
//!
//! Extraction runs after the letter was acknowledged, in the indexer, on a
//! blocking thread with a time cap ([`ExtractionLimits::timeout`]). The memory
//! cap is approximated, not enforced by the operating system: documents above
//! `max_bytes` or `max_pages` are refused before parsing, lopdf is given a
//! limit on how much a page's content streams may decompress to, and the text
//! kept is capped at `max_chars`. A PDF that hits the time cap leaves its
//! thread running until the parser returns (a thread cannot be killed).
//! Tesseract, a subprocess, has hard caps: the kernel limits its address
//! space and CPU time (`prlimit`), and it is killed at the time cap.

use app::domain::MediaType;
use std::{
    io::{Read, Write},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

/// The OCR program, found on `PATH`.
const TESSERACT: &str = "tesseract";
/// Tesseract runs under util-linux's `prlimit`, so the kernel caps what one
/// image may cost: its address space and its CPU time, whatever the time
/// cap (a wall clock) does.
const PRLIMIT: &str = "prlimit";
/// Tesseract's address space: a 200 dpi page needs under 100 MB; a large
/// scan some hundreds.
const OCR_MEMORY_BYTES: u64 = 1024 * 1024 * 1024;
/// Its Norwegian model (bokmål and nynorsk).
const OCR_LANGUAGE: &str = "nor";
/// A scanned page is rendered at this many dots per inch for OCR: enough for
/// body text, and an A4 page stays near 1650 × 2340 pixels.
const OCR_DPI: f32 = 200.0;
/// A page larger than this many pixels on a side is not rendered (a huge
/// page box would cost gigabytes).
const OCR_MAX_SIDE: f32 = 5000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractionLimits {
    pub max_bytes: u64,
    pub max_pages: usize,
    /// Per page, what its content streams may decompress to.
    pub max_decompressed_bytes: usize,
    pub max_chars: usize,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("the document is larger than {0} bytes")]
    TooLarge(u64),
    #[error("the document has more than {0} pages")]
    TooManyPages(usize),
    #[error("the document cannot be read: {0}")]
    Unreadable(String),
    #[error("extraction took longer than {0:?}")]
    TimedOut(Duration),
}

impl ExtractError {
    /// Whether another try could give a different answer.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ExtractError::Unreadable(_) | ExtractError::TimedOut(_)
        )
    }
}

/// The text of one document; CPU work, so call it from a blocking thread.
pub fn extract(
    media_type: MediaType,
    bytes: &[u8],
    limits: &ExtractionLimits,
) -> Result<String, ExtractError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(ExtractError::TooLarge(limits.max_bytes));
    }
    let deadline = Instant::now() + limits.timeout;
    let mut text = match media_type {
        MediaType::Pdf => {
            let text = pdf_text(bytes, limits)?;
            if text.trim().is_empty() {
                scanned_pdf_text(bytes, limits, deadline)?
            } else {
                text
            }
        }
        MediaType::Html => html_text(&String::from_utf8_lossy(bytes)),
        MediaType::PlainText => String::from_utf8_lossy(bytes).into_owned(),
        MediaType::Png | MediaType::Jpeg => ocr(bytes, deadline, limits.timeout)?,
    };
    if let Some((cut, _)) = text.char_indices().nth(limits.max_chars) {
        text.truncate(cut);
    }
    Ok(text)
}

/// Runs [`extract`] on a blocking thread, giving up after the time cap.
pub async fn extract_capped(
    media_type: MediaType,
    bytes: bytes::Bytes,
    limits: ExtractionLimits,
) -> Result<String, ExtractError> {
    let work = tokio::task::spawn_blocking(move || extract(media_type, &bytes, &limits));
    match tokio::time::timeout(limits.timeout, work).await {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => Err(ExtractError::Unreadable(format!(
            "the parser failed: {panic}"
        ))),
        Err(_) => Err(ExtractError::TimedOut(limits.timeout)),
    }
}

fn pdf_text(bytes: &[u8], limits: &ExtractionLimits) -> Result<String, ExtractError> {
    let document = lopdf::Document::load_mem(bytes)
        .map_err(|error| ExtractError::Unreadable(error.to_string()))?;
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    if pages.len() > limits.max_pages {
        return Err(ExtractError::TooManyPages(limits.max_pages));
    }
    let mut text = String::new();
    // Page by page, so one page lopdf cannot read costs only its own text.
    let chunks = document.extract_text_chunks_with_limit(&pages, limits.max_decompressed_bytes);
    let mut failures = 0;
    for chunk in chunks {
        match chunk {
            Ok(chunk) => {
                text.push_str(&chunk);
                text.push('\n');
            }
            Err(_) => failures += 1,
        }
        if text.len() > limits.max_chars * 4 {
            break;
        }
    }
    if text.trim().is_empty() && failures > 0 {
        return Err(ExtractError::Unreadable(format!(
            "no page's text could be read ({failures} failed)"
        )));
    }
    Ok(text)
}

/// The text of a PDF whose pages are images: each page rendered and read by
/// OCR, within the page limit and the time cap.
fn scanned_pdf_text(
    bytes: &[u8],
    limits: &ExtractionLimits,
    deadline: Instant,
) -> Result<String, ExtractError> {
    use hayro::{hayro_syntax::Pdf, RenderCache};
    let pdf = Pdf::new(std::sync::Arc::new(bytes.to_vec()))
        .map_err(|error| ExtractError::Unreadable(format!("{error:?}")))?;
    if pdf.pages().len() > limits.max_pages {
        return Err(ExtractError::TooManyPages(limits.max_pages));
    }
    let scale = OCR_DPI / 72.0;
    let cache = RenderCache::new();
    let mut text = String::new();
    for page in pdf.pages().iter() {
        let (width, height) = page.render_dimensions();
        if width * scale > OCR_MAX_SIDE || height * scale > OCR_MAX_SIDE {
            continue;
        }
        let pixmap = crate::pages::render_on_white(page, &cache, scale);
        let mut image = format!("P6\n{} {}\n255\n", pixmap.width(), pixmap.height()).into_bytes();
        for pixel in pixmap.data() {
            // Premultiplied on white: what is not covered shows white.
            let on_white = |channel: u8| channel.saturating_add(255 - pixel.a);
            image.extend([on_white(pixel.r), on_white(pixel.g), on_white(pixel.b)]);
        }
        text.push_str(&ocr(&image, deadline, limits.timeout)?);
        text.push('\n');
    }
    Ok(text)
}

/// The text Tesseract reads in an image (PNG, JPEG or PPM), killed if it
/// runs past `deadline`.
fn ocr(image: &[u8], deadline: Instant, cap: Duration) -> Result<String, ExtractError> {
    ocr_within(image, deadline, cap, OCR_MEMORY_BYTES)
}

/// [`ocr`] with Tesseract's address space capped at `memory_bytes`, and
/// its CPU time at the time cap.
fn ocr_within(
    image: &[u8],
    deadline: Instant,
    cap: Duration,
    memory_bytes: u64,
) -> Result<String, ExtractError> {
    let mut child = Command::new(PRLIMIT)
        .arg(format!("--as={memory_bytes}"))
        .arg(format!("--cpu={}", cap.as_secs().max(1)))
        .args(["--", TESSERACT, "stdin", "stdout", "-l", OCR_LANGUAGE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| {
            ExtractError::Unreadable(format!("cannot start {TESSERACT} under {PRLIMIT}: {error}"))
        })?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = child.stdout.take().expect("piped");
    // Fed and read on their own threads, so neither pipe can fill and
    // stall; scoped, so the image is lent to the feeder rather than copied.
    let (status, text) = std::thread::scope(|scope| {
        scope.spawn(move || {
            // A child killed at the cap closes the pipe: the write just fails.
            let _ = stdin.write_all(image);
        });
        let reader = scope.spawn(move || {
            let mut text = String::new();
            stdout.read_to_string(&mut text).map(|_| text)
        });
        let status = loop {
            if let Some(status) = child
                .try_wait()
                .map_err(|error| ExtractError::Unreadable(error.to_string()))?
            {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(ExtractError::TimedOut(cap));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let text = reader
            .join()
            .map_err(|_| ExtractError::Unreadable("the OCR output was lost".to_owned()))?
            .map_err(|error| ExtractError::Unreadable(error.to_string()))?;
        Ok((status, text))
    })?;
    if !status.success() {
        return Err(ExtractError::Unreadable(format!(
            "{TESSERACT} failed: {status}"
        )));
    }
    Ok(text)
}

/// The visible text of an HTML document.
pub fn html_text(html: &str) -> String {
    let no_tags = ammonia::Builder::empty().clean(html).to_string();
    html_escape::decode_html_entities(&no_tags)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ExtractionLimits {
        ExtractionLimits {
            max_bytes: 1024 * 1024,
            max_pages: 10,
            max_decompressed_bytes: 1024 * 1024,
            max_chars: 10_000,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn pdf_text_keeps_norwegian_letters() {
        let pdf =
            crate::pdf::letter_pdf("Vedtak om bostøtte", "Kari", &["Du får støtte."]).unwrap();
        let text = extract(MediaType::Pdf, &pdf, &limits()).unwrap();
        assert!(text.contains("bostøtte"), "{text}");
        assert!(text.contains("får"), "{text}");
    }

    #[test]
    fn html_loses_tags_scripts_and_entities() {
        let text = html_text(
            "<p>Hei <b>Kari</b> &amp; Ola</p><script>alert('x')</script><style>p{}</style>",
        );
        assert_eq!(text, "Hei Kari & Ola");
    }

    /// A page of Norwegian text as an image, as a scanner would make it:
    /// one of our letters, rendered.
    fn scanned(text: &str) -> Vec<u8> {
        let pdf = crate::pdf::letter_pdf("Vedtak om bostøtte", "Kari", &[text]).unwrap();
        let directory = tempfile::tempdir().unwrap();
        let input = directory.path().join("brev.pdf");
        std::fs::write(&input, pdf).unwrap();
        let output = directory.path().join("side");
        // poppler's renderer: no code shared with the OCR path.
        let rendered = Command::new("pdftoppm")
            .args(["-png", "-r", "150", "-singlefile"])
            .arg(&input)
            .arg(&output)
            .status()
            .expect("pdftoppm (poppler-utils) is installed");
        assert!(rendered.success());
        std::fs::read(directory.path().join("side.png")).unwrap()
    }

    /// Needs Debian's tesseract-ocr and tesseract-ocr-nor (`.ci/setup`).
    #[test]
    fn images_are_read_with_the_norwegian_model() {
        let png = scanned("Søknaden om bostøtte er innvilget fra første januar.");
        let text = extract(MediaType::Png, &png, &limits()).unwrap();
        assert!(text.contains("bostøtte"), "{text}");
        assert!(text.contains("innvilget"), "{text}");
    }

    /// The kernel's cap holds: in 16 MB Tesseract cannot even load, and the
    /// image is unreadable rather than read at any cost.
    #[test]
    fn tesseract_runs_within_its_memory_cap() {
        let png = scanned("Vedtak om bostøtte.");
        let deadline = Instant::now() + Duration::from_secs(30);
        let refused = ocr_within(&png, deadline, Duration::from_secs(30), 16 * 1024 * 1024);
        assert!(
            matches!(refused, Err(ExtractError::Unreadable(_))),
            "{refused:?}"
        );
        let read = ocr(&png, deadline, Duration::from_secs(30)).unwrap();
        assert!(read.contains("bostøtte"), "{read}");
    }

    /// A scan saved as PDF: the page is one image and has no text.
    #[test]
    fn pdfs_of_scanned_pages_are_read_with_ocr() {
        use lopdf::{dictionary, Document, Object, Stream};
        let letter = crate::pdf::letter_pdf(
            "Vedtak",
            "Kari",
            &["Klagen på eiendomsskatten er tatt til følge."],
        )
        .unwrap();
        let pdf = hayro::hayro_syntax::Pdf::new(std::sync::Arc::new(letter)).unwrap();
        let pixmap = crate::pages::render_on_white(
            &pdf.pages()[0],
            &hayro::RenderCache::new(),
            150.0 / 72.0,
        );
        let (width, height) = (u32::from(pixmap.width()), u32::from(pixmap.height()));
        let pixels: Vec<u8> = pixmap
            .data()
            .iter()
            .flat_map(|pixel| [pixel.r, pixel.g, pixel.b])
            .collect();
        let mut scan = Document::with_version("1.7");
        let pages_id = scan.new_object_id();
        let image = scan.add_object(Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image",
                "Width" => width, "Height" => height,
                "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8,
            },
            pixels,
        ));
        let content = scan.add_object(Stream::new(
            dictionary! {},
            b"q 595 0 0 842 0 0 cm /Skann Do Q".to_vec(),
        ));
        let page = scan.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Resources" => dictionary! { "XObject" => dictionary! { "Skann" => image } },
            "Contents" => content,
        });
        scan.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
            }),
        );
        let catalog = scan.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        scan.trailer.set("Root", catalog);
        let mut bytes = Vec::new();
        scan.save_to(&mut bytes).unwrap();

        let limits = ExtractionLimits {
            max_bytes: 64 * 1024 * 1024,
            timeout: Duration::from_secs(30),
            ..limits()
        };
        assert_eq!(
            pdf_text(&bytes, &limits).unwrap().trim(),
            "",
            "no text layer"
        );
        let text = extract(MediaType::Pdf, &bytes, &limits).unwrap();
        assert!(text.contains("eiendomsskatten"), "{text}");
    }

    #[test]
    fn limits_are_refusals() {
        let small = ExtractionLimits {
            max_bytes: 3,
            ..limits()
        };
        assert_eq!(
            extract(MediaType::PlainText, b"abcd", &small),
            Err(ExtractError::TooLarge(3))
        );
        assert!(extract(MediaType::Png, b"\x89PNG", &limits())
            .unwrap_err()
            .is_retryable());
        assert!(extract(MediaType::Pdf, b"%PDF-1.7 broken", &limits())
            .unwrap_err()
            .is_retryable());
        let short = ExtractionLimits {
            max_chars: 3,
            ..limits()
        };
        assert_eq!(
            extract(MediaType::PlainText, "æøåæ".as_bytes(), &short).unwrap(),
            "æøå"
        );
    }
}
