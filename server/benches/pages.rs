//! How fast Postkasse draws a letter's pages for the letter page, beside
//! hayro run bare on the same page.
//!
//! `cargo bench -p postkasse --bench pages [-- PAGES]` (default 200).
//!
//! One of our one-page letters, drawn 800 pixels wide (the width a desktop
//! browser asks for) as PNG:
//!
//! - Bare: `hayro::render` and the PNG encoding in a plain loop on one
//!   thread: the least a page can cost.
//! - Postkasse, one at a time: [`pages::Renderer::render_png`] as the page
//!   route calls it: the checks, a permit, a blocking thread, the time cap.
//! - Postkasse, 16 at once: the same with 16 requests waiting, so the
//!   permits (one per core) decide the pace.
//!
//! It also prints how long reading a page's size and text for the letter's
//! view takes ([`pages::Renderer::outline`]). It prints pages per second and
//! the ratios; nothing is asserted but that every picture is a PNG.

use bytes::Bytes;
use postkasse::pages::{self, PageLimits, Renderer};
use std::time::{Duration, Instant};

const WIDTH: u32 = 800;

fn main() {
    let pages: u32 = std::env::args()
        .skip(1)
        .find_map(|argument| argument.parse().ok())
        .unwrap_or(200);
    let pdf = Bytes::from(
        postkasse::pdf::letter_pdf(
            "Vedtak om bostøtte",
            "Kari Nordmann",
            &[
                "Søknaden om bostøtte for januar er innvilget.",
                "Beløpet blir utbetalt til kontonummeret du har oppgitt.",
                "Du kan klage på vedtaket innen seks uker.",
            ],
        )
        .expect("a letter"),
    );
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    println!(
        "A one-page letter drawn {WIDTH} px wide as PNG, {pages} pages each way, {cores} cores"
    );

    let started = Instant::now();
    for _ in 0..pages {
        let pdf = hayro::hayro_syntax::Pdf::new(std::sync::Arc::new(pdf.clone())).expect("a PDF");
        let page = &pdf.pages()[0];
        let scale = WIDTH as f32 / page.render_dimensions().0;
        let png = pages::render_on_white(page, &hayro::RenderCache::new(), scale)
            .into_png()
            .expect("a PNG");
        assert!(png.starts_with(b"\x89PNG"));
    }
    let bare = started.elapsed();

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let renderer = Renderer::new(PageLimits {
        timeout: Duration::from_secs(60),
        ..PageLimits::default()
    });
    let (one_at_a_time, sixteen_at_once, outline) = runtime.block_on(async {
        let started = Instant::now();
        for _ in 0..pages {
            let png = renderer
                .render_png(pdf.clone(), 1, WIDTH)
                .await
                .expect("drawn");
            assert!(png.starts_with(b"\x89PNG"));
        }
        let one_at_a_time = started.elapsed();

        let started = Instant::now();
        let mut waiting = tokio::task::JoinSet::new();
        for _ in 0..pages {
            let (renderer, pdf) = (renderer.clone(), pdf.clone());
            waiting.spawn(async move { renderer.render_png(pdf, 1, WIDTH).await });
            if waiting.len() >= 16 {
                waiting
                    .join_next()
                    .await
                    .expect("a task")
                    .expect("joined")
                    .expect("drawn");
            }
        }
        while let Some(done) = waiting.join_next().await {
            done.expect("joined").expect("drawn");
        }
        let sixteen_at_once = started.elapsed();

        let started = Instant::now();
        for _ in 0..pages {
            let outline = renderer.outline(pdf.clone()).await.expect("an outline");
            assert_eq!(outline.total, 1);
        }
        (one_at_a_time, sixteen_at_once, started.elapsed() / pages)
    });

    let rate = |elapsed: Duration| f64::from(pages) / elapsed.as_secs_f64();
    println!("bare hayro + PNG:              {:8.1} pages/s", rate(bare));
    println!(
        "Postkasse, one at a time:      {:8.1} pages/s  ratio {:.2}",
        rate(one_at_a_time),
        rate(one_at_a_time) / rate(bare)
    );
    println!(
        "Postkasse, 16 waiting:         {:8.1} pages/s  ratio {:.2} (bare × {cores} cores would be {:.1})",
        rate(sixteen_at_once),
        rate(sixteen_at_once) / rate(bare),
        rate(bare) * cores as f64
    );
    println!(
        "size and text of a page for the letter's view: {:.2} ms",
        outline.as_secs_f64() * 1000.0
    );
}
