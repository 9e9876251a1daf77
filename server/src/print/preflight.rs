//! Preflight: the checks a print house runs on a document before it will
//! print it, run here when a letter is headed for paper so that the sender
//! hears at once (a 400 for `utskrift`, a `feil` receipt for a digital letter
//! that falls back to print) rather than days later from the print house.
//!
//! The rules follow what Norwegian print providers publish for their
//! validators: A4 portrait, PDF 1.7 at most, every font embedded, no
//! encryption, a page limit (Digipost's is 20), and the left 18 mm of every
//! page kept free for the print house's control marks. Structure is read with
//! `lopdf`; the margin is checked on pixels, rendered by `hayro`, because a
//! content stream can draw into the margin in too many ways to read it off.
//!
//! Postkasse prints its own address sheet in front of every letter (see
//! [`super::letter`]), so the sender's first page never shows through the
//! envelope window and its address area is not checked.

use hayro::{
    hayro_interpret::InterpreterSettings, hayro_syntax::Pdf, render, RenderCache, RenderSettings,
};
use lopdf::{Dictionary, Document, Object, ObjectId};
use std::{collections::HashSet, fmt, sync::Arc};

/// Millimetres in a PDF point.
pub const MM_PER_POINT: f32 = 25.4 / 72.0;
/// A4, in millimetres.
pub const A4_MM: (f32, f32) = (210.0, 297.0);
/// How far a page may be off A4 and still count as A4.
const A4_TOLERANCE_MM: f32 = 3.0;
/// The strip at the left of every page the print house prints control marks in.
pub const CONTROL_MARGIN_MM: f32 = 18.0;
/// The newest PDF version print houses take.
const MAX_VERSION: (u32, u32) = (1, 7);
/// Pixels per point the margin is rendered at (108 dpi): a stroke of a
/// quarter of a millimetre still covers a pixel.
const MARGIN_RENDER_SCALE: f32 = 1.5;
/// A pixel darker than this (0–255, alpha-weighted) is content.
const DARK: u16 = 200;

/// What preflight allows; the page limit is the operator's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreflightRules {
    pub max_pages: u32,
}

impl Default for PreflightRules {
    fn default() -> Self {
        // Digipost's validator's limit.
        Self { max_pages: 20 }
    }
}

/// The rule a document breaks.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    NotPdf,
    Unreadable,
    Encrypted,
    Version { found: String },
    TooManyPages { pages: u32, max: u32 },
    NotA4Portrait { width_mm: f32, height_mm: f32 },
    FontNotEmbedded { font: String },
    ContentInControlMargin,
}

impl Rule {
    /// A stable name for the rule, for problems and receipts.
    pub fn code(&self) -> &'static str {
        match self {
            Rule::NotPdf => "not-pdf",
            Rule::Unreadable => "unreadable",
            Rule::Encrypted => "encrypted",
            Rule::Version { .. } => "pdf-version",
            Rule::TooManyPages { .. } => "page-limit",
            Rule::NotA4Portrait { .. } => "a4-portrait",
            Rule::FontNotEmbedded { .. } => "fonts-embedded",
            Rule::ContentInControlMargin => "left-margin",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::NotPdf => write!(f, "only PDF documents can be printed"),
            Rule::Unreadable => write!(f, "the PDF cannot be read"),
            Rule::Encrypted => write!(f, "the PDF is encrypted"),
            Rule::Version { found } => write!(
                f,
                "PDF version {found} is newer than {}.{}",
                MAX_VERSION.0, MAX_VERSION.1
            ),
            Rule::TooManyPages { pages, max } => {
                write!(f, "{pages} pages is more than the {max} a letter may have")
            }
            Rule::NotA4Portrait {
                width_mm,
                height_mm,
            } => write!(
                f,
                "the page is {width_mm:.0} × {height_mm:.0} mm, not A4 portrait (210 × 297 mm)"
            ),
            Rule::FontNotEmbedded { font } => write!(f, "font {font} is not embedded"),
            Rule::ContentInControlMargin => write!(
                f,
                "there is content in the left {CONTROL_MARGIN_MM:.0} mm, which the print house keeps for control marks"
            ),
        }
    }
}

/// One broken rule: where, and which.
#[derive(Debug, Clone, PartialEq)]
pub struct PreflightProblem {
    /// 1-based; `None` for the document as a whole.
    pub page: Option<u32>,
    pub rule: Rule,
}

impl fmt::Display for PreflightProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.page {
            Some(page) => write!(f, "page {page}: {} ({})", self.rule, self.rule.code()),
            None => write!(f, "{} ({})", self.rule, self.rule.code()),
        }
    }
}

/// Every rule the document breaks; empty when it can be printed. CPU-bound:
/// call it off the async runtime.
pub fn check(bytes: &[u8], rules: &PreflightRules) -> Vec<PreflightProblem> {
    let whole = |rule| vec![PreflightProblem { page: None, rule }];
    if !bytes.starts_with(b"%PDF-") {
        return whole(Rule::NotPdf);
    }
    let document = match Document::load_mem(bytes) {
        Ok(document) => document,
        // lopdf refuses what it cannot decrypt; the file says why.
        Err(_) if declares_encryption(bytes) => return whole(Rule::Encrypted),
        Err(_) => return whole(Rule::Unreadable),
    };
    if document.is_encrypted() || document.was_encrypted() {
        return whole(Rule::Encrypted);
    }
    let mut problems = Vec::new();
    if let Some(found) = too_new(&document) {
        problems.push(PreflightProblem {
            page: None,
            rule: Rule::Version { found },
        });
    }
    let pages = document.get_pages();
    let count = pages.len() as u32;
    if count > rules.max_pages {
        problems.push(PreflightProblem {
            page: None,
            rule: Rule::TooManyPages {
                pages: count,
                max: rules.max_pages,
            },
        });
    }
    let mut reported_fonts = HashSet::new();
    for (&number, &page_id) in &pages {
        if let Some((width_mm, height_mm)) = page_size_mm(&document, page_id) {
            let (a4_width, a4_height) = A4_MM;
            if (width_mm - a4_width).abs() > A4_TOLERANCE_MM
                || (height_mm - a4_height).abs() > A4_TOLERANCE_MM
            {
                problems.push(PreflightProblem {
                    page: Some(number),
                    rule: Rule::NotA4Portrait {
                        width_mm,
                        height_mm,
                    },
                });
            }
        }
        for font in unembedded_fonts(&document, page_id) {
            // A font shared by many pages is named once, on its first page.
            if reported_fonts.insert(font.clone()) {
                problems.push(PreflightProblem {
                    page: Some(number),
                    rule: Rule::FontNotEmbedded { font },
                });
            }
        }
    }
    problems.extend(
        pages_with_margin_content(bytes)
            .into_iter()
            .map(|page| PreflightProblem {
                page: Some(page),
                rule: Rule::ContentInControlMargin,
            }),
    );
    problems.sort_by_key(|problem| problem.page.unwrap_or(0));
    problems
}

fn declares_encryption(bytes: &[u8]) -> bool {
    bytes
        .windows(b"/Encrypt".len())
        .any(|window| window == b"/Encrypt")
}

/// The document's version when it is newer than print houses take: the
/// header's, or the catalog's `/Version` when that is newer (PDF 1.4 onwards
/// lets an update raise it there).
fn too_new(document: &Document) -> Option<String> {
    let catalog_version = document
        .catalog()
        .ok()
        .and_then(|catalog| catalog.get(b"Version").ok())
        .and_then(|version| version.as_name().ok())
        .map(|name| String::from_utf8_lossy(name).into_owned());
    [Some(document.version.clone()), catalog_version]
        .into_iter()
        .flatten()
        .find(|version| parse_version(version).is_none_or(|found| found > MAX_VERSION))
}

fn parse_version(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// A page as it is shown: its (inherited) crop box, else media box, turned
/// by its `/Rotate`.
fn page_size_mm(document: &Document, page_id: ObjectId) -> Option<(f32, f32)> {
    let page_box = inherited(document, page_id, b"CropBox")
        .or_else(|| inherited(document, page_id, b"MediaBox"))?;
    let numbers = document.dereference(page_box).ok()?.1.as_array().ok()?;
    let values: Vec<f32> = numbers
        .iter()
        .filter_map(|number| document.dereference(number).ok()?.1.as_float().ok())
        .collect();
    let [left, bottom, right, top] = values[..] else {
        return None;
    };
    let (width, height) = (
        (right - left).abs() * MM_PER_POINT,
        (top - bottom).abs() * MM_PER_POINT,
    );
    let rotation = inherited(document, page_id, b"Rotate")
        .and_then(|rotate| document.dereference(rotate).ok()?.1.as_i64().ok())
        .unwrap_or(0);
    Some(if rotation.rem_euclid(180) == 90 {
        (height, width)
    } else {
        (width, height)
    })
}

/// A page attribute, looked up the page tree as PDF's inheritance says.
fn inherited<'a>(document: &'a Document, page_id: ObjectId, key: &[u8]) -> Option<&'a Object> {
    let mut node = document.get_dictionary(page_id).ok()?;
    // The depth bound stops a malicious /Parent loop.
    for _ in 0..64 {
        if let Ok(value) = node.get(key) {
            return Some(value);
        }
        let parent = node.get(b"Parent").ok()?.as_reference().ok()?;
        node = document.get_dictionary(parent).ok()?;
    }
    None
}

/// The names of the fonts a page uses (directly, or in the forms it draws)
/// that are not embedded in the file.
fn unembedded_fonts(document: &Document, page_id: ObjectId) -> Vec<String> {
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    if let Some(resources) = inherited(document, page_id, b"Resources") {
        walk_resources(document, resources, &mut seen, &mut found);
    }
    found
}

fn walk_resources(
    document: &Document,
    resources: &Object,
    seen: &mut HashSet<ObjectId>,
    found: &mut Vec<String>,
) {
    if let Object::Reference(id) = resources {
        if !seen.insert(*id) {
            return;
        }
    }
    let Some(resources) = dictionary(document, resources) else {
        return;
    };
    if let Some(fonts) = resources
        .get(b"Font")
        .ok()
        .and_then(|fonts| dictionary(document, fonts))
    {
        for (_, font) in fonts.iter() {
            if let Some(font) = dictionary(document, font) {
                if !is_embedded(document, font) {
                    found.push(font_name(font));
                }
            }
        }
    }
    if let Some(objects) = resources
        .get(b"XObject")
        .ok()
        .and_then(|objects| dictionary(document, objects))
    {
        for (_, object) in objects.iter() {
            let Ok(id) = object.as_reference() else {
                continue;
            };
            if !seen.insert(id) {
                continue;
            }
            if let Ok(Object::Stream(form)) = document.get_object(id) {
                let is_form = form
                    .dict
                    .get(b"Subtype")
                    .and_then(Object::as_name)
                    .is_ok_and(|subtype| subtype == b"Form");
                if let (true, Ok(inner)) = (is_form, form.dict.get(b"Resources")) {
                    walk_resources(document, inner, seen, found);
                }
            }
        }
    }
}

fn dictionary<'a>(document: &'a Document, object: &'a Object) -> Option<&'a Dictionary> {
    document.dereference(object).ok()?.1.as_dict().ok()
}

/// Type 3 fonts are drawn by the file itself; every other kind needs its
/// program in the file (`FontFile`, `FontFile2` or `FontFile3`), a composite
/// font in its descendant.
fn is_embedded(document: &Document, font: &Dictionary) -> bool {
    let subtype = font
        .get(b"Subtype")
        .and_then(Object::as_name)
        .unwrap_or(b"");
    match subtype {
        b"Type3" => true,
        b"Type0" => font
            .get(b"DescendantFonts")
            .ok()
            .and_then(|descendants| document.dereference(descendants).ok()?.1.as_array().ok())
            .and_then(|descendants| descendants.first())
            .and_then(|descendant| dictionary(document, descendant))
            .is_some_and(|descendant| has_font_program(document, descendant)),
        _ => has_font_program(document, font),
    }
}

fn has_font_program(document: &Document, font: &Dictionary) -> bool {
    font.get(b"FontDescriptor")
        .ok()
        .and_then(|descriptor| dictionary(document, descriptor))
        .is_some_and(|descriptor| {
            [&b"FontFile"[..], b"FontFile2", b"FontFile3"]
                .iter()
                .any(|key| descriptor.has(key))
        })
}

fn font_name(font: &Dictionary) -> String {
    font.get(b"BaseFont")
        .and_then(Object::as_name)
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .unwrap_or_else(|_| "(unnamed)".to_owned())
}

/// The 1-based pages with anything dark in the control margin. Only the
/// margin is rendered: the pixmap is cut to its width.
fn pages_with_margin_content(bytes: &[u8]) -> Vec<u32> {
    let Ok(pdf) = Pdf::new(Arc::new(bytes.to_vec())) else {
        return Vec::new();
    };
    let settings = InterpreterSettings::default();
    let cache = RenderCache::new();
    let margin_pixels = (CONTROL_MARGIN_MM / MM_PER_POINT * MARGIN_RENDER_SCALE).floor() as u16;
    let mut found = Vec::new();
    for (index, page) in pdf.pages().iter().enumerate() {
        let pixmap = render(
            page,
            &cache,
            &settings,
            &RenderSettings {
                x_scale: MARGIN_RENDER_SCALE,
                y_scale: MARGIN_RENDER_SCALE,
                width: Some(margin_pixels),
                height: None,
                bg_color: hayro::vello_cpu::color::palette::css::WHITE,
            },
        );
        let dark = pixmap.data().iter().any(|pixel| {
            // Premultiplied on white: what is not covered shows white.
            let on_white = |channel: u8| u16::from(channel) + (255 - u16::from(pixel.a));
            (on_white(pixel.r) + on_white(pixel.g) + on_white(pixel.b)) / 3 < DARK
        });
        if dark {
            found.push(index as u32 + 1);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::{content::Operation, dictionary, Stream};

    /// A one-page PDF with the given page box and content, its font embedded
    /// or not.
    fn pdf(media_box: [f32; 4], operations: Vec<Operation>, embed_font: bool) -> Vec<u8> {
        let mut document = Document::with_version("1.7");
        let pages_id = document.new_object_id();
        let mut font = dictionary! {
            "Type" => "Font", "Subtype" => "TrueType", "BaseFont" => "Arial",
        };
        if embed_font {
            let program = document.add_object(Stream::new(dictionary! {}, b"font".to_vec()));
            let descriptor = document.add_object(dictionary! {
                "Type" => "FontDescriptor", "FontName" => "Arial", "FontFile2" => program,
            });
            font.set("FontDescriptor", descriptor);
        }
        let font_id = document.add_object(font);
        let content = lopdf::content::Content { operations };
        let content_id =
            document.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
        let page_id = document.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
        });
        document.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages",
                "Kids" => vec![page_id.into()],
                "Count" => 1,
                "MediaBox" => media_box.iter().map(|&value| value.into()).collect::<Vec<Object>>(),
            }),
        );
        let catalog = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        document.trailer.set("Root", catalog);
        let mut bytes = Vec::new();
        document.save_to(&mut bytes).unwrap();
        bytes
    }

    const A4: [f32; 4] = [0.0, 0.0, 595.28, 841.89];

    /// A filled square at `x` points from the left.
    fn square_at(x: f32) -> Vec<Operation> {
        vec![
            Operation::new("re", vec![x.into(), 400.into(), 20.into(), 20.into()]),
            Operation::new("f", vec![]),
        ]
    }

    fn codes(problems: &[PreflightProblem]) -> Vec<(Option<u32>, &'static str)> {
        problems
            .iter()
            .map(|problem| (problem.page, problem.rule.code()))
            .collect()
    }

    #[test]
    fn postkasses_own_letters_pass() {
        let letter = crate::pdf::letter_pdf("Vedtak", "Kari Nordmann", &["Innvilget."]).unwrap();
        assert_eq!(check(&letter, &PreflightRules::default()), vec![]);
    }

    #[test]
    fn a_clean_a4_page_passes() {
        let bytes = pdf(A4, square_at(100.0), true);
        assert_eq!(check(&bytes, &PreflightRules::default()), vec![]);
    }

    #[test]
    fn a_mark_in_the_left_margin_is_found_and_one_just_outside_is_not() {
        // 18 mm is 51 pt.
        let inside = pdf(A4, square_at(30.0), true);
        assert_eq!(
            codes(&check(&inside, &PreflightRules::default())),
            [(Some(1), "left-margin")]
        );
        let outside = pdf(A4, square_at(53.0), true);
        assert!(check(&outside, &PreflightRules::default()).is_empty());
    }

    #[test]
    fn letter_size_and_landscape_pages_are_refused() {
        let letter = pdf([0.0, 0.0, 612.0, 792.0], vec![], true);
        let problems = check(&letter, &PreflightRules::default());
        assert_eq!(codes(&problems), [(Some(1), "a4-portrait")]);
        assert_eq!(
            problems[0].to_string(),
            "page 1: the page is 216 × 279 mm, not A4 portrait (210 × 297 mm) (a4-portrait)"
        );
        let landscape = pdf([0.0, 0.0, 841.89, 595.28], vec![], true);
        assert_eq!(
            codes(&check(&landscape, &PreflightRules::default())),
            [(Some(1), "a4-portrait")]
        );
    }

    #[test]
    fn an_unembedded_font_is_named() {
        let bytes = pdf(A4, vec![], false);
        let problems = check(&bytes, &PreflightRules::default());
        assert_eq!(
            problems,
            [PreflightProblem {
                page: Some(1),
                rule: Rule::FontNotEmbedded {
                    font: "Arial".into()
                }
            }]
        );
    }

    #[test]
    fn the_page_limit_is_the_operators() {
        let bytes = pdf(A4, vec![], true);
        assert_eq!(
            codes(&check(&bytes, &PreflightRules { max_pages: 0 })),
            [(None, "page-limit")]
        );
    }

    #[test]
    fn a_newer_pdf_version_and_an_encrypted_file_are_refused() {
        let mut newer = pdf(A4, vec![], true);
        newer[5..8].copy_from_slice(b"2.0");
        assert_eq!(
            codes(&check(&newer, &PreflightRules::default())),
            [(None, "pdf-version")]
        );
        let mut encrypted = Document::load_mem(&pdf(A4, vec![], true)).unwrap();
        let handler = encrypted.add_object(dictionary! { "Filter" => "Standard", "V" => 9 });
        encrypted.trailer.set("Encrypt", handler);
        let mut bytes = Vec::new();
        encrypted.save_to(&mut bytes).unwrap();
        assert_eq!(
            codes(&check(&bytes, &PreflightRules::default())),
            [(None, "encrypted")]
        );
    }

    #[test]
    fn what_is_not_a_pdf_is_said_so() {
        assert_eq!(
            codes(&check(b"hello", &PreflightRules::default())),
            [(None, "not-pdf")]
        );
        assert_eq!(
            codes(&check(b"%PDF-1.7 broken", &PreflightRules::default())),
            [(None, "unreadable")]
        );
    }
}
