//! How fast the archive's search indexes and answers, beside bare tantivy.
//!
//! `cargo bench -p postkasse --bench search [-- LETTERS]` (default 100,000
//! generated letters for 1,000 citizens).
//!
//! The letters are made before any clock starts: Norwegian-looking bodies of
//! 60 to 140 words drawn from a fixed vocabulary, ten senders, received over
//! ten years, every tenth at level 4. Then, each on a fresh index on disk:
//!
//! - Postkasse: every letter as the indexer hands it over ([`SearchIndex::put`]
//!   in pages of 500: the writer thread builds each document with every
//!   field, deletes by id then adds, commits in batches), until a flush has
//!   committed the last one. Text extraction and the database are not in it.
//! - Bare tantivy, the same run: the same texts with only an owner and a body
//!   field, analysed by the same Norwegian analyzer (lower case, folding,
//!   stemming) with positions, as Postkasse's body field is; `add_document`
//!   in a loop, one commit. Same writer memory budget. What Postkasse adds is
//!   the rest: the other fields (title, sender, compound parts, place,
//!   dates), the delete before each add, and its batches.
//!
//! Then 2,000 searches of one random citizen for one random word (the same
//! pairs for both): Postkasse's [`query::run`] (owner, effective time, trash
//! exclusion and level clauses, three text fields, counts per sender,
//! snippets, 20 stored hits) against a bare owner-and-word query for the top
//! 20 and the count. It prints letters per second and p50/p99 latency for
//! both, and the ratios. Nothing is asserted.

use app::domain::{Fnr, Place, SecurityLevel};
use chrono::{Duration as ChronoDuration, TimeZone, Utc};
use postkasse::search::{analyzer, index::SearchIndex, query, EntryKind, IndexEntry};
use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};
use std::time::{Duration, Instant};
use tantivy::{
    collector::{Count, TopDocs},
    query::{BooleanQuery, Occur, Query, TermQuery},
    schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions, STRING},
    Index, Term,
};

const CITIZENS: usize = 1_000;
const SEARCHES: usize = 2_000;
const WRITER_HEAP_BYTES: usize = 64 * 1024 * 1024;

const WORDS: &[&str] = &[
    "vedtak",
    "vedtaket",
    "søknad",
    "søknaden",
    "skatt",
    "skatten",
    "skattemelding",
    "frist",
    "fristen",
    "klage",
    "klagen",
    "bostøtte",
    "barnehage",
    "barnehageplass",
    "trygd",
    "pensjon",
    "pensjonen",
    "dagpenger",
    "sykepenger",
    "lege",
    "legen",
    "timen",
    "innkalling",
    "møte",
    "møtet",
    "brev",
    "brevet",
    "svar",
    "svaret",
    "får",
    "far",
    "bær",
    "bar",
    "grunnlag",
    "beregning",
    "beløp",
    "beløpet",
    "kroner",
    "utbetaling",
    "utbetalingen",
    "konto",
    "kontoret",
    "adresse",
    "bolig",
    "eiendom",
    "eiendomsskatt",
    "kommune",
    "kommunen",
    "fylke",
    "stat",
    "staten",
    "arbeid",
    "arbeidsgiver",
    "inntekt",
    "inntekten",
    "formue",
    "gjeld",
    "renter",
    "lån",
    "lånet",
    "studielån",
    "skole",
    "skolen",
    "elev",
    "foreldre",
    "barn",
    "barnet",
    "ektefelle",
    "samboer",
    "bil",
    "bilen",
    "avgift",
    "bompenger",
    "parkering",
    "bot",
    "boten",
    "førerkort",
    "pass",
    "passet",
    "politi",
    "politiet",
    "tingrett",
    "dom",
    "dommen",
    "arv",
    "skifte",
    "helse",
    "helseforetak",
    "sykehus",
    "sykehuset",
    "resept",
    "vaksine",
    "prøvesvar",
    "og",
    "i",
    "på",
    "for",
    "med",
    "til",
    "av",
    "om",
    "som",
    "du",
    "din",
    "ditt",
    "dine",
    "vi",
    "har",
    "er",
    "var",
    "blir",
    "kan",
    "skal",
    "må",
    "ikke",
    "etter",
    "innen",
    "fra",
    "ved",
];

const SENDERS: &[&str] = &[
    "Skatteetaten",
    "NAV",
    "Oslo kommune",
    "Brønnøysundregistrene",
    "Lånekassen",
    "Statens vegvesen",
    "Politiet",
    "Helse Sør-Øst",
    "Kartverket",
    "Domstolene",
];

fn citizens() -> Vec<Fnr> {
    let mut found = Vec::with_capacity(CITIZENS);
    let mut day = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
    while found.len() < CITIZENS {
        if let Some(fnr) = (100..500).find_map(|individual| Fnr::synthetic(day, individual)) {
            found.push(fnr);
        }
        day = day.succ_opt().unwrap();
    }
    found
}

fn letters(count: usize, citizens: &[Fnr], rng: &mut StdRng) -> Vec<IndexEntry> {
    let start = Utc.with_ymd_and_hms(2016, 1, 1, 0, 0, 0).unwrap();
    (0..count)
        .map(|n| {
            let words = rng.gen_range(60..140);
            let body: Vec<&str> = (0..words).map(|_| *WORDS.choose(rng).unwrap()).collect();
            let title: Vec<&str> = (0..4).map(|_| *WORDS.choose(rng).unwrap()).collect();
            IndexEntry {
                id: uuid::Uuid::new_v4(),
                kind: EntryKind::Letter,
                owner: citizens[n % citizens.len()].clone(),
                sender: Some((*SENDERS.choose(rng).unwrap()).to_owned()),
                nonsensitive_title: "Du har fått et brev".to_owned(),
                title: title.join(" "),
                level: if n % 10 == 0 {
                    SecurityLevel::High
                } else {
                    SecurityLevel::Substantial
                },
                received_at: start + ChronoDuration::minutes(rng.gen_range(0..10 * 365 * 24 * 60)),
                effective_at: None,
                place: Some(Place::Inbox),
                texts: vec![body.join(" ")],
                unsearchable: 0,
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index]
}

fn latencies(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

fn main() -> anyhow::Result<()> {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(100_000);
    let mut rng = StdRng::seed_from_u64(7);
    let citizens = citizens();
    println!("generating {count} letters for {CITIZENS} citizens ...");
    let letters = letters(count, &citizens, &mut rng);
    let runtime = tokio::runtime::Runtime::new()?;

    // Postkasse's index.
    let ours_directory = tempfile::tempdir()?;
    // With the word list the server loads, so compounds are split as in production.
    let compounds = postkasse::search::compounds::Compounds::load(std::path::Path::new(
        postkasse::search::compounds::DEBIAN_BOKMAAL,
    ))?;
    let ours = SearchIndex::open(
        ours_directory.path(),
        Duration::from_secs(1),
        std::sync::Arc::new(compounds),
    )?;
    let started = Instant::now();
    for page in letters.chunks(500) {
        ours.put(page.to_vec());
    }
    runtime.block_on(ours.flush())?;
    let ours_indexing = started.elapsed();

    // Bare tantivy over the same texts.
    let bare_directory = tempfile::tempdir()?;
    let mut builder = Schema::builder();
    let owner = builder.add_text_field("owner", STRING);
    let body = builder.add_text_field(
        "body",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(analyzer::NORWEGIAN)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        ),
    );
    let bare = Index::create_in_dir(bare_directory.path(), builder.build())?;
    bare.tokenizers()
        .register(analyzer::NORWEGIAN, analyzer::norwegian());
    let mut stemmer = analyzer::norwegian();
    let started = Instant::now();
    {
        let mut writer: tantivy::IndexWriter = bare.writer(WRITER_HEAP_BYTES)?;
        for letter in &letters {
            let mut doc = tantivy::TantivyDocument::default();
            doc.add_text(owner, letter.owner.as_str());
            doc.add_text(body, &letter.texts[0]);
            writer.add_document(doc)?;
        }
        writer.commit()?;
    }
    let bare_indexing = started.elapsed();
    let bare_reader = bare.reader()?;

    // The same searches for both.
    let searches: Vec<(usize, &str)> = (0..SEARCHES)
        .map(|_| {
            (
                rng.gen_range(0..CITIZENS),
                *WORDS[..90].choose(&mut rng).unwrap(),
            )
        })
        .collect();
    let now = Utc::now();
    let mut ours_times = Vec::with_capacity(SEARCHES);
    let mut ours_hits = 0u64;
    for (citizen, word) in &searches {
        let started = Instant::now();
        let searcher = ours.searcher();
        let request = app::api::search::SearchFields::words(word)
            .parse()
            .expect("a valid search");
        let scope = query::Scope {
            owner: citizens[*citizen].as_str(),
            level: SecurityLevel::Substantial,
            now,
        };
        let results = query::run(&ours, &searcher, &request, &scope)?;
        ours_times.push(started.elapsed());
        ours_hits += results.total;
    }
    let mut bare_times = Vec::with_capacity(SEARCHES);
    let mut bare_hits = 0u64;
    for (citizen, word) in &searches {
        let started = Instant::now();
        let searcher = bare_reader.searcher();
        let query = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(owner, citizens[*citizen].as_str()),
                    IndexRecordOption::Basic,
                )) as Box<dyn Query>,
            ),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(body, &stem(&mut stemmer, word)),
                    IndexRecordOption::WithFreqs,
                )),
            ),
        ]);
        let (top, total) =
            searcher.search(&query, &(TopDocs::with_limit(20).order_by_score(), Count))?;
        for (_, address) in top {
            let _: tantivy::TantivyDocument = searcher.doc(address)?;
        }
        bare_times.push(started.elapsed());
        bare_hits += total as u64;
    }

    let rate = |elapsed: Duration| count as f64 / elapsed.as_secs_f64();
    let (ours_p50, ours_p99) = latencies(ours_times);
    let (bare_p50, bare_p99) = latencies(bare_times);
    println!();
    println!("indexing {count} letters");
    println!(
        "  postkasse    {:>10.0} letters/s  ({:.2?})",
        rate(ours_indexing),
        ours_indexing
    );
    println!(
        "  bare tantivy {:>10.0} letters/s  ({:.2?})",
        rate(bare_indexing),
        bare_indexing
    );
    println!(
        "  ratio        {:>10.2}  (postkasse / bare)",
        rate(ours_indexing) / rate(bare_indexing)
    );
    println!();
    println!("{SEARCHES} searches of one citizen for one word");
    println!(
        "  postkasse    p50 {ours_p50:>10.2?}  p99 {ours_p99:>10.2?}  ({ours_hits} hits, stemmed, in title, sender and body)"
    );
    println!("  bare tantivy p50 {bare_p50:>10.2?}  p99 {bare_p99:>10.2?}  ({bare_hits} hits)");
    println!(
        "  ratio        p50 {:>10.2}  p99 {:>10.2}  (postkasse / bare)",
        ours_p50.as_secs_f64() / bare_p50.as_secs_f64(),
        ours_p99.as_secs_f64() / bare_p99.as_secs_f64()
    );
    Ok(())
}

/// The word as the analyzer indexes it (its stem), for the bare term query.
fn stem(analyzer: &mut tantivy::tokenizer::TextAnalyzer, word: &str) -> String {
    analyzer::terms(analyzer, word)
        .into_iter()
        .next()
        .unwrap_or_default()
}
