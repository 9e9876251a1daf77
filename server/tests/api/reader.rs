//! A PDF letter read inside its page: the pages and their text in the
//! letter's view and in the server-rendered page (no JavaScript needed),
//! each page's picture checked against poppler's own rendering of the same
//! page, the same rules as the document itself (another citizen, the login
//! level), bad widths and pages refused, and reading logged once.

use crate::helpers::{citizen, on_both_backends, spawn_app, test_letter, Backend, TEST_SENDER};
use app::domain::{OrgNr, SecurityLevel};
use postkasse::broker::client::OutgoingDocument;
use reqwest::{header, StatusCode};
use serde_json::Value;

const FIRST_PAGE: &str = "Vedtak om skattefradrag";
const SECOND_PAGE: &str = "Klagerett innen seks uker";

fn two_pages() -> Vec<u8> {
    postkasse::pdf::pages_pdf(&[FIRST_PAGE, SECOND_PAGE]).expect("a PDF")
}

fn two_page_letter(
    recipient: &app::domain::Fnr,
    title: &str,
) -> postkasse::broker::client::OutgoingLetter {
    let mut letter = test_letter(&OrgNr::parse(TEST_SENDER).unwrap(), recipient, title);
    letter.main = OutgoingDocument {
        file_name: "vedtak.pdf".to_owned(),
        mime: "application/pdf".to_owned(),
        title: title.to_owned(),
        bytes: two_pages(),
    };
    letter
}

/// The letter as the letter page gets it (`open_letter`).
async fn letter_view(
    app: &crate::helpers::TestApp,
    letter: app::domain::LetterId,
    session: &str,
) -> Value {
    app.server_fn_as("open_letter", &[("id", letter.to_string())], session)
        .await
        .json()
        .await
        .unwrap()
}

/// A PNG's width, height and grey levels.
fn grey_pixels(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size().expect("a size")];
    let frame = reader.next_frame(&mut buffer).expect("pixels");
    let channels = frame.color_type.samples();
    let grey = buffer[..frame.buffer_size()]
        .chunks(channels)
        .map(|pixel| {
            let rgb = &pixel[..channels.min(3)];
            (rgb.iter().map(|&channel| u32::from(channel)).sum::<u32>() / rgb.len() as u32) as u8
        })
        .collect();
    (frame.width, frame.height, grey)
}

/// Poppler's rendering of the PDF's page `number`, `width` pixels wide.
fn poppler_page(pdf: &[u8], number: u32, width: u32) -> Vec<u8> {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("in.pdf");
    std::fs::write(&input, pdf).unwrap();
    let output = directory.path().join("out");
    let status = std::process::Command::new("pdftoppm")
        .args([
            "-png",
            "-singlefile",
            "-f",
            &number.to_string(),
            "-l",
            &number.to_string(),
        ])
        .args(["-scale-to-x", &width.to_string(), "-scale-to-y", "-1"])
        .arg(&input)
        .arg(&output)
        .status()
        .expect("pdftoppm (poppler-utils) runs");
    assert!(status.success());
    std::fs::read(directory.path().join("out.png")).unwrap()
}

async fn a_pdf_letter_is_read_page_by_page_in_its_page(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (kari, ola) = (citizen(3), citizen(4));
    let letter = app
        .send_letter(&two_page_letter(&kari, "Skattevedtak"))
        .await;
    let session = app.login_as(&kari).await;

    let view = letter_view(&app, letter, &session).await;
    let pages = &view["documents"][0]["pages"];
    assert_eq!(pages["total"], 2, "{view}");
    assert_eq!(pages["pages"].as_array().unwrap().len(), 2);
    let first = &pages["pages"][0];
    assert_eq!(first["src"], format!("/dokumenter/{letter}/0/sider/1"));
    assert_eq!(
        (first["width"].as_u64(), first["height"].as_u64()),
        (Some(595), Some(842))
    );
    let text = |page: &Value| page["text"].as_str().unwrap().to_owned();
    assert!(text(first).contains(FIRST_PAGE), "{first}");
    assert!(
        !text(first).contains(SECOND_PAGE),
        "each page has its own text"
    );
    assert!(text(&pages["pages"][1]).contains(SECOND_PAGE));

    // Without JavaScript the page already holds the pictures and the text.
    let html = app
        .get_as(&format!("/brev/{letter}"), &session)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("/dokumenter/{letter}/0/sider/2?bredde=480 480w")),
        "{html}"
    );
    assert!(
        html.contains(SECOND_PAGE),
        "the second page's text is in the page"
    );

    // The picture is the page: poppler draws the same page at the same
    // width, and the two agree nearly everywhere.
    let response = app
        .get_as(
            &format!("/dokumenter/{letter}/0/sider/1?bredde=800"),
            &session,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "image/png");
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let ours = grey_pixels(&response.bytes().await.unwrap());
    let poppler = grey_pixels(&poppler_page(&two_pages(), 1, 800));
    assert_eq!((ours.0, ours.1), (800, 1131));
    assert_eq!(ours.0, poppler.0);
    assert!(
        ours.1.abs_diff(poppler.1) <= 1,
        "{} against {}",
        ours.1,
        poppler.1
    );
    let inked = |pixels: &[u8]| pixels.iter().filter(|&&grey| grey < 128).count();
    assert!(inked(&ours.2) > 500, "the title is drawn");
    // Two renderers place glyph edges a fraction of a pixel apart, so the
    // ink is compared where it is (its bounding box) and, in blocks of
    // 16 × 16 pixels, how much there is.
    let (width, height) = (ours.0 as usize, ours.1.min(poppler.1) as usize);
    let ink_box = |pixels: &[u8]| {
        let (mut left, mut top, mut right, mut bottom) = (usize::MAX, usize::MAX, 0, 0);
        for (index, _) in pixels[..width * height]
            .iter()
            .enumerate()
            .filter(|(_, &grey)| grey < 128)
        {
            let (x, y) = (index % width, index / width);
            (left, top, right, bottom) = (left.min(x), top.min(y), right.max(x), bottom.max(y));
        }
        [left, top, right, bottom]
    };
    let (our_box, poppler_box) = (ink_box(&ours.2), ink_box(&poppler.2));
    for (ours_edge, poppler_edge) in our_box.iter().zip(poppler_box) {
        assert!(
            ours_edge.abs_diff(poppler_edge) <= 4,
            "the ink lies at {our_box:?} here and at {poppler_box:?} in poppler's picture"
        );
    }
    let block_means = |pixels: &[u8]| {
        let mut means = Vec::new();
        for block_y in (0..height - 15).step_by(16) {
            for block_x in (0..width - 15).step_by(16) {
                let sum: u32 = (0..16)
                    .flat_map(|dy| (0..16).map(move |dx| (dx, dy)))
                    .map(|(dx, dy)| u32::from(pixels[(block_y + dy) * width + block_x + dx]))
                    .sum();
                means.push(sum / 256);
            }
        }
        means
    };
    let (our_blocks, poppler_blocks) = (block_means(&ours.2), block_means(&poppler.2));
    let inked_blocks = our_blocks
        .iter()
        .zip(&poppler_blocks)
        .filter(|(a, b)| **a < 250 || **b < 250)
        .count();
    let different_blocks = our_blocks
        .iter()
        .zip(&poppler_blocks)
        .filter(|(a, b)| a.abs_diff(**b) > 40)
        .count();
    assert!(
        different_blocks * 10 <= inked_blocks,
        "{different_blocks} of {inked_blocks} inked blocks differ from poppler's"
    );

    // Another citizen, widths off the list, pages that are not there.
    let ola_session = app.login_as(&ola).await;
    for (path, who, status) in [
        (
            format!("/dokumenter/{letter}/0/sider/1?bredde=800"),
            &ola_session,
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/dokumenter/{letter}/0/sider/3?bredde=800"),
            &session,
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/dokumenter/{letter}/0/sider/0?bredde=800"),
            &session,
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/dokumenter/{letter}/1/sider/1?bredde=800"),
            &session,
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/dokumenter/{letter}/0/sider/1?bredde=799"),
            &session,
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/dokumenter/{letter}/0/sider/1"),
            &session,
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let response = app.get_as(&path, who).await;
        assert_eq!(response.status(), status, "{path}");
        if status == StatusCode::BAD_REQUEST {
            assert_eq!(
                response.headers()[header::CONTENT_TYPE],
                "application/problem+json"
            );
            let problem: Value = response.json().await.unwrap();
            assert!(problem.to_string().contains("bredde"), "{problem}");
        }
    }

    // Two pictures and the page again: the log says "read" once.
    app.get_as(
        &format!("/dokumenter/{letter}/0/sider/2?bredde=480"),
        &session,
    )
    .await;
    let view = letter_view(&app, letter, &session).await;
    let reads = view["access_log"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["kind"] == "Read")
        .collect::<Vec<_>>();
    assert_eq!(reads.len(), 1, "{}", view["access_log"]);
    assert_eq!(reads[0]["document"], 0);
}

async fn a_high_level_letters_pages_need_a_high_login(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let kari = citizen(5);
    let mut letter = two_page_letter(&kari, "Helseopplysninger");
    letter.security_level = SecurityLevel::High;
    letter.nonsensitive_title = "Brev fra Helsenorge".to_owned();
    let id = app.send_letter(&letter).await;
    let page = format!("/dokumenter/{id}/0/sider/1?bredde=480");

    let substantial = app.login_as(&kari).await;
    let view = letter_view(&app, id, &substantial).await;
    assert_eq!(view["documents"], serde_json::json!([]), "{view}");
    assert_eq!(
        app.get_as(&page, &substantial).await.status(),
        StatusCode::FORBIDDEN
    );

    let high = app.login_at_high(&kari).await;
    let view = letter_view(&app, id, &high).await;
    assert_eq!(view["documents"][0]["pages"]["total"], 2);
    assert_eq!(app.get_as(&page, &high).await.status(), StatusCode::OK);
}

on_both_backends!(
    a_pdf_letter_is_read_page_by_page_in_its_page,
    a_high_level_letters_pages_need_a_high_login,
);
