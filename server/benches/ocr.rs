//! How fast Postkasse reads the text of images (OCR), beside Tesseract run
//! bare on the same image.
//!
//! `cargo bench -p postkasse --bench ocr [-- PAGES]` (default 20).
//!
//! Before any clock starts, one of our one-page letters is rendered to a
//! PNG at 150 dpi by poppler's `pdftoppm`, as a scanner or a phone would
//! make it. Then, one page at a time, on one thread:
//!
//! - Postkasse: [`extract::extract`] on the PNG, as the indexer calls it on
//!   a blocking thread: Tesseract's Norwegian model as a subprocess, fed
//!   and read through pipes, watched against the time cap.
//! - Bare: `tesseract page.png stdout -l nor`, the same engine and model on
//!   the same file, with nothing around it: the least a page can cost.
//!
//! It prints pages per second for each and the ratio, and checks that both
//! read the same word. Nothing else is asserted.

use app::domain::MediaType;
use postkasse::search::extract::{self, ExtractionLimits};
use std::{process::Command, time::Duration, time::Instant};

fn main() {
    let pages: u32 = std::env::args()
        .skip(1)
        .find_map(|argument| argument.parse().ok())
        .unwrap_or(20);
    let directory = tempfile::tempdir().expect("a directory");
    let pdf = postkasse::pdf::letter_pdf(
        "Vedtak om bostøtte",
        "Kari Nordmann",
        &[
            "Søknaden om bostøtte for januar er innvilget.",
            "Beløpet blir utbetalt til kontonummeret du har oppgitt.",
            "Du kan klage på vedtaket innen seks uker.",
        ],
    )
    .expect("a letter");
    std::fs::write(directory.path().join("brev.pdf"), pdf).expect("written");
    let rendered = Command::new("pdftoppm")
        .args(["-png", "-r", "150", "-singlefile", "brev.pdf", "side"])
        .current_dir(directory.path())
        .status()
        .expect("pdftoppm (poppler-utils) is installed");
    assert!(rendered.success());
    let png_path = directory.path().join("side.png");
    let png = std::fs::read(&png_path).expect("the page");
    let limits = ExtractionLimits {
        max_bytes: 64 * 1024 * 1024,
        max_pages: 10,
        max_decompressed_bytes: 64 * 1024 * 1024,
        max_chars: 1_000_000,
        timeout: Duration::from_secs(60),
    };
    println!(
        "OCR of a {} KB PNG page (150 dpi), {pages} pages each way",
        png.len() / 1024
    );

    let started = Instant::now();
    for _ in 0..pages {
        let text = extract::extract(MediaType::Png, &png, &limits).expect("read");
        assert!(text.contains("innvilget"), "{text}");
    }
    let ours = started.elapsed();

    let started = Instant::now();
    for _ in 0..pages {
        let output = Command::new("tesseract")
            .arg(&png_path)
            .args(["stdout", "-l", "nor"])
            .output()
            .expect("tesseract is installed");
        assert!(String::from_utf8_lossy(&output.stdout).contains("innvilget"));
    }
    let bare = started.elapsed();

    let rate = |elapsed: Duration| f64::from(pages) / elapsed.as_secs_f64();
    println!("Postkasse (extract):   {:8.2} pages/s", rate(ours));
    println!("bare tesseract:        {:8.2} pages/s", rate(bare));
    println!("ratio Postkasse/bare:  {:8.2}", rate(ours) / rate(bare));
}
