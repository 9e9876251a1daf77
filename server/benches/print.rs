//! How fast print-ready letters are made, beside a bare lopdf merge.
//!
//! `cargo bench -p postkasse --bench print [-- LETTERS]` (default 10,000).
//!
//! Before any clock starts: 50 distinct sender documents of one to four
//! pages (Postkasse's own PDF letters, fonts embedded), and for each letter
//! a recipient, a check code and one or two of those documents. Then, on
//! every core (as the print chain's rounds run):
//!
//! - Postkasse: [`letter::assemble`] for each letter: the address sheet with
//!   its window text, QR code and check code, a blank back, the documents'
//!   pages placed by krilla, a blank end page when the count is odd, written
//!   out as one PDF.
//! - Bare lopdf, the same run: the same documents per letter merged into
//!   one PDF (objects renumbered, one page tree), written out. No address
//!   sheet, no padding: the least a merge can do.
//!
//! - The address sheets alone (the same letters without documents), to show
//!   where Postkasse's time goes.
//!
//! It prints letters and pages per second for each, and the ratio. Nothing is
//! asserted.

use lopdf::{dictionary, Document, Object, ObjectId};
use postkasse::print::{
    letter::{self, LetterToPrint},
    verification::VerificationCode,
    PostalAddress, PrintOrder,
};
use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Instant,
};
use uuid::Uuid;

const DOCUMENTS: usize = 50;

struct Letter {
    id: Uuid,
    code: VerificationCode,
    order: PrintOrder,
    documents: Vec<Arc<Vec<u8>>>,
}

fn sender_document(number: usize) -> Vec<u8> {
    let paragraphs: Vec<String> = (0..20)
        .map(|line| format!("Avsnitt {line} i dokument {number}: vi viser til søknaden din."))
        .collect();
    let paragraphs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    let pages = 1 + number % 4;
    let mut document = postkasse::pdf::new_document();
    for page_number in 0..pages {
        let mut page = document.start_page_with(postkasse::pdf::a4());
        let mut surface = page.surface();
        postkasse::pdf::text(
            &mut surface,
            60.0,
            72.0,
            16.0,
            &format!("Vedtak {number}, side {}", page_number + 1),
        );
        for (line, paragraph) in paragraphs.iter().enumerate() {
            postkasse::pdf::text(
                &mut surface,
                60.0,
                110.0 + 22.0 * line as f32,
                11.0,
                paragraph,
            );
        }
        surface.finish();
        page.finish();
    }
    postkasse::pdf::finish(document).unwrap()
}

/// The documents merged with lopdf: every object renumbered into one
/// document, the pages hung under one page tree.
fn lopdf_merge(documents: &[Arc<Vec<u8>>]) -> (Vec<u8>, usize) {
    let mut merged = Document::with_version("1.7");
    let pages_id = merged.new_object_id();
    let mut kids = Vec::new();
    for bytes in documents {
        let mut document = Document::load_mem(bytes).unwrap();
        document.renumber_objects_with(merged.max_id + 1);
        merged.max_id = document.max_id;
        let pages: BTreeMap<u32, ObjectId> = document.get_pages();
        for (_, page_id) in pages {
            if let Some(Object::Dictionary(page)) = document.objects.get_mut(&page_id) {
                page.set("Parent", pages_id);
            }
            kids.push(Object::Reference(page_id));
        }
        for (id, object) in document.objects {
            let is_tree = matches!(
                &object,
                Object::Dictionary(dictionary)
                    if dictionary.get(b"Type").is_ok_and(|kind| matches!(kind.as_name(), Ok(b"Catalog") | Ok(b"Pages")))
            );
            if !is_tree {
                merged.objects.insert(id, object);
            }
        }
    }
    let count = kids.len();
    merged.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count as i64,
            "MediaBox" => vec![0.into(), 0.into(), 595.28.into(), 841.89.into()],
        }),
    );
    let catalog = merged.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    merged.trailer.set("Root", catalog);
    let mut out = Vec::new();
    merged.save_to(&mut out).unwrap();
    (out, count)
}

/// Postkasse's print-ready letter with these documents: (pages, bytes).
fn print_ready(letter: &Letter, documents: &[Arc<Vec<u8>>]) -> (usize, usize) {
    let ready = letter::assemble(&LetterToPrint {
        letter: letter.id,
        code: &letter.code,
        order: &letter.order,
        sender_name: "Skatteetaten",
        check_url: "https://postkasse.example/kontroll",
        documents,
    })
    .unwrap();
    (ready.pages as usize, ready.pdf.len())
}

/// Runs `work` over the letters on every core; returns (seconds, pages, bytes).
fn on_every_core(
    letters: &[Letter],
    work: impl Fn(&Letter) -> (usize, usize) + Sync,
) -> (f64, usize, usize) {
    let next = AtomicUsize::new(0);
    let pages = AtomicUsize::new(0);
    let bytes = AtomicUsize::new(0);
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..cores {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(letter) = letters.get(index) else {
                    break;
                };
                let (letter_pages, letter_bytes) = work(letter);
                pages.fetch_add(letter_pages, Ordering::Relaxed);
                bytes.fetch_add(letter_bytes, Ordering::Relaxed);
            });
        }
    });
    (
        started.elapsed().as_secs_f64(),
        pages.into_inner(),
        bytes.into_inner(),
    )
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|argument| argument.parse().ok())
        .unwrap_or(10_000);
    let documents: Vec<Arc<Vec<u8>>> = (0..DOCUMENTS)
        .map(|number| Arc::new(sender_document(number)))
        .collect();
    let letters: Vec<Letter> = (0..count)
        .map(|number| {
            let mut chosen = vec![documents[number % DOCUMENTS].clone()];
            if number % 3 == 0 {
                chosen.push(documents[(number * 7 + 1) % DOCUMENTS].clone());
            }
            Letter {
                id: Uuid::new_v4(),
                code: VerificationCode::generate(),
                order: PrintOrder::with_defaults(
                    PostalAddress::norwegian(
                        &format!("Innbygger Nummer {number}"),
                        &format!("Storgata {}", number % 200 + 1),
                        "0155",
                        "Oslo",
                    )
                    .unwrap(),
                    None,
                ),
                documents: chosen,
            }
        })
        .collect();
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    println!("{count} letters, {DOCUMENTS} distinct sender documents, {cores} threads");

    let (bare_seconds, bare_pages, bare_bytes) = on_every_core(&letters, |letter| {
        let (bytes, pages) = lopdf_merge(&letter.documents);
        (pages, bytes.len())
    });
    let (seconds, pages, bytes) =
        on_every_core(&letters, |letter| print_ready(letter, &letter.documents));
    // Where the time goes: the same letters with no documents, only the
    // address sheet and its blank back.
    let (sheet_seconds, sheet_pages, sheet_bytes) =
        on_every_core(&letters, |letter| print_ready(letter, &[]));

    let report = |name: &str, seconds: f64, pages: usize, bytes: usize| {
        println!(
            "{name:<28} {:>8.0} letters/s  {:>8.0} pages/s  {:>6.1} s  {:>6.1} KiB/letter",
            count as f64 / seconds,
            pages as f64 / seconds,
            seconds,
            bytes as f64 / count as f64 / 1024.0
        );
    };
    report("bare lopdf merge", bare_seconds, bare_pages, bare_bytes);
    report("Postkasse print-ready", seconds, pages, bytes);
    report(
        "  of which address sheets",
        sheet_seconds,
        sheet_pages,
        sheet_bytes,
    );
    println!(
        "ratio (Postkasse / bare): {:.2} in pages per second, {:.2} in letters per second",
        (pages as f64 / seconds) / (bare_pages as f64 / bare_seconds),
        bare_seconds / seconds
    );
}
