//! Text from documents, for the index: PDF (with lopdf, already used to make
//! and read letters), HTML (tags, scripts and styles removed by ammonia) and
//! plain text. Images have no text here (there is no OCR).
//!
//! Extraction runs after the letter was acknowledged, in the indexer, on a
//! blocking thread with a time cap ([`ExtractionLimits::timeout`]). The memory
//! cap is approximated, not enforced by the operating system: documents above
//! `max_bytes` or `max_pages` are refused before parsing, lopdf is given a
//! limit on how much a page's content streams may decompress to, and the text
//! kept is capped at `max_chars`. A PDF that hits the time cap leaves its
//! thread running until the parser returns (a thread cannot be killed); a
//! subprocess with rlimits would give a hard cap and is not done yet.

use app::domain::MediaType;
use std::time::Duration;

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
    #[error("{0} has no text to extract")]
    NoText(&'static str),
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
    let mut text = match media_type {
        MediaType::Pdf => pdf_text(bytes, limits)?,
        MediaType::Html => html_text(&String::from_utf8_lossy(bytes)),
        MediaType::PlainText => String::from_utf8_lossy(bytes).into_owned(),
        MediaType::Png | MediaType::Jpeg => return Err(ExtractError::NoText("an image")),
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

    #[test]
    fn limits_are_refusals_and_images_have_no_text() {
        let small = ExtractionLimits {
            max_bytes: 3,
            ..limits()
        };
        assert_eq!(
            extract(MediaType::PlainText, b"abcd", &small),
            Err(ExtractError::TooLarge(3))
        );
        assert!(matches!(
            extract(MediaType::Png, b"\x89PNG", &limits()),
            Err(ExtractError::NoText(_))
        ));
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
