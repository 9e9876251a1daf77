//! Searching the archive, as the web app sees it: the search form's fields,
//! the results with snippets and counts per sender, and the server function.
//!
//! The form is a plain GET (`/sok?q=...`), so it works without JavaScript;
//! hydrated, the page searches as the citizen types. The server function is
//! thin: it checks the fields into a [`SearchRequest`], finds the signed-in
//! citizen and calls the one [`ssr::Search`] service, which scopes the search
//! to that citizen in the index query itself.

// The plain GET form's fields are the server function's arguments, one each,
// so that `/sok?q=...&fra=...` needs no JavaScript to become a call.
#![allow(clippy::too_many_arguments)]

use crate::{
    domain::Place,
    error::{AppError, Problem},
};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Hits per page.
pub const HITS_PER_PAGE: usize = 20;
/// Longest query text accepted.
pub const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SearchOrder {
    /// Best match first (the default when there is text to match).
    #[default]
    Relevance,
    Newest,
}

impl SearchOrder {
    pub fn as_param(self) -> &'static str {
        match self {
            SearchOrder::Relevance => "relevans",
            SearchOrder::Newest => "nyeste",
        }
    }
}

/// A checked search: what the service is asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SearchRequest {
    /// Words and "phrases in quotes".
    pub text: String,
    /// Only letters from this sender (by name, as the counts list them).
    pub sender: Option<String>,
    pub from_year: Option<i32>,
    pub to_year: Option<i32>,
    /// Only this place; otherwise everywhere but the trash.
    pub place: Option<Place>,
    pub order: SearchOrder,
    /// 1-based.
    pub page: u32,
    /// The last word is a prefix still being typed.
    pub prefix: bool,
}

/// A piece of a snippet; `marked` pieces matched the query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnippetPart {
    pub text: String,
    pub marked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub href: String,
    pub title: String,
    /// The sender; `None` for the citizen's own uploads.
    pub sender: Option<String>,
    pub received_at: DateTime<Utc>,
    pub snippet: Vec<SnippetPart>,
    /// Some of its documents' text could not be read (yet), so it may match less.
    pub partly_searchable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderCount {
    pub name: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    pub total: u64,
    /// Matches per sender, ignoring the sender filter, most first.
    pub senders: Vec<SenderCount>,
    /// The citizen's documents whose text is not searchable (yet).
    pub unsearchable_documents: u64,
    pub page: u32,
}

fn year(field: &str, input: Option<String>) -> Result<Option<i32>, AppError> {
    match input.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text
            .parse::<i32>()
            .ok()
            .filter(|year| (1900..=2200).contains(year))
            .map(Some)
            .ok_or_else(|| AppError::invalid(field, Problem::NotAYear)),
    }
}

/// The search form's fields as they come: all text, all optional.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchFields {
    pub q: Option<String>,
    pub avsender: Option<String>,
    pub fra: Option<String>,
    pub til: Option<String>,
    pub mappe: Option<String>,
    pub sortering: Option<String>,
    pub side: Option<u32>,
    /// The last word is still being typed.
    pub prefiks: bool,
}

impl SearchFields {
    /// Just words, as typed into the box.
    pub fn words(text: &str) -> SearchFields {
        SearchFields {
            q: Some(text.to_owned()),
            ..SearchFields::default()
        }
    }

    /// The checked search; a bad field is [`AppError::Invalid`] naming it.
    pub fn parse(self) -> Result<SearchRequest, AppError> {
        parse_request(self)
    }
}

fn parse_request(fields: SearchFields) -> Result<SearchRequest, AppError> {
    let SearchFields {
        q,
        avsender,
        fra,
        til,
        mappe,
        sortering,
        side,
        prefiks,
    } = fields;
    let text = q.unwrap_or_default().trim().to_owned();
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::invalid(
            "q",
            Problem::TooLong {
                max: MAX_QUERY_CHARS as u32,
            },
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(AppError::invalid("q", Problem::ControlCharacters));
    }
    let place = match mappe.as_deref().map(str::trim) {
        None | Some("") | Some("alle") => None,
        Some(param) => Some(
            Place::from_param(param)
                .ok_or_else(|| AppError::invalid("mappe", Problem::NoSuchPlace))?,
        ),
    };
    let order = match sortering.as_deref() {
        None | Some("") => {
            if text.is_empty() {
                SearchOrder::Newest
            } else {
                SearchOrder::Relevance
            }
        }
        Some("relevans") => SearchOrder::Relevance,
        Some("nyeste") => SearchOrder::Newest,
        Some(_) => return Err(AppError::invalid("sortering", Problem::UnknownOrder)),
    };
    let from_year = year("fra", fra)?;
    let to_year = year("til", til)?;
    if let (Some(from), Some(to)) = (from_year, to_year) {
        if from > to {
            return Err(AppError::invalid("til", Problem::BeforeFromYear));
        }
    }
    Ok(SearchRequest {
        text,
        sender: avsender
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty()),
        from_year,
        to_year,
        place,
        order,
        page: side.unwrap_or(1).clamp(1, 500),
        prefix: prefiks,
    })
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Server-only: the search service the server function calls.

    use super::*;
    use crate::api::session::SignedIn;
    use std::sync::Arc;

    #[async_trait::async_trait]
    pub trait Search: Send + Sync + 'static {
        async fn search(
            &self,
            viewer: &SignedIn,
            request: SearchRequest,
        ) -> Result<SearchResults, AppError>;
    }

    pub type SharedSearch = Arc<dyn Search>;
}

/// Searches the signed-in citizen's letters and uploads. A GET, so a result
/// page has an address; it changes nothing.
#[server(endpoint = "search_archive", input = server_fn::codec::GetUrl)]
pub async fn search_archive(
    q: Option<String>,
    avsender: Option<String>,
    fra: Option<String>,
    til: Option<String>,
    mappe: Option<String>,
    sortering: Option<String>,
    side: Option<String>,
    prefiks: Option<String>,
) -> Result<SearchResults, AppError> {
    use crate::api::{
        input,
        session::{fail, require_signed_in},
    };
    let citizen = require_signed_in()?;
    let side = input::page("side", side.as_deref())?.get();
    let prefiks = match prefiks.as_deref() {
        None => false,
        Some(flag) => input::flag("prefiks", flag)?,
    };
    let request = SearchFields {
        q,
        avsender,
        fra,
        til,
        mappe,
        sortering,
        side: Some(side),
        prefiks,
    }
    .parse()
    .map_err(fail)?;
    let service = use_context::<ssr::SharedSearch>().ok_or_else(|| fail(AppError::Internal))?;
    service.search(&citizen, request).await.map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Option<String> {
        Some(value.to_owned())
    }

    fn bad_field(fields: SearchFields) -> String {
        match fields.parse() {
            Err(AppError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fields_are_checked_and_named() {
        let ok = SearchFields {
            q: text(" vedtak "),
            avsender: text("NAV"),
            fra: text("2020"),
            til: text("2024"),
            mappe: text("arkiv"),
            side: Some(2),
            ..SearchFields::default()
        }
        .parse()
        .unwrap();
        assert_eq!(ok.text, "vedtak");
        assert_eq!(ok.order, SearchOrder::Relevance);
        assert_eq!(ok.place, Some(Place::Archive));
        assert_eq!(
            (ok.from_year, ok.to_year, ok.page),
            (Some(2020), Some(2024), 2)
        );
        assert_eq!(
            SearchFields::default().parse().unwrap().order,
            SearchOrder::Newest
        );
        let fra = SearchFields {
            fra: text("tjue"),
            ..SearchFields::default()
        };
        assert_eq!(bad_field(fra), "fra");
        let backwards = SearchFields {
            fra: text("2024"),
            til: text("2020"),
            ..SearchFields::default()
        };
        assert_eq!(bad_field(backwards), "til");
        assert_eq!(
            bad_field(SearchFields {
                mappe: text("tull"),
                ..SearchFields::default()
            }),
            "mappe"
        );
        assert_eq!(bad_field(SearchFields::words(&"a".repeat(201))), "q");
        assert_eq!(
            bad_field(SearchFields {
                sortering: text("best"),
                ..SearchFields::default()
            }),
            "sortering"
        );
    }
}
