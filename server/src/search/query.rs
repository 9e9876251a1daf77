//! From a citizen's search to a tantivy query, and from its hits to results.
//!
//! The owner, the effective-time rule and the security level are clauses of
//! the index query itself, never filters applied to hits afterwards: a hit
//! that is not the viewer's cannot be collected at all.

use super::{
    analyzer,
    index::{place_key, sender_facet, Fields, SearchIndex},
};
use app::{
    api::search::{
        SearchHit, SearchOrder, SearchRequest, SearchResults, SenderCount, SnippetPart,
        HITS_PER_PAGE,
    },
    domain::SecurityLevel,
};
use chrono::{DateTime, TimeZone, Utc};
use std::ops::Bound;
use tantivy::{
    collector::{Count, FacetCollector, TopDocs},
    query::{
        AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhrasePrefixQuery, PhraseQuery,
        Query, RangeQuery, TermQuery,
    },
    schema::{IndexRecordOption, Value},
    snippet::SnippetGenerator,
    DocAddress, Order, Searcher, TantivyDocument, Term,
};

/// One part of the text the citizen typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Word(String),
    Phrase(String),
}

/// Splits the text into words and "quoted phrases"; an unclosed quote runs to the end.
pub fn parts(text: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        parts.extend(
            rest[..start]
                .split_whitespace()
                .map(|word| Part::Word(word.to_owned())),
        );
        let after = &rest[start + 1..];
        let end = after.find('"').unwrap_or(after.len());
        let phrase = after[..end].trim();
        if !phrase.is_empty() {
            parts.push(Part::Phrase(phrase.to_owned()));
        }
        rest = after.get(end + 1..).unwrap_or("");
    }
    parts.extend(
        rest.split_whitespace()
            .map(|word| Part::Word(word.to_owned())),
    );
    parts
}

/// Who searches, and when.
pub struct Scope<'a> {
    pub owner: &'a str,
    pub level: SecurityLevel,
    pub now: DateTime<Utc>,
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        term,
        IndexRecordOption::WithFreqsAndPositions,
    ))
}

fn any_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        queries
            .into_iter()
            .map(|query| (Occur::Should, query))
            .collect(),
    ))
}

fn year_start(year: i32) -> tantivy::DateTime {
    let start = Utc
        .with_ymd_and_hms(year, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    tantivy::DateTime::from_timestamp_secs(start.timestamp())
}

/// A word inside a compound counts for less than the word itself.
const PART_WEIGHT: f32 = 0.2;
/// A word one letter off counts for less still.
const TYPO_WEIGHT: f32 = 0.1;
/// Words this long or longer also match with one letter wrong, missing,
/// extra or two swapped; shorter ones only as typed (`får` is not `far`).
const SHORTEST_FORGIVEN_WORD: usize = 5;

/// The clauses matching the typed text: every part must match in some field
/// the login's level may match on. `None` when the text has no words.
///
/// A word matches itself (its stem) at full weight, a compound it is part
/// of at [`PART_WEIGHT`], and, from [`SHORTEST_FORGIVEN_WORD`] letters, a
/// word one edit away at [`TYPO_WEIGHT`]. These add up, so a letter with the
/// word itself ranks above one that has it only in a compound or misspelt.
pub fn text_query(
    fields: &Fields,
    request: &SearchRequest,
    level: SecurityLevel,
) -> Option<Box<dyn Query>> {
    let mut stemmer = analyzer::norwegian();
    let mut lower = analyzer::norwegian_prefix();
    let text_fields = fields.text_fields(level);
    let parts = parts(&request.text);
    let last = parts.len().saturating_sub(1);
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for (position, part) in parts.iter().enumerate() {
        let (text, phrase) = match part {
            Part::Word(word) => (word, false),
            Part::Phrase(phrase) => (phrase, true),
        };
        let stems = analyzer::terms(&mut stemmer, text);
        if stems.is_empty() {
            continue;
        }
        let typing = request.prefix && position == last && !phrase;
        let mut alternatives: Vec<Box<dyn Query>> = Vec::new();
        if let [stem] = stems.as_slice() {
            if !phrase {
                alternatives.extend(inexact_alternatives(fields, level, text, stem));
            }
        }
        for &field in &text_fields {
            let terms: Vec<Term> = stems
                .iter()
                .map(|stem| Term::from_field_text(field, stem))
                .collect();
            // A word the tokenizer splits ("e-post") is matched as a phrase too.
            alternatives.push(if terms.len() == 1 {
                term_query(terms[0].clone())
            } else {
                Box::new(PhraseQuery::new(terms))
            });
            if typing {
                let words = analyzer::terms(&mut lower, text);
                let mut prefix_terms: Vec<Term> = words
                    .iter()
                    .map(|word| Term::from_field_text(field, word))
                    .collect();
                if let Some(prefix) = prefix_terms.pop() {
                    // Earlier words of a split word are stems in the index.
                    let mut terms: Vec<Term> = stems[..stems.len().saturating_sub(1)]
                        .iter()
                        .map(|stem| Term::from_field_text(field, stem))
                        .collect();
                    terms.push(prefix);
                    let mut query = PhrasePrefixQuery::new(terms);
                    query.set_max_expansions(200);
                    alternatives.push(Box::new(query));
                }
            }
        }
        clauses.push((Occur::Must, any_of(alternatives)));
    }
    if clauses.is_empty() {
        None
    } else {
        Some(Box::new(BooleanQuery::new(clauses)))
    }
}

/// The weaker ways one word may match: as a part of a compound, and (for
/// longer words) with one typo.
fn inexact_alternatives(
    fields: &Fields,
    level: SecurityLevel,
    typed: &str,
    stem: &str,
) -> Vec<Box<dyn Query>> {
    let mut alternatives: Vec<Box<dyn Query>> = fields
        .parts_fields(level)
        .into_iter()
        .map(|field| {
            Box::new(BoostQuery::new(
                term_query(Term::from_field_text(field, stem)),
                PART_WEIGHT,
            )) as Box<dyn Query>
        })
        .collect();
    if typed.chars().count() >= SHORTEST_FORGIVEN_WORD {
        for field in fields.text_fields(level) {
            alternatives.push(Box::new(BoostQuery::new(
                Box::new(FuzzyTermQuery::new(
                    Term::from_field_text(field, stem),
                    1,
                    true,
                )),
                TYPO_WEIGHT,
            )));
        }
    }
    alternatives
}

/// The whole query: text, the viewer's scope and the filters; with or
/// without the sender filter (the per-sender counts ignore it).
pub fn full_query(
    fields: &Fields,
    request: &SearchRequest,
    scope: &Scope<'_>,
    with_sender: bool,
) -> Box<dyn Query> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![
        // Whose archive: part of the query, so no other citizen's entry is ever a candidate.
        (
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_text(fields.owner, scope.owner),
                IndexRecordOption::Basic,
            )),
        ),
        // Letters before their virkningstidspunkt do not exist for the citizen.
        (
            Occur::Must,
            Box::new(RangeQuery::new(
                Bound::Unbounded,
                Bound::Included(Term::from_field_i64(
                    fields.effective,
                    scope.now.timestamp(),
                )),
            )),
        ),
    ];
    match request.place {
        Some(place) => clauses.push((
            Occur::Must,
            term_query(Term::from_field_text(fields.place, &place_key(place))),
        )),
        None => clauses.push((
            Occur::MustNot,
            term_query(Term::from_field_text(
                fields.place,
                &place_key(app::domain::Place::Trash),
            )),
        )),
    }
    if with_sender {
        if let Some(sender) = &request.sender {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_facet(fields.sender_facet, &sender_facet(sender)),
                    IndexRecordOption::Basic,
                )),
            ));
        }
    }
    if request.from_year.is_some() || request.to_year.is_some() {
        let lower = request.from_year.map_or(Bound::Unbounded, |year| {
            Bound::Included(Term::from_field_date(fields.received, year_start(year)))
        });
        let upper = request.to_year.map_or(Bound::Unbounded, |year| {
            Bound::Excluded(Term::from_field_date(fields.received, year_start(year + 1)))
        });
        clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
    }
    match text_query(fields, request, scope.level) {
        Some(text) => clauses.push((Occur::Must, text)),
        None => clauses.push((Occur::Must, Box::new(AllQuery))),
    }
    Box::new(BooleanQuery::new(clauses))
}

fn stored_text(doc: &TantivyDocument, field: tantivy::schema::Field) -> Option<String> {
    doc.get_first(field)
        .and_then(|value| value.as_str())
        .map(str::to_owned)
}

fn stored_u64(doc: &TantivyDocument, field: tantivy::schema::Field) -> u64 {
    doc.get_first(field)
        .and_then(|value| value.as_u64())
        .unwrap_or_default()
}

fn snippet_parts(snippet: &tantivy::snippet::Snippet) -> Vec<SnippetPart> {
    let fragment = snippet.fragment();
    let mut parts = Vec::new();
    let mut at = 0;
    for range in snippet.highlighted() {
        if range.start > at {
            parts.push(SnippetPart {
                text: fragment[at..range.start].to_owned(),
                marked: false,
            });
        }
        parts.push(SnippetPart {
            text: fragment[range.clone()].to_owned(),
            marked: true,
        });
        at = range.end;
    }
    if at < fragment.len() {
        parts.push(SnippetPart {
            text: fragment[at..].to_owned(),
            marked: false,
        });
    }
    parts
}

/// Runs the search on one searcher. Blocking: call it off the async threads.
pub fn run(
    index: &SearchIndex,
    searcher: &Searcher,
    request: &SearchRequest,
    scope: &Scope<'_>,
) -> tantivy::Result<SearchResults> {
    let fields = index.fields();
    let query = full_query(fields, request, scope, true);
    let offset = (request.page.saturating_sub(1) as usize) * HITS_PER_PAGE;
    let top = TopDocs::with_limit(HITS_PER_PAGE).and_offset(offset);
    let (addresses, total): (Vec<DocAddress>, usize) = match request.order {
        SearchOrder::Relevance if !request.text.trim().is_empty() => {
            let (hits, total) = searcher.search(&query, &(top.order_by_score(), Count))?;
            (
                hits.into_iter().map(|(_, address)| address).collect(),
                total,
            )
        }
        _ => {
            let (hits, total) = searcher.search(
                &query,
                &(
                    top.order_by_fast_field::<tantivy::DateTime>("received", Order::Desc),
                    Count,
                ),
            )?;
            (
                hits.into_iter().map(|(_, address)| address).collect(),
                total,
            )
        }
    };
    let mut facets = FacetCollector::for_field("sender_facet");
    facets.add_facet("/");
    let facet_counts = searcher.search(&full_query(fields, request, scope, false), &facets)?;
    let mut senders: Vec<SenderCount> = facet_counts
        .get("/")
        .map(|(facet, count)| SenderCount {
            name: facet
                .to_path()
                .last()
                .map(|name| (*name).to_owned())
                .unwrap_or_default(),
            count,
        })
        .collect();
    senders.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));

    let high = scope.level == SecurityLevel::High;
    let text = text_query(fields, request, scope.level);
    let generator = |field| -> tantivy::Result<Option<SnippetGenerator>> {
        text.as_ref()
            .map(|text| SnippetGenerator::create(searcher, text.as_ref(), field))
            .transpose()
    };
    let body_snippets = generator(fields.body)?;
    let secret_snippets = if high {
        generator(fields.secret_body)?
    } else {
        None
    };
    let mut hits = Vec::with_capacity(addresses.len());
    for address in addresses {
        let doc: TantivyDocument = searcher.doc(address)?;
        let level = stored_u64(&doc, fields.level);
        let readable = high || level < SecurityLevel::High as u64;
        let title = if readable {
            stored_text(&doc, fields.shown_title)
        } else {
            stored_text(&doc, fields.shown_public_title)
        }
        .unwrap_or_default();
        let id = stored_text(&doc, fields.id).unwrap_or_default();
        let upload = stored_text(&doc, fields.kind).as_deref() == Some("opplasting");
        let snippet = if level >= SecurityLevel::High as u64 {
            secret_snippets
                .as_ref()
                .map(|generator| generator.snippet_from_doc(&doc))
        } else {
            body_snippets
                .as_ref()
                .map(|generator| generator.snippet_from_doc(&doc))
        };
        let received_at = doc
            .get_first(fields.received)
            .and_then(|value| value.as_datetime())
            .and_then(|at| DateTime::<Utc>::from_timestamp_micros(at.into_timestamp_micros()))
            .unwrap_or_default();
        hits.push(SearchHit {
            href: if upload {
                format!("/opplastinger/{id}")
            } else {
                format!("/brev/{id}")
            },
            title,
            sender: stored_text(&doc, fields.shown_sender),
            received_at,
            snippet: snippet.as_ref().map(snippet_parts).unwrap_or_default(),
            partly_searchable: stored_u64(&doc, fields.unsearchable) > 0,
        });
    }
    Ok(SearchResults {
        hits,
        total: total as u64,
        senders,
        unsearchable_documents: 0,
        page: request.page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_make_phrases() {
        assert_eq!(
            parts(r#"skatt "vedtak om bostøtte" 2024 "åpen"#),
            [
                Part::Word("skatt".into()),
                Part::Phrase("vedtak om bostøtte".into()),
                Part::Word("2024".into()),
                Part::Phrase("åpen".into()),
            ]
        );
        assert_eq!(parts(r#""" a"#), [Part::Word("a".into())]);
    }
}
