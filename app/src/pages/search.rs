//! The search page (`/sok`): a plain GET form, so it works without
//! JavaScript; hydrated, results follow the citizen's typing (the last word
//! as a prefix). Counts per sender are links that narrow the search.

use crate::{
    api::{
        archive::{list_folders, FolderView},
        search::{
            search_archive, SearchHit, SearchResults, SenderCount, SnippetPart, HITS_PER_PAGE,
        },
    },
    components::{error_notice::ErrorNotice, pager::PageLinks},
    domain::{PageNumber, Place},
    error::AppError,
    i18n::{t, td_string, tu_string, use_i18n, Locale},
    locale::{local_time, place_name, problem_text},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    hooks::{use_navigate, use_query_map},
    NavigateOptions,
};

/// The query parameters the page reads, in the order links write them.
const PARAMS: [&str; 7] = ["q", "avsender", "fra", "til", "mappe", "sortering", "side"];

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The search's address with the given parameters (empty ones left out).
fn search_href(params: &[(&str, Option<String>)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter_map(|(name, value)| {
            value
                .as_deref()
                .filter(|value| !value.is_empty())
                .map(|value| format!("{name}={}", encode(value)))
        })
        .collect();
    if query.is_empty() {
        "/sok".to_owned()
    } else {
        format!("/sok?{}", query.join("&"))
    }
}

/// The current parameters, with some replaced (and the page reset unless given).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
struct Current(Vec<(&'static str, Option<String>)>);

impl Current {
    fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(param, _)| *param == name)
            .and_then(|(_, value)| value.clone())
    }

    fn with(&self, changes: &[(&str, Option<String>)]) -> String {
        let params: Vec<(&str, Option<String>)> = self
            .0
            .iter()
            .map(|(name, value)| {
                let changed = changes.iter().find(|(param, _)| param == name);
                match changed {
                    Some((_, new)) => (*name, new.clone()),
                    None if *name == "side" => (*name, None),
                    None => (*name, value.clone()),
                }
            })
            .collect();
        search_href(&params)
    }
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let current = Memo::new(move |_| {
        query.with(|query| Current(PARAMS.iter().map(|name| (*name, query.get(name))).collect()))
    });
    let prefix = Memo::new(move |_| query.with(|query| query.get("prefiks").is_some()));
    let results = Resource::new(
        move || (current.get(), prefix.get()),
        |(current, prefix)| async move {
            search_archive(
                current.get("q"),
                current.get("avsender"),
                current.get("fra"),
                current.get("til"),
                current.get("mappe"),
                current.get("sortering"),
                // A page number typed out of range shows the nearest page.
                current
                    .get("side")
                    .and_then(|side| side.parse::<u32>().ok())
                    .map(|side| PageNumber::nearest(side).to_string()),
                Some(prefix.to_string()),
            )
            .await
        },
    );
    let folders = Resource::new(|| (), |_| list_folders());
    let navigate = use_navigate();
    let i18n = use_i18n();
    // Hydrated: search while typing, replacing the address rather than adding history.
    let on_input = move |event: leptos::ev::Event| {
        let text = event_target_value(&event);
        let href = current.get_untracked().with(&[("q", Some(text))]);
        let separator = if href.contains('?') { '&' } else { '?' };
        navigate(
            &format!("{href}{separator}prefiks=1"),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    view! {
        <Title text=tu_string!(i18n, search.title) />
        <h1>{t!(i18n, search.title)}</h1>
        <Suspense fallback=move || view! { <p>{t!(i18n, search.loading_folders)}</p> }>
            {move || {
                let on_input = on_input.clone();
                Suspend::new(async move {
                    let folders = folders.await.unwrap_or_default();
                    let current = current.get_untracked();
                    view! { <SearchForm current folders on_input /> }
                })
            }}
        </Suspense>
        <Suspense fallback=move || view! { <p>{t!(i18n, search.searching)}</p> }>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(found) => view! { <Results found current=current.get_untracked() /> }.into_any(),
                    Err(AppError::Invalid { field, problem }) => {
                        let locale = i18n.get_locale_untracked();
                        view! {
                            <p class="error" role="alert" id="sok-feil">
                                {td_string!(
                                    locale,
                                    search.field_problem,
                                    label = field_label(locale, &field),
                                    problem = problem_text(locale, problem)
                                )
                                .to_string()}
                            </p>
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn field_label(locale: Locale, field: &str) -> &'static str {
    match field {
        "q" => td_string!(locale, search.words),
        "fra" => td_string!(locale, search.from_year),
        "til" => td_string!(locale, search.to_year),
        "mappe" => td_string!(locale, search.folder),
        "sortering" => td_string!(locale, search.order),
        _ => td_string!(locale, search.the_search),
    }
}

#[component]
fn SearchForm(
    current: Current,
    folders: Vec<FolderView>,
    on_input: impl Fn(leptos::ev::Event) + Clone + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let value = |name: &str| current.get(name).unwrap_or_default();
    let place = current.get("mappe").unwrap_or_default();
    let mut places = vec![
        (
            String::new(),
            tu_string!(i18n, search.all_but_trash).to_owned(),
        ),
        (
            Place::Inbox.as_param(),
            place_name(locale, Place::Inbox, None),
        ),
        (
            Place::Archive.as_param(),
            place_name(locale, Place::Archive, None),
        ),
    ];
    places.extend(
        folders
            .into_iter()
            .map(|folder| (Place::Folder(folder.id).as_param(), folder.name)),
    );
    places.push((
        Place::Trash.as_param(),
        place_name(locale, Place::Trash, None),
    ));
    let order = current.get("sortering").unwrap_or_default();
    view! {
        <form method="get" action="/sok" role="search" class="search-form">
            <p>
                <label for="sok-q">{t!(i18n, search.words)}</label>
                <input
                    type="search"
                    id="sok-q"
                    name="q"
                    value=value("q")
                    maxlength="200"
                    autocomplete="off"
                    aria-describedby="sok-hjelp"
                    on:input=on_input
                />
                <button type="submit">{t!(i18n, search.search)}</button>
            </p>
            <p id="sok-hjelp" class="hint">{t!(i18n, search.help)}</p>
            <fieldset class="search-filters">
                <legend>{t!(i18n, search.narrow)}</legend>
                <p>
                    <label for="sok-mappe">{t!(i18n, search.folder)}</label>
                    <select id="sok-mappe" name="mappe">
                        {places
                            .into_iter()
                            .map(|(param, name)| {
                                let selected = param == place;
                                view! { <option value=param selected=selected>{name}</option> }
                            })
                            .collect_view()}
                    </select>
                </p>
                <p>
                    <label for="sok-fra">{t!(i18n, search.from_year)}</label>
                    <input type="number" id="sok-fra" name="fra" min="1900" max="2200" inputmode="numeric" value=value("fra") />
                    <label for="sok-til">{t!(i18n, search.to_year)}</label>
                    <input type="number" id="sok-til" name="til" min="1900" max="2200" inputmode="numeric" value=value("til") />
                </p>
                <p>
                    <label for="sok-sortering">{t!(i18n, search.order)}</label>
                    <select id="sok-sortering" name="sortering">
                        <option value="" selected=order.is_empty()>{t!(i18n, search.best_first)}</option>
                        <option value="nyeste" selected=order == "nyeste">{t!(i18n, search.newest_first)}</option>
                    </select>
                </p>
                {current.get("avsender").map(|sender| view! {
                    <input type="hidden" name="avsender" value=sender />
                })}
                <p><button type="submit">{t!(i18n, search.apply)}</button></p>
            </fieldset>
        </form>
    }
}

#[component]
fn Results(found: SearchResults, current: Current) -> impl IntoView {
    let SearchResults {
        hits,
        total,
        senders,
        unsearchable_documents,
        page,
    } = found;
    let i18n = use_i18n();
    let pages = (total as usize).div_ceil(HITS_PER_PAGE).max(1) as u32;
    let unsearchable = (unsearchable_documents > 0).then(|| {
        let text = if unsearchable_documents == 1 {
            tu_string!(i18n, search.unsearchable_one).to_owned()
        } else {
            tu_string!(
                i18n,
                search.unsearchable_many,
                count = unsearchable_documents
            )
            .to_string()
        };
        view! {
            <p class="notice">
                {text}
                {t!(i18n, search.unsearchable_why)}
            </p>
        }
    });
    let count = match total {
        0 => tu_string!(i18n, search.no_hits).to_owned(),
        1 => tu_string!(i18n, search.one_hit).to_owned(),
        count => tu_string!(i18n, search.hits, count).to_string(),
    };
    let current_for_facets = current.clone();
    let page_href = move |page: u32| current.with(&[("side", Some(page.to_string()))]);
    view! {
        {unsearchable}
        <p class="lead" role="status">{count}</p>
        <SenderFacets senders current=current_for_facets />
        <ul class="inbox search-hits">
            {hits.into_iter().map(|hit| view! { <HitLine hit /> }).collect_view()}
        </ul>
        <PageLinks page page_count=pages href=page_href />
    }
}

#[component]
fn SenderFacets(senders: Vec<SenderCount>, current: Current) -> impl IntoView {
    let i18n = use_i18n();
    let chosen = current.get("avsender");
    (!senders.is_empty()).then(|| {
        view! {
            <nav aria-label=tu_string!(i18n, search.senders) class="places facets">
                <ul>
                    <li>
                        <a href=current.with(&[("avsender", None)]) aria-current=chosen.is_none().then_some("page")>
                            {t!(i18n, search.all_senders)}
                        </a>
                    </li>
                    {senders
                        .into_iter()
                        .map(|sender| {
                            let selected = chosen.as_deref() == Some(sender.name.as_str());
                            view! {
                                <li>
                                    <a
                                        href=current.with(&[("avsender", Some(sender.name.clone()))])
                                        aria-current=selected.then_some("page")
                                    >
                                        {format!("{} ({})", sender.name, sender.count)}
                                    </a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
        }
    })
}

#[component]
fn HitLine(hit: SearchHit) -> impl IntoView {
    let SearchHit {
        href,
        title,
        sender,
        received_at,
        snippet,
        partly_searchable,
    } = hit;
    let i18n = use_i18n();
    view! {
        <li>
            <a href=href class="letter-link">
                <span class="sender">{sender.unwrap_or_else(|| tu_string!(i18n, search.uploaded_by_you).to_owned())}</span>
                <span class="visually-hidden">":"</span>
                <span class="title">{title}</span>
                <span class="visually-hidden">{t!(i18n, common.received)}</span>
                <time datetime=received_at.to_rfc3339()>
                    {local_time(i18n.get_locale_untracked(), received_at)}
                </time>
            </a>
            {(!snippet.is_empty()).then(|| view! { <p class="snippet"><Snippet parts=snippet /></p> })}
            {partly_searchable.then(|| view! {
                <p class="hint">{t!(i18n, search.partly_searchable)}</p>
            })}
        </li>
    }
}

/// The snippet's text, with the matched words in `<mark>`; text is never markup.
#[component]
fn Snippet(parts: Vec<SnippetPart>) -> impl IntoView {
    parts
        .into_iter()
        .map(|part| {
            if part.marked {
                view! { <mark>{part.text}</mark> }.into_any()
            } else {
                part.text.into_any()
            }
        })
        .collect_view()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_search_and_encode_values() {
        let current = Current(vec![
            ("q", Some("får \"vedtak\"".to_owned())),
            ("avsender", None),
            ("side", Some("3".to_owned())),
        ]);
        assert_eq!(
            current.with(&[("avsender", Some("Brønnøysund & co".to_owned()))]),
            "/sok?q=f%C3%A5r%20%22vedtak%22&avsender=Br%C3%B8nn%C3%B8ysund%20%26%20co"
        );
        assert_eq!(current.with(&[("q", None)]), "/sok");
    }
}
