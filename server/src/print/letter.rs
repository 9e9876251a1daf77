//! The print-ready letter: one PDF per letter, as the print house prints it
//! duplex and folds it into a window envelope.
//!
//! - Page 1 is Postkasse's address sheet. The recipient stands in the C5
//!   window (15 mm from the left, 44 mm from the top, 105 × 35 mm) in an
//!   embedded font of 10–12 pt with no blank lines, and nothing else is in
//!   that box. Above it: the return address, post class and colour. Below
//!   it: the QR code return handling scans (the check page's address with
//!   the letter's id and check code) and the check code in words.
//! - Page 2 is the address sheet's blank back, so the sender's first page
//!   starts on a front side.
//! - Then every document's pages in order, placed as they are (krilla embeds
//!   them as form XObjects, fonts and all), and a blank page at the end when
//!   the count is odd, so the next letter in a batch starts on a front.
//!
//! Nothing is drawn in the left 18 mm, which the print house keeps for its
//! own control marks.

use super::{preflight::CONTROL_MARGIN_MM, verification::VerificationCode, PostalAddress};
use super::{PrintColour, PrintOrder};
use crate::pdf::{self, A4_POINTS, POINTS_PER_MM};
use krilla::{geom::Size, pdf::PdfDocument};
use std::sync::Arc;
use uuid::Uuid;

/// The C5 window envelope's window, in millimetres from the top left.
pub const WINDOW_MM: WindowBox = WindowBox {
    left: 15.0,
    top: 44.0,
    width: 105.0,
    height: 35.0,
};

#[derive(Debug, Clone, Copy)]
pub struct WindowBox {
    pub left: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
}

/// What goes on the address sheet, and the documents that follow it.
pub struct LetterToPrint<'a> {
    /// The letter's id in Postkasse, which return handling scans.
    pub letter: Uuid,
    pub code: &'a VerificationCode,
    pub order: &'a PrintOrder,
    /// Who sent it, named on the sheet when there is no return address.
    pub sender_name: &'a str,
    /// The public check page, e.g. `https://postkasse.example/kontroll`.
    pub check_url: &'a str,
    /// The PDF documents, main document first; they have passed preflight.
    pub documents: &'a [Arc<Vec<u8>>],
}

/// A print-ready letter.
#[derive(Debug)]
pub struct PrintReady {
    pub pdf: Vec<u8>,
    pub pages: u32,
    /// Sheets of paper, printed duplex.
    pub sheets: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum AssemblyError {
    #[error("document {index} cannot be read: {reason}")]
    Unreadable { index: usize, reason: String },
    #[error(transparent)]
    Writing(#[from] anyhow::Error),
}

/// The lines in the window: name, address lines, postcode and town, country.
pub fn window_lines(address: &PostalAddress) -> Vec<String> {
    let mut lines = vec![address.navn.clone(), address.adresselinje1.clone()];
    lines.extend(
        [
            &address.adresselinje2,
            &address.adresselinje3,
            &address.adresselinje4,
        ]
        .into_iter()
        .flatten()
        .cloned(),
    );
    if let (Some(postnummer), Some(poststed)) = (&address.postnummer, &address.poststed) {
        lines.push(format!("{postnummer} {poststed}"));
    }
    if let Some(country) = address.land.as_ref().or(address.landkode.as_ref()) {
        lines.push(country.to_uppercase());
    }
    lines
}

/// The address in the window's font size: 11 pt, or 10 pt when the lines are
/// many or long enough that 11 pt would not fit the box.
fn window_font_size(lines: &[String]) -> f32 {
    let longest = lines
        .iter()
        .map(|line| line.chars().count())
        .max()
        .unwrap_or(0);
    if lines.len() > 6 || longest > 44 {
        10.0
    } else {
        11.0
    }
}

/// The address to print the QR code with: the check page with the letter's
/// code and id.
pub fn check_link(check_url: &str, code: &VerificationCode, letter: Uuid) -> String {
    format!("{check_url}?kode={code}&brev={letter}")
}

/// Builds the letter. CPU-bound: call it off the async runtime.
pub fn assemble(letter: &LetterToPrint<'_>) -> Result<PrintReady, AssemblyError> {
    let sources = letter
        .documents
        .iter()
        .enumerate()
        .map(|(index, bytes)| {
            let pdf = krilla::pdf::Pdf::new(bytes.clone()).map_err(|error| {
                AssemblyError::Unreadable {
                    index,
                    reason: format!("{error:?}"),
                }
            })?;
            let pages = pdf.pages().len();
            Ok((PdfDocument::new(Arc::new(pdf)), pages))
        })
        .collect::<Result<Vec<_>, AssemblyError>>()?;
    let mut document = pdf::new_document();
    address_sheet(&mut document, letter)?;
    // The sheet's back.
    document.start_page_with(pdf::a4()).finish();
    let mut pages = 2;
    let size = Size::from_wh(A4_POINTS.0, A4_POINTS.1).expect("A4 is a size");
    for (source, source_pages) in &sources {
        for index in 0..*source_pages {
            let mut page = document.start_page_with(pdf::a4());
            let mut surface = page.surface();
            surface.draw_pdf_page(source, size, index);
            surface.finish();
            page.finish();
            pages += 1;
        }
    }
    if pages % 2 == 1 {
        document.start_page_with(pdf::a4()).finish();
        pages += 1;
    }
    Ok(PrintReady {
        pdf: pdf::finish(document)?,
        pages,
        sheets: pages / 2,
    })
}

fn address_sheet(
    document: &mut krilla::Document,
    letter: &LetterToPrint<'_>,
) -> Result<(), AssemblyError> {
    let mm = |value: f32| value * POINTS_PER_MM;
    // Everything starts right of the control margin.
    let left = mm(CONTROL_MARGIN_MM + 2.0);
    let mut page = document.start_page_with(pdf::a4());
    let mut surface = page.surface();

    // Above the window: how the letter is to be handled, and where it goes back.
    let handling = format!(
        "{}-post · {}",
        match letter.order.post_class {
            super::PostClass::A => "A",
            super::PostClass::B => "B",
        },
        match letter.order.colour {
            PrintColour::Colour => "Farge",
            PrintColour::BlackAndWhite => "Svart-hvitt",
        }
    );
    pdf::text(&mut surface, left, mm(15.0), 8.0, &handling);
    let return_lines = match &letter.order.return_address {
        Some(address) => window_lines(address),
        None => vec![letter.sender_name.to_owned()],
    };
    let mut y = mm(15.0);
    pdf::text(&mut surface, mm(125.0), y, 7.0, "Returadresse:");
    for line in return_lines {
        y += 9.0;
        pdf::text(&mut surface, mm(125.0), y, 7.0, &line);
    }

    // The window: the recipient, and nothing else.
    let lines = window_lines(&letter.order.address);
    let size = window_font_size(&lines);
    let leading = size * 1.2;
    let mut baseline = mm(WINDOW_MM.top + 3.0) + size;
    let window_left = mm(WINDOW_MM.left + 5.0);
    for line in &lines {
        pdf::text(&mut surface, window_left, baseline, size, line);
        baseline += leading;
    }

    // Below the window: the code return handling scans, and the check code.
    let link = check_link(letter.check_url, letter.code, letter.letter);
    let code = qrcode::QrCode::new(link.as_bytes())
        .map_err(|error| anyhow::anyhow!("the QR code cannot hold the link: {error}"))?;
    let modules = code.width();
    let qr_size = mm(24.0);
    let module = qr_size / modules as f32;
    let (qr_left, qr_top) = (left, mm(90.0));
    let colours = code.to_colors();
    // Runs of dark modules, row by row, each one rectangle, all one path.
    let mut runs = Vec::new();
    for row in 0..modules {
        let mut column = 0;
        while column < modules {
            if colours[row * modules + column] == qrcode::Color::Dark {
                let start = column;
                while column < modules && colours[row * modules + column] == qrcode::Color::Dark {
                    column += 1;
                }
                runs.push((
                    qr_left + start as f32 * module,
                    qr_top + row as f32 * module,
                    (column - start) as f32 * module,
                    module,
                ));
            } else {
                column += 1;
            }
        }
    }
    pdf::filled_rects(&mut surface, runs);
    let text_left = qr_left + qr_size + mm(5.0);
    pdf::text(
        &mut surface,
        text_left,
        qr_top + 10.0,
        9.0,
        &format!("Kontrollkode: {}", letter.code),
    );
    pdf::text(
        &mut surface,
        text_left,
        qr_top + 24.0,
        8.0,
        "Er du i tvil om brevet er ekte? Skriv inn koden på",
    );
    pdf::text(
        &mut surface,
        text_left,
        qr_top + 35.0,
        8.0,
        letter.check_url,
    );
    pdf::text(
        &mut surface,
        text_left,
        qr_top + 52.0,
        7.0,
        &format!("Brev-ID: {}", letter.letter),
    );
    surface.finish();
    page.finish();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::print::preflight::{self, PreflightRules};

    fn order() -> PrintOrder {
        // A Sámi name: the bundled font's subset must cover it.
        PrintOrder::with_defaults(
            PostalAddress::norwegian("Ánde Ŋuvttoš Čáhppes", "Storgata 1", "0155", "Oslo").unwrap(),
            None,
        )
    }

    fn document(title: &str, pages: usize) -> Arc<Vec<u8>> {
        let mut document = pdf::new_document();
        for page_number in 0..pages {
            let mut page = document.start_page_with(pdf::a4());
            let mut surface = page.surface();
            pdf::text(
                &mut surface,
                70.0,
                80.0,
                12.0,
                &format!("{title} {page_number}"),
            );
            surface.finish();
            page.finish();
        }
        Arc::new(pdf::finish(document).unwrap())
    }

    fn assembled(documents: &[Arc<Vec<u8>>]) -> PrintReady {
        let code = VerificationCode::generate();
        let order = order();
        assemble(&LetterToPrint {
            letter: Uuid::new_v4(),
            code: &code,
            order: &order,
            sender_name: "Skatteetaten",
            check_url: "http://127.0.0.1:3000/kontroll",
            documents,
        })
        .unwrap()
    }

    #[test]
    fn each_letter_is_an_address_sheet_then_its_documents_on_fronts() {
        // 2 (sheet and back) + 1 + 2 = 5 pages, padded to 6: three sheets.
        let ready = assembled(&[document("Vedtak", 1), document("Vedlegg", 2)]);
        assert_eq!((ready.pages, ready.sheets), (6, 3));
        let parsed = lopdf::Document::load_mem(&ready.pdf).unwrap();
        assert_eq!(parsed.get_pages().len(), 6);
        assert_eq!(parsed.version, "1.7");
        let first = parsed.extract_text(&[1]).unwrap();
        assert!(
            first.contains("Ánde Ŋuvttoš Čáhppes") && first.contains("0155 Oslo"),
            "{first}"
        );
        // The sender's pages are placed as form XObjects (their text is
        // checked with pdftotext in tests/api/print_chain.rs); the backs
        // and the padding are blank.
        let pages = parsed.get_pages();
        let places_a_form = |number: u32| {
            parsed
                .get_and_decode_page_content(pages[&number])
                .unwrap()
                .operations
                .iter()
                .any(|operation| operation.operator == "Do")
        };
        let placed: Vec<bool> = (1..=6).map(places_a_form).collect();
        assert_eq!(placed, [false, false, true, true, true, false]);
    }

    #[test]
    fn the_letter_passes_the_preflight_it_asks_of_senders() {
        let ready = assembled(&[document("Vedtak", 3)]);
        assert_eq!(ready.pages, 6);
        assert_eq!(
            preflight::check(&ready.pdf, &PreflightRules::default()),
            vec![]
        );
    }

    #[test]
    fn a_foreign_address_ends_with_its_country_and_has_no_blank_lines() {
        let address = crate::print::RawPostalAddress {
            navn: Some("Karin Svensson".into()),
            adresselinje1: Some("Drottninggatan 1".into()),
            adresselinje2: Some("  ".into()),
            land: Some("Sverige".into()),
            ..Default::default()
        }
        .parse("mottaker")
        .unwrap();
        assert_eq!(
            window_lines(&address),
            ["Karin Svensson", "Drottninggatan 1", "SVERIGE"]
        );
    }
}
