//! The citizen's search text: any text (words, "phrases", a prefix still
//! being typed, filters) becomes a tantivy query that runs, never a panic.
//! The first byte chooses the flags; the rest is the text.
#![no_main]

use app::api::search::{SearchOrder, SearchRequest};
use app::domain::{Place, SecurityLevel};
use libfuzzer_sys::fuzz_target;
use postkasse::search::{index, query};
use std::sync::OnceLock;

fn searcher() -> &'static (tantivy::Searcher, index::Fields) {
    static INDEX: OnceLock<(tantivy::Searcher, index::Fields)> = OnceLock::new();
    INDEX.get_or_init(|| {
        let (schema, fields) = index::schema();
        let index = tantivy::Index::create_in_ram(schema);
        let searcher = index.reader().unwrap().searcher();
        (searcher, fields)
    })
}

fuzz_target!(|input: &[u8]| {
    let Some((&flags, text)) = input.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    for part in query::parts(text) {
        match part {
            query::Part::Word(word) => assert!(
                !word.is_empty() && !word.chars().any(char::is_whitespace),
                "a word is one word: {word:?}"
            ),
            query::Part::Phrase(phrase) => assert!(!phrase.trim().is_empty()),
        }
    }
    let request = SearchRequest {
        text: text.to_owned(),
        sender: (flags & 1 != 0).then(|| text.chars().take(20).collect()),
        from_year: (flags & 2 != 0).then_some(2020),
        to_year: (flags & 4 != 0).then_some(i32::from(flags) * 10),
        place: [None, Some(Place::Inbox), Some(Place::Archive), Some(Place::Trash)]
            [usize::from(flags >> 3 & 3)],
        order: if flags & 32 != 0 {
            SearchOrder::Newest
        } else {
            SearchOrder::Relevance
        },
        page: u32::from(flags),
        prefix: flags & 64 != 0,
    };
    let level = if flags & 128 != 0 {
        SecurityLevel::High
    } else {
        SecurityLevel::Substantial
    };
    let (searcher, fields) = searcher();
    let scope = query::Scope {
        owner: "01019012345",
        level,
        now: chrono::Utc::now(),
    };
    let built = query::full_query(fields, &request, &scope, true);
    searcher
        .search(&built, &tantivy::collector::Count)
        .expect("a query built from any text runs");
});
