//! PDF documents Postkasse makes itself: plain letters with real,
//! extractable text, for the demo, the CLI's test letters and the tests.

use anyhow::Context;
use lopdf::{
    content::{Content, Operation},
    dictionary, Document, Object, Stream, StringFormat,
};

/// A one-page A4 PDF letter with real, extractable text.
pub fn letter_pdf(title: &str, addressee: &str, paragraphs: &[&str]) -> anyhow::Result<Vec<u8>> {
    let mut document = Document::with_version("1.5");
    let pages_id = document.new_object_id();
    // Helvetica with WinAnsiEncoding covers æ, ø and å.
    let font_id = document.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id =
        document.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut operations = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 16.into()]),
        Operation::new("TL", vec![22.into()]),
        Operation::new("Td", vec![60.into(), 770.into()]),
        Operation::new("Tj", vec![win_ansi(title)?]),
        Operation::new("Tf", vec!["F1".into(), 11.into()]),
        Operation::new("T*", vec![]),
        Operation::new("Tj", vec![win_ansi(&format!("Til: {addressee}"))?]),
    ];
    for paragraph in paragraphs {
        operations.push(Operation::new("T*", vec![]));
        operations.push(Operation::new("Tj", vec![win_ansi(paragraph)?]));
    }
    operations.push(Operation::new("ET", vec![]));
    let content = Content { operations };
    let content_id = document.add_object(Stream::new(dictionary! {}, content.encode()?));
    let page_id = document.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
    });
    document.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
            "Resources" => resources_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    document.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    document.save_to(&mut bytes)?;
    Ok(bytes)
}

/// PDF's WinAnsiEncoding agrees with Latin-1 for every character we write.
fn win_ansi(text: &str) -> anyhow::Result<Object> {
    let bytes = text
        .chars()
        .map(|character| u8::try_from(u32::from(character)).context("demo text must be Latin-1"))
        .collect::<anyhow::Result<Vec<u8>>>()?;
    Ok(Object::String(bytes, StringFormat::Literal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::MediaType;

    #[test]
    fn generated_letters_are_pdfs_that_parse_back() {
        let bytes = letter_pdf(
            "Vedtak om foreldrepenger",
            "Kari Nordmann",
            &["Vi har innvilget søknaden."],
        )
        .unwrap();
        assert!(MediaType::Pdf.matches_content(&bytes));
        let parsed = Document::load_mem(&bytes).unwrap();
        assert_eq!(parsed.get_pages().len(), 1);
    }
}
