//! The print chain end to end, on a test clock: an `utskrift` message and a
//! reserved citizen's decision letter wait for the 17:00 cut-off, go into a
//! batch in the drop directory, and a print house written for the tests
//! (`tests/tools/print_house.py`, a separate process) answers. The letters'
//! PDFs are checked with poppler-utils and qpdf, not with Postkasse's own
//! code; the sender gets each receipt once however often answers are read;
//! and the public check page knows the printed letter by its code.

use crate::{
    helpers::{
        citizen, on_both_backends, spawn_app_with_clock, Backend, TestApp, TestSender, TEST_SENDER,
    },
    login::server_fn_at,
    messages::{body_of, conversation_of, receipt_kinds},
    operator::{get, operator_cookie},
    provider_network::eventually,
};
use app::domain::Fnr;
use postkasse::{
    clock::{Clock as _, ManualClock},
    print::{batch::Manifest, Store as _},
};
use reqwest::StatusCode;
use serde_json::Value;
use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
};

/// Runs a command line tool and returns its output; fails the test when it fails.
pub(crate) fn tool(program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|error| panic!("{program} cannot be run ({error}); .ci/setup installs it"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn print_house(drop: &Path, args: &[&str]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/print_house.py");
    let mut all = vec![drop.to_str().unwrap()];
    all.extend_from_slice(args);
    tool(script.to_str().unwrap(), &all)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The batches in the drop, with their folders.
pub(crate) fn batches_in(drop: &Path) -> Vec<(PathBuf, Manifest)> {
    let Ok(entries) = std::fs::read_dir(drop.join("outgoing")) else {
        return Vec::new();
    };
    let mut found: Vec<(PathBuf, Manifest)> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| !path.file_name().unwrap().to_str().unwrap().starts_with('.'))
        .map(|path| {
            let manifest =
                serde_json::from_slice(&std::fs::read(path.join("manifest.json")).unwrap())
                    .unwrap();
            (path, manifest)
        })
        .collect();
    found.sort_by_key(|(path, _)| path.clone());
    found
}

/// Answer files the server has not yet put aside.
fn unread_answers(drop: &Path) -> usize {
    std::fs::read_dir(drop.join("responses"))
        .map(|entries| {
            entries
                .filter(|entry| {
                    let path = entry.as_ref().unwrap().path();
                    path.is_file() && path.extension().is_some_and(|ext| ext == "json")
                })
                .count()
        })
        .unwrap_or(0)
}

/// Every check the issue asks of a print-ready letter, by tools that share
/// no code with Postkasse.
pub(crate) fn check_print_ready_pdf(pdf: &Path, address_lines: &[&str]) {
    let file = pdf.to_str().unwrap();
    // qpdf's structural check.
    tool("qpdf", &["--check", file]);
    // A4 (595.28 x 841.89 pt) and PDF 1.7 at most.
    let info = tool("pdfinfo", &[file]);
    assert!(
        info.contains("Page size:       595.28 x 841.89 pts (A4)"),
        "{info}"
    );
    let version = info
        .lines()
        .find_map(|line| line.strip_prefix("PDF version:"))
        .unwrap()
        .trim()
        .to_owned();
    assert!(version.as_str() <= "1.7", "PDF version {version}");
    let pages: usize = info
        .lines()
        .find_map(|line| line.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(pages % 2, 0, "each letter ends on a back side");
    // Every font embedded: pdffonts' "emb" column says yes.
    let fonts = tool("pdffonts", &[file]);
    let font_lines: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!font_lines.is_empty(), "{fonts}");
    for line in font_lines {
        let columns: Vec<&str> = line.split_whitespace().collect();
        // name type [encoding] emb sub uni object ID: emb is the fifth from the end.
        assert_eq!(columns[columns.len() - 5], "yes", "not embedded: {line}");
    }
    // The window (15 mm from the left, 44 mm from the top, 105 x 35 mm) holds
    // exactly the address lines. In points: 42.5, 124.7, 297.6 x 99.2.
    let window = tool(
        "pdftotext",
        &[
            "-f", "1", "-l", "1", "-x", "43", "-y", "125", "-W", "297", "-H", "99", "-layout",
            file, "-",
        ],
    );
    let lines: Vec<&str> = window
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && *line != "\u{c}")
        .collect();
    assert_eq!(lines, address_lines, "the window shows: {window:?}");
    // Nothing dark in the left 18 mm of any page (51 pt; 72 dpi is 1 px a pt).
    let scratch = tempfile::tempdir().unwrap();
    let prefix = scratch.path().join("page");
    tool(
        "pdftoppm",
        &[
            "-gray",
            "-r",
            "72",
            "-x",
            "0",
            "-y",
            "0",
            "-W",
            "51",
            "-H",
            "842",
            file,
            prefix.to_str().unwrap(),
        ],
    );
    let mut rendered = 0;
    for entry in std::fs::read_dir(scratch.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let pixels = pgm_pixels(&bytes);
        assert!(
            pixels.iter().all(|&value| value > 200),
            "a dark pixel in the left margin of {file}"
        );
        rendered += 1;
    }
    assert_eq!(rendered, pages);
}

/// The pixels of a binary PGM (P5) image.
fn pgm_pixels(bytes: &[u8]) -> &[u8] {
    // Header: "P5", width, height, maxval, each followed by whitespace.
    let mut fields = 0;
    let mut index = 0;
    while fields < 4 {
        while bytes[index].is_ascii_whitespace() {
            index += 1;
        }
        while !bytes[index].is_ascii_whitespace() {
            index += 1;
        }
        fields += 1;
    }
    &bytes[index + 1..]
}

/// The letter's receipts, by kind, for the agency's conversation.
fn kinds_in(receipts: &[Value], conversation: &str) -> Vec<String> {
    let for_letter: Vec<Value> = receipts
        .iter()
        .filter(|receipt| conversation_of(receipt) == conversation)
        .cloned()
        .collect();
    receipt_kinds(&for_letter)
}

async fn statuses(app: &TestApp, sender: &TestSender, message_id: &str) -> Vec<(String, String)> {
    let response = sender.statuses(app, message_id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let statuses: Vec<Value> = response.json().await.unwrap();
    statuses
        .iter()
        .map(|status| {
            (
                status["status"].as_str().unwrap().to_owned(),
                status["beskrivelse"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

async fn check_code(app: &TestApp, code: &str) -> (StatusCode, Value) {
    let response = server_fn_at(
        &app.client,
        &app.address,
        "check_paper_letter",
        &[("kode", code.to_owned())],
        "",
    )
    .await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn paper_letters_are_batched_at_the_cut_off_printed_and_answered(backend: Backend) {
    // The test clock starts now (agencies' grants are signed with the real
    // time), and the cut-off is two hours ahead in Norwegian time.
    let start = chrono::Utc::now();
    let clock = Arc::new(ManualClock::starting_at(start));
    let start = clock.now();
    let cut_off_time = (start + chrono::Duration::hours(2))
        .with_timezone(&chrono_tz::Europe::Oslo)
        .format("%H:%M")
        .to_string();
    let cut_offs = vec![cut_off_time];
    let Some(app) = spawn_app_with_clock(
        backend,
        {
            let cut_offs = cut_offs.clone();
            move |settings| {
                settings.print.cut_offs = cut_offs;
                // The default: ten checks a minute per client.
                settings.limits.paper_check = postkasse::limits::Quota {
                    burst: 10,
                    period_seconds: 60,
                };
            }
        },
        clock.clone(),
    )
    .await
    else {
        return;
    };
    let mut sender = app.sender(TEST_SENDER, "Skatteetaten").await;
    // A token that outlives the jump of the clock.
    sender.token = app.issue_token(&["digitalpostinnbygger:send"]).await;

    // A reserved citizen's decision goes to paper.
    let kari = citizen(5);
    app.reserve_with_address(&kari, "Kari Nordmann", clock.now())
        .await;
    let decision = crate::helpers::test_letter(&sender.org_nr(), &kari, "Vedtak om skatt");
    assert_eq!(
        sender.send(&app, &decision).await.status(),
        StatusCode::CREATED
    );

    // An utskrift message, its returns shredded with a notice.
    let printed = crate::helpers::test_letter(&sender.org_nr(), &citizen(6), "Brev på papir");
    let (mut message, package) = crate::helpers::print_message_for(&printed, "Per Hansen");
    message["standardBusinessDocument"]["utskrift"]["retur"]["returposthaandtering"] =
        "MAKULERING_MED_MELDING".into();
    let response = sender
        .send_parts(&app, "", message.to_string(), package)
        .await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{}",
        response.text().await.unwrap()
    );
    // No receipt yet: the print house has not taken them.
    assert!(sender.receipts(&app, "").await.is_empty());

    // Before the cut-off, nothing leaves.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(batches_in(&app.print_drop).is_empty());
    let jobs = app.database.print_jobs(false).await.unwrap();
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().all(|job| job.state == "waiting"));

    // A minute past the cut-off: one batch (both B post, black and white, C5).
    clock.advance(chrono::Duration::minutes(2 * 60 + 1));
    let (folder, manifest) = eventually("the batch in the drop", || async {
        let mut batches = batches_in(&app.print_drop);
        (batches.len() == 1).then(|| batches.remove(0))
    })
    .await;
    assert_eq!(manifest.letters.len(), 2);
    let expected_cut_off = postkasse::print::schedule::CutOffs::parse(&cut_offs)
        .unwrap()
        .latest(clock.now())
        .unwrap();
    assert!(expected_cut_off > start);
    assert_eq!(manifest.cut_off, expected_cut_off);
    let row_of = |message_id| {
        jobs.iter()
            .find(|job| job.message_id == message_id)
            .unwrap()
            .message_row
    };
    let (kari_row, per_row) = (row_of(decision.message_id), row_of(printed.message_id));
    for (row, name, title) in [
        (kari_row, "Kari Nordmann", "Vedtak om skatt"),
        (per_row, "Per Hansen", "Brev på papir"),
    ] {
        let letter = manifest
            .letters
            .iter()
            .find(|letter| letter.letter == row)
            .unwrap();
        assert_eq!((letter.pages, letter.sheets), (4, 2));
        assert_eq!(letter.address.navn, name);
        let pdf = folder.join(&letter.file);
        check_print_ready_pdf(&pdf, &[name, "Storgata 1", "0155 Oslo"]);
        // The sender's document follows the address sheet and its blank back.
        let third = tool(
            "pdftotext",
            &["-f", "3", "-l", "3", pdf.to_str().unwrap(), "-"],
        );
        assert!(third.contains(title), "{third}");
    }

    // The print house answers, a minute apart: it takes the batch, posts it,
    // and later two letters come back (Kari's goes back to the sender; Per's
    // is shredded, with a notice).
    let answer = |args: Vec<String>| {
        let (drop, clock) = (app.print_drop.clone(), clock.clone());
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let answered = print_house(&drop, &args);
            eventually("the answers read", || async {
                (unread_answers(&drop) == 0).then_some(())
            })
            .await;
            clock.advance(chrono::Duration::minutes(1));
            answered
        }
    };
    let to_strings = |args: &[&str]| args.iter().map(|arg| arg.to_string()).collect::<Vec<_>>();
    assert_eq!(answer(to_strings(&["accept"])).await.len(), 2);
    assert_eq!(
        receipt_kinds(&sender.receipts(&app, "").await),
        ["mottakskvittering", "mottakskvittering"]
    );
    answer(to_strings(&["post"])).await;
    answer(to_strings(&[
        "return",
        &kari_row.to_string(),
        "ukjent adresse",
    ]))
    .await;
    answer(to_strings(&["return", &per_row.to_string(), "flyttet"])).await;
    // The print house sends everything again: nothing is counted twice.
    answer(to_strings(&["accept"])).await;
    answer(to_strings(&["post"])).await;

    let receipts = sender.receipts(&app, "").await;
    assert_eq!(
        kinds_in(&receipts, &decision.conversation_id.to_string()),
        ["mottakskvittering", "leveringskvittering"]
    );
    assert_eq!(
        kinds_in(&receipts, &printed.conversation_id.to_string()),
        [
            "mottakskvittering",
            "leveringskvittering",
            "returpostkvittering"
        ]
    );
    let returned = receipts
        .iter()
        .find(|receipt| receipt_kinds(std::slice::from_ref(receipt)) == ["returpostkvittering"])
        .unwrap();
    assert!(body_of(returned, "returpostkvittering").is_object());

    // The sender follows the letter in its statuses.
    let kari_statuses = statuses(&app, &sender, &decision.message_id.to_string()).await;
    let codes: Vec<&str> = kari_statuses
        .iter()
        .map(|(code, _)| code.as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "OPPRETTET",
            "SENDT",
            "SENDT",
            "SENDT",
            "SENDT",
            "SENDT",
            "FEILET"
        ],
        "{kari_statuses:?}"
    );
    assert!(
        kari_statuses[2].1.contains("utskriftsbunke") && kari_statuses[2].1.contains("B-post, C5")
    );
    assert!(kari_statuses[3].1.contains("levert til trykkeriet"));
    assert_eq!(kari_statuses[5].1, "postlagt");
    assert_eq!(
        kari_statuses[6].1,
        "kom i retur og er sendt til returadressen: ukjent adresse"
    );

    // The public check page knows the printed letter by the code on it.
    let kari_pdf = folder.join(format!("{kari_row}.pdf"));
    let sheet = tool(
        "pdftotext",
        &["-f", "1", "-l", "1", kari_pdf.to_str().unwrap(), "-"],
    );
    let code = sheet
        .lines()
        .find_map(|line| line.trim().strip_prefix("Kontrollkode: "))
        .expect("the code is printed")
        .to_owned();
    let (status, outcome) = check_code(&app, &code.to_lowercase()).await;
    assert_eq!(status, StatusCode::OK);
    let genuine = &outcome["Genuine"];
    assert_eq!(genuine["sender_name"], "Skatteetaten");
    assert_eq!(genuine["sender_org_nr"], TEST_SENDER);
    assert_eq!(genuine["title"], "Vedtak om skatt");
    let sent_at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(genuine["sent_at"].clone()).unwrap();
    assert_eq!(sent_at, start);
    // A made-up code shows nothing.
    let (_, outcome) = check_code(&app, "7K3QD-M9X2P").await;
    assert_eq!(outcome, "Unknown");
    // Guessing is cut off: ten checks a minute per client.
    let mut refused = None;
    for attempt in 0..20 {
        let (status, outcome) = check_code(&app, "7K3QD-M9X2P").await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(outcome, "TooManyAttempts");
            refused = Some(attempt);
            break;
        }
    }
    assert_eq!(refused, Some(8), "the 11th check of the minute is refused");
    // And the real code is refused too while the client is blocked.
    let (status, _) = check_code(&app, &code).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

/// A reserved citizen's letter whose document a print house would refuse is
/// accepted (it was a valid digital letter) and answered with a feil
/// receipt naming the document, page and rule; nothing is queued.
async fn a_letter_that_cannot_be_printed_gets_a_feil_receipt(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app(backend).await else {
        return;
    };
    let sender = app.sender(TEST_SENDER, "Skatteetaten").await;
    let kari: Fnr = citizen(7);
    app.reserve_with_address(&kari, "Kari Nordmann", chrono::Utc::now())
        .await;
    let mut letter = crate::helpers::test_letter(&sender.org_nr(), &kari, "Vedtak");
    letter.main.bytes = preflight_samples::letter_size();
    assert_eq!(
        sender.send(&app, &letter).await.status(),
        StatusCode::CREATED
    );
    assert!(app.database.print_jobs(true).await.unwrap().is_empty());
    let receipts = sender.receipts(&app, "").await;
    assert_eq!(receipt_kinds(&receipts), ["feil"]);
    let details = body_of(&receipts[0], "feil")["detaljer"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        details.contains("dokumentpakke.hoveddokument")
            && details.contains("page 1")
            && details.contains("(a4-portrait)"),
        "{details}"
    );
}

/// An `utskrift` message with documents print houses refuse gets a 400 that
/// names each document, page and rule: text in the margin, an unembedded
/// font, a Letter-size page and an encrypted file.
async fn unprintable_documents_are_refused_by_name(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app(backend).await else {
        return;
    };
    let sender = app.sender(TEST_SENDER, "Skatteetaten").await;
    let samples = [
        (
            "margin.pdf",
            preflight_samples::text_in_margin(),
            "page 1",
            "(left-margin)",
        ),
        (
            "font.pdf",
            preflight_samples::unembedded_font(),
            "page 1",
            "font Helvetica is not embedded",
        ),
        (
            "letter.pdf",
            preflight_samples::letter_size(),
            "page 1",
            "(a4-portrait)",
        ),
        (
            "encrypted.pdf",
            preflight_samples::encrypted(),
            "encrypted",
            "(encrypted)",
        ),
    ];
    for (file_name, bytes, place, rule) in samples {
        let mut letter = crate::helpers::test_letter(&sender.org_nr(), &citizen(8), "Brev");
        letter.main.file_name = file_name.to_owned();
        letter.main.bytes = bytes;
        let (message, package) = crate::helpers::print_message_for(&letter, "Per Hansen");
        let response = sender
            .send_parts(&app, "", message.to_string(), package)
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{file_name}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = response.json().await.unwrap();
        let fields = problem["invalid-params"].as_array().unwrap();
        assert!(
            fields.iter().any(|field| {
                let reason = field["reason"].as_str().unwrap_or_default();
                field["name"] == "dokumentpakke.hoveddokument"
                    && reason.contains(file_name)
                    && reason.contains(place)
                    && reason.contains(rule)
            }),
            "{file_name}: {problem}"
        );
    }
    assert!(app.database.print_jobs(true).await.unwrap().is_empty());
}

/// PDFs a print house refuses: written plainly (each a valid PDF with one
/// fault), and encrypted by an independent tool, qpdf.
mod preflight_samples {
    use super::tool;

    const A4: &str = "0 0 595.28 841.89";

    /// A one-page PDF: `media_box` and content as given, with the standard
    /// Helvetica font (not embedded) only when `font`.
    fn plain(media_box: &str, content: &str, font: bool) -> Vec<u8> {
        let resources = if font {
            "<< /Font << /F1 5 0 R >> >>"
        } else {
            "<< >>"
        };
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [{media_box}] /Contents 4 0 R /Resources {resources} >>"
            ),
            format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        ];
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (index, object) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
        }
        let xref = pdf.len();
        pdf.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for offset in offsets {
            pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        pdf
    }

    /// A bar 5 mm from the left edge, where the control marks go.
    pub fn text_in_margin() -> Vec<u8> {
        plain(A4, "0 0 0 rg 14 400 20 120 re f", false)
    }

    pub fn unembedded_font() -> Vec<u8> {
        plain(A4, "BT /F1 12 Tf 100 700 Td (Hei) Tj ET", true)
    }

    /// US Letter, 8.5 x 11 inches; nothing else wrong.
    pub fn letter_size() -> Vec<u8> {
        plain("0 0 612 792", "0 0 0 rg 100 100 50 50 re f", false)
    }

    /// Postkasse's own letter, encrypted by qpdf (AES-256, a user password).
    pub fn encrypted() -> Vec<u8> {
        let scratch = tempfile::tempdir().unwrap();
        let base = scratch.path().join("base.pdf");
        let out = scratch.path().join("out.pdf");
        std::fs::write(
            &base,
            postkasse::pdf::letter_pdf("Brev", "Per", &["Tekst."]).unwrap(),
        )
        .unwrap();
        tool(
            "qpdf",
            &[
                "--encrypt",
                "user",
                "owner",
                "256",
                "--",
                base.to_str().unwrap(),
                out.to_str().unwrap(),
            ],
        );
        std::fs::read(out).unwrap()
    }
}

/// Letters in the crash test.
const CRASH_LETTERS: usize = 100;

/// The print house answers each of 100 letters in a file of its own (200
/// files: accepted, then posted), and the real `postkasse serve` process is
/// killed with SIGKILL while its print worker reads them, then started again. Every letter ends with exactly one
/// mottakskvittering and one leveringskvittering. Where the kill lands
/// among reading a file, recording it and putting it aside is up to
/// timing; every such point leaves the file to be read again.
async fn each_answer_becomes_one_receipt_across_a_sigkill(backend: Backend) {
    let Some(app) = spawn_app_with_clock(
        backend,
        // The server's own worker stays out of the way: the processes do the work.
        |settings| settings.print.poll_milliseconds = 3_600_000,
        Arc::new(postkasse::clock::SystemClock),
    )
    .await
    else {
        return;
    };
    let sender = app.sender(TEST_SENDER, "Skatteetaten").await;
    for number in 0..CRASH_LETTERS {
        let letter =
            crate::helpers::test_letter(&sender.org_nr(), &citizen(9), &format!("Brev {number}"));
        let (message, package) = crate::helpers::print_message_for(&letter, "Per Hansen");
        let response = sender
            .send_parts(&app, "", message.to_string(), package)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let batched = app.run_cli(&["print", "batch"]).await;
    assert!(
        batched.status.success(),
        "{}",
        String::from_utf8_lossy(&batched.stderr)
    );
    let answered = print_house(&app.print_drop, &["accept", "--per-letter"]);
    assert_eq!(answered.len(), CRASH_LETTERS);
    print_house(&app.print_drop, &["post", "--per-letter"]);
    assert_eq!(unread_answers(&app.print_drop), 2 * CRASH_LETTERS);

    let answered_letters = || async {
        app.database
            .print_jobs(true)
            .await
            .unwrap()
            .iter()
            .filter(|job| job.state != "batched")
            .count()
    };
    // The real server, as a process on the same database, blobs and drop,
    // reads the answers; it is killed with SIGKILL while it does.
    let scratch = tempfile::tempdir().unwrap();
    let config = scratch.path().join("print.toml");
    std::fs::write(
        &config,
        format!(
            "[print]\ncut_offs = []\npoll_milliseconds = 20\ndrop_directory = {:?}\n",
            app.print_drop
        ),
    )
    .unwrap();
    let server = crate::crash::Environment {
        database_url: app.database_url.clone(),
        blobs: app.blob_directory.clone(),
        scratch: scratch.path().to_path_buf(),
        port: 0,
        config: Some(config),
    };
    let (mut process, _) = server.start().await;
    eventually("the first answers recorded", || async {
        (answered_letters().await >= 10).then_some(())
    })
    .await;
    process.start_kill().unwrap();
    process.wait().await.unwrap();
    let left = unread_answers(&app.print_drop);
    assert!(
        left > 0,
        "the server read every answer before it was killed"
    );

    let (mut process, _) = server.start().await;
    eventually("every answer read after the restart", || async {
        (unread_answers(&app.print_drop) == 0).then_some(())
    })
    .await;
    process.start_kill().unwrap();
    process.wait().await.unwrap();

    let receipts = crate::helpers::receipts_at(
        &app.client,
        &app.url("/messages/in?kanal=&page_size=1000"),
        &sender.token,
    )
    .await;
    let mut per_conversation: std::collections::BTreeMap<String, Vec<String>> =
        std::collections::BTreeMap::new();
    for receipt in &receipts {
        per_conversation
            .entry(conversation_of(receipt))
            .or_default()
            .extend(receipt_kinds(std::slice::from_ref(receipt)));
    }
    assert_eq!(per_conversation.len(), CRASH_LETTERS);
    for kinds in per_conversation.values() {
        assert_eq!(kinds, &["mottakskvittering", "leveringskvittering"]);
    }
    let jobs = app.database.print_jobs(true).await.unwrap();
    assert!(jobs.iter().all(|job| job.state == "posted"));
    println!(
        "killed with {left} of {} answer files unread",
        2 * CRASH_LETTERS
    );
}

/// An `utskrift` message from the test agency for `name`, accepted.
async fn send_print_letter(app: &TestApp, recipient: &Fnr, name: &str) {
    let sender = app.sender(TEST_SENDER, "Skatteetaten").await;
    let letter = crate::helpers::test_letter(&sender.org_nr(), recipient, "Brev på papir");
    let (message, package) = crate::helpers::print_message_for(&letter, name);
    let response = sender
        .send_parts(app, "", message.to_string(), package)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// The console: an operator follows a letter from the queue into a batch,
/// downloads the batch and the letter (each download in the letter's log),
/// sees the chart, and sends the batch again; no one else sees any of it.
async fn operators_follow_the_queue_batches_and_letters(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app(backend).await else {
        return;
    };
    send_print_letter(&app, &citizen(10), "Ola Nordmann").await;
    let row = app.database.print_jobs(false).await.unwrap()[0].message_row;

    // Nobody but an operator gets in.
    let citizen_session = app.login_as(&citizen(10)).await;
    for path in [
        "/drift/utskrift".to_owned(),
        format!("/drift/utskrift/brev/{row}"),
        format!("/drift/utskrift/brev/{row}/last-ned"),
    ] {
        for cookie in [
            "".to_owned(),
            format!("__Host-postkasse-session={citizen_session}"),
        ] {
            let (status, page) = get(&app, &path, &cookie).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
            assert!(!page.contains("utskriftskøen"), "{path}: {page}");
        }
    }
    let operator = operator_cookie(&app).await;

    // The letter waits in the queue; the chart and its table are there.
    let (status, page) = get(&app, "/drift/utskrift", &operator).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains(&format!("/drift/utskrift/brev/{row}")),
        "{page}"
    );
    assert!(page.contains("<svg"), "the chart is drawn on the server");
    assert!(page.contains("Brev per dag") && page.contains("Papir"));

    let batched = app.run_cli(&["print", "batch"]).await;
    assert!(batched.status.success());
    let (_, manifest) = batches_in(&app.print_drop).remove(0);
    let batch = manifest.batch;
    let (_, page) = get(&app, "/drift/utskrift", &operator).await;
    assert!(
        page.contains(&format!("/drift/utskrift/bunke/{batch}")),
        "{page}"
    );

    let (status, page) = get(&app, &format!("/drift/utskrift/bunke/{batch}"), &operator).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Ola Nordmann, 0155"), "{page}");
    assert!(page.contains(&format!("/drift/utskrift/bunke/{batch}/last-ned")));

    // Downloads: the batch as a zip, the letter as its PDF.
    let zip = app
        .client
        .get(app.url(&format!("/drift/utskrift/bunke/{batch}/last-ned")))
        .header(reqwest::header::COOKIE, &operator)
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status(), StatusCode::OK);
    assert_eq!(
        zip.headers()[reqwest::header::CONTENT_TYPE],
        "application/zip"
    );
    let scratch = tempfile::tempdir().unwrap();
    let zip_file = scratch.path().join("batch.zip");
    std::fs::write(&zip_file, zip.bytes().await.unwrap()).unwrap();
    let listing = tool(
        "python3",
        &["-m", "zipfile", "-l", zip_file.to_str().unwrap()],
    );
    assert!(
        listing.contains("manifest.json") && listing.contains(&format!("{row}.pdf")),
        "{listing}"
    );
    let pdf = app
        .client
        .get(app.url(&format!("/drift/utskrift/brev/{row}/last-ned")))
        .header(reqwest::header::COOKIE, &operator)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-1.7"));

    // The letter's page: its timeline and both downloads.
    let (status, page) = get(&app, &format!("/drift/utskrift/brev/{row}"), &operator).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("lagt i utskriftskøen") && page.contains("utskriftsbunke"),
        "{page}"
    );
    assert!(
        page.contains("lastet ned med bunken") && page.contains("lastet ned alene"),
        "{page}"
    );
    let (status, _) = get(
        &app,
        "/drift/utskrift/brev/00000000-0000-0000-0000-000000000000",
        &operator,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Sent again: handed over a second time (the drop keeps the first).
    let resend = app
        .client
        .post(app.url("/api/resend_print_batch"))
        .header(reqwest::header::COOKIE, &operator)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[("id", batch.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(resend.status(), StatusCode::OK);
    eventually("the batch handed over again", || async {
        let steps = app.database.timeline(row).await.unwrap();
        let handed = steps
            .iter()
            .filter(|step| step.description.contains("levert til trykkeriet"))
            .count();
        (handed == 2).then_some(())
    })
    .await;
    assert_eq!(batches_in(&app.print_drop).len(), 1);
}

/// Print if unread (`utskriftHvisUlest`, Postkasse's extension): three
/// letters with a deadline three days ahead. The reminders are scheduled;
/// at the deadline Kari's unread letter is queued for print, Ola's opened
/// one is not, and Per's (no postal address) fails with a feil receipt;
/// Kari's is batched and its sender gets the print house's mottakskvittering.
async fn an_unread_letter_is_printed_at_its_deadline(backend: Backend) {
    let start = chrono::Utc::now();
    let clock = Arc::new(ManualClock::starting_at(start));
    let deadline = clock.now() + chrono::Duration::days(3);
    // The day's cut-off an hour after the deadline.
    let cut_off = (deadline + chrono::Duration::hours(1))
        .with_timezone(&chrono_tz::Europe::Oslo)
        .format("%H:%M")
        .to_string();
    let Some(app) = spawn_app_with_clock(
        backend,
        move |settings| settings.print.cut_offs = vec![cut_off],
        clock.clone(),
    )
    .await
    else {
        return;
    };
    let mut sender = app.sender(TEST_SENDER, "Skatteetaten").await;
    sender.token = app.issue_token(&["digitalpostinnbygger:send"]).await;
    let (kari, ola, per) = (citizen(11), citizen(12), citizen(13));
    let mut letters = Vec::new();
    for (fnr, name) in [
        (&kari, Some("Kari Nordmann")),
        (&ola, Some("Ola Nordmann")),
        (&per, None),
    ] {
        app.make_reachable(fnr, crate::helpers::OWN_PROVIDER).await;
        if let Some(name) = name {
            let address =
                postkasse::print::PostalAddress::norwegian(name, "Storgata 1", "0155", "Oslo")
                    .unwrap();
            app.database
                .set_postal_address(fnr, &address, clock.now())
                .await
                .unwrap();
        }
        let letter = crate::helpers::test_letter(&sender.org_nr(), fnr, "Vedtak om bostøtte");
        let package = letter.package().unwrap();
        let mut message = letter.business_message(&package);
        message["standardBusinessDocument"]["digital"]["utskriftHvisUlest"] = serde_json::json!({
            "frist": deadline.to_rfc3339(),
            "posttype": "A",
        });
        let response = sender
            .send_parts(&app, "", message.to_string(), package)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().await.unwrap()
        );
        letters.push(letter);
    }
    // Delivered digitally, with the deadline in the statuses.
    let statuses_of = |index: usize| {
        let id = letters[index].message_id.to_string();
        let (app, sender) = (&app, &sender);
        async move { statuses(app, sender, &id).await }
    };
    assert!(statuses_of(0)
        .await
        .iter()
        .any(|(_, text)| text.starts_with("skrives ut om det ikke er åpnet innen")));
    // The reminders: an e-mail and an SMS per letter.
    let reminders: Vec<(String,)> = app
        .database
        .fetch_all(postkasse::sql::Query::new(
            "SELECT channel FROM notice_job WHERE text LIKE 'Påminnelse%' ORDER BY due_at",
        ))
        .await
        .unwrap();
    assert_eq!(reminders.len(), 6, "{reminders:?}");

    // Ola opens his in time, on the letter page.
    let ola_letter = app.letters(&ola).await[0].id;
    let session = app.login_as(&ola).await;
    let (status, _) = get(
        &app,
        &format!("/brev/{ola_letter}"),
        &format!("__Host-postkasse-session={session}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A minute before the deadline both reminders are due: the e-mail goes
    // to Kari and Per (Ola has opened his); they have no mobile number in
    // the register, so the SMS fails and the sender is told.
    clock.advance(chrono::Duration::days(3) - chrono::Duration::minutes(1));
    eventually("the e-mail reminders in the sink", || async {
        let sent = postkasse::notify::Store::sink_notices(&app.database, 50)
            .await
            .unwrap()
            .into_iter()
            .filter(|notice| notice.text.starts_with("Påminnelse"))
            .count();
        (sent == 2).then_some(())
    })
    .await;
    eventually("the failed SMS reminders told to the sender", || async {
        let receipts = sender.receipts(&app, "").await;
        let failed = receipt_kinds(&receipts)
            .iter()
            .filter(|kind| *kind == "varslingfeiletkvittering")
            .count();
        (failed == 2).then_some(())
    })
    .await;
    assert!(app.database.print_jobs(true).await.unwrap().is_empty());

    clock.advance(chrono::Duration::minutes(2));
    let jobs = eventually("Kari's letter in the print queue", || async {
        let jobs = app.database.print_jobs(true).await.unwrap();
        (!jobs.is_empty()).then_some(jobs)
    })
    .await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].message_id, letters[0].message_id);
    assert_eq!(jobs[0].order.address.navn, "Kari Nordmann");
    assert_eq!(jobs[0].order.post_class, postkasse::print::PostClass::A);
    let (_, last) = statuses_of(0).await.pop().unwrap();
    assert_eq!(last, "ikke åpnet innen fristen; lagt i utskriftskøen");
    eventually("Ola's and Per's settled", || async {
        let ola_done =
            statuses_of(1).await.last().unwrap().1 == "åpnet før fristen; skrives ikke ut";
        let per_done = statuses_of(2).await.last().unwrap().0 == "FEILET";
        (ola_done && per_done).then_some(())
    })
    .await;
    let receipts = sender.receipts(&app, "").await;
    let per_conversation = letters[2].conversation_id.to_string();
    assert_eq!(
        kinds_in(&receipts, &per_conversation),
        ["leveringskvittering", "varslingfeiletkvittering", "feil"]
    );
    let feil = receipts
        .iter()
        .find(|receipt| {
            conversation_of(receipt) == per_conversation
                && receipt_kinds(std::slice::from_ref(receipt)) == ["feil"]
        })
        .unwrap();
    assert!(body_of(feil, "feil")["detaljer"]
        .as_str()
        .unwrap()
        .contains("no postal address"));

    // Kari's goes into the next batch, and the print house takes it.
    clock.advance(chrono::Duration::hours(2));
    let (folder, manifest) = eventually("Kari's letter in a batch", || async {
        let mut batches = batches_in(&app.print_drop);
        (batches.len() == 1).then(|| batches.remove(0))
    })
    .await;
    assert_eq!(manifest.letters.len(), 1);
    check_print_ready_pdf(
        &folder.join(&manifest.letters[0].file),
        &["Kari Nordmann", "Storgata 1", "0155 Oslo"],
    );
    print_house(&app.print_drop, &["accept"]);
    eventually("the answer read", || async {
        (unread_answers(&app.print_drop) == 0).then_some(())
    })
    .await;
    let receipts = sender.receipts(&app, "").await;
    assert_eq!(
        kinds_in(&receipts, &letters[0].conversation_id.to_string()),
        [
            "leveringskvittering",
            "varslingfeiletkvittering",
            "mottakskvittering"
        ]
    );
}

/// A batch the print house's drop cannot take (here: `outgoing` is a file,
/// not a folder) stays with Postkasse, the error recorded, and is offered
/// again until it is taken, once.
async fn a_batch_the_drop_refuses_is_offered_again(backend: Backend) {
    let Some(app) = crate::helpers::spawn_app(backend).await else {
        return;
    };
    send_print_letter(&app, &citizen(14), "Ola Nordmann").await;
    std::fs::create_dir_all(&app.print_drop).unwrap();
    let blocker = app.print_drop.join("outgoing");
    std::fs::write(&blocker, b"not a folder").unwrap();

    let batched = app.run_cli(&["print", "batch"]).await;
    assert!(batched.status.success());
    let said = String::from_utf8_lossy(&batched.stdout).into_owned();
    assert!(
        said.contains("1 letters in 1 batches, 0 batches handed"),
        "{said}"
    );
    let refused = eventually("a refused delivery recorded", || async {
        let batches = app.database.recent_batches(10).await.unwrap();
        batches
            .into_iter()
            .find(|batch| batch.attempts >= 2 && batch.last_error.is_some())
    })
    .await;
    assert!(refused.delivered_at.is_none());

    std::fs::remove_file(&blocker).unwrap();
    let delivered = eventually("the batch taken at a later attempt", || async {
        let batch = app
            .database
            .batch_summary(refused.id)
            .await
            .unwrap()
            .unwrap();
        batch.delivered_at.is_some().then_some(batch)
    })
    .await;
    assert_eq!(delivered.last_error, None);
    assert_eq!(batches_in(&app.print_drop).len(), 1);
    let row = app.database.print_jobs(true).await.unwrap()[0].message_row;
    let handed_over = app
        .database
        .timeline(row)
        .await
        .unwrap()
        .into_iter()
        .filter(|step| step.description.contains("levert til trykkeriet"))
        .count();
    assert_eq!(handed_over, 1);
}

on_both_backends!(
    paper_letters_are_batched_at_the_cut_off_printed_and_answered,
    a_letter_that_cannot_be_printed_gets_a_feil_receipt,
    unprintable_documents_are_refused_by_name,
    each_answer_becomes_one_receipt_across_a_sigkill,
    operators_follow_the_queue_batches_and_letters,
    an_unread_letter_is_printed_at_its_deadline,
    a_batch_the_drop_refuses_is_offered_again,
);
