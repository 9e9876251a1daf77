//! The search page (`/sok`): a plain GET form, so it works without
//! JavaScript; hydrated, results follow the citizen's typing (the last word
//! as a prefix). Counts per sender are links that narrow the search.

use crate::{
    archive::{list_folders, FolderView},
    domain::Place,
    error::AppError,
    pages::{local_time, ErrorNotice},
    search::{search_archive, SearchHit, SearchResults, SenderCount, SnippetPart, HITS_PER_PAGE},
    strings,
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
                current.get("side").and_then(|side| side.parse().ok()),
                Some(prefix),
            )
            .await
        },
    );
    let folders = Resource::new(|| (), |_| list_folders());
    let navigate = use_navigate();
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
        <Title text="Søk i brevene" />
        <h1>"Søk i brevene"</h1>
        <Suspense fallback=|| view! { <p>"Henter mappene …"</p> }>
            {move || {
                let on_input = on_input.clone();
                Suspend::new(async move {
                    let folders = folders.await.unwrap_or_default();
                    let current = current.get_untracked();
                    view! { <SearchForm current folders on_input /> }
                })
            }}
        </Suspense>
        <Suspense fallback=|| view! { <p>"Søker …"</p> }>
            {move || Suspend::new(async move {
                match results.await {
                    Ok(found) => view! { <Results found current=current.get_untracked() /> }.into_any(),
                    Err(AppError::Invalid { field, message }) => view! {
                        <p class="error" role="alert" id="sok-feil">
                            {format!("{}: {message}", field_label(&field))}
                        </p>
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn field_label(field: &str) -> &'static str {
    match field {
        "q" => "Søkeord",
        "fra" => "Fra år",
        "til" => "Til år",
        "mappe" => "Mappe",
        "sortering" => "Sortering",
        _ => "Søket",
    }
}

#[component]
fn SearchForm(
    current: Current,
    folders: Vec<FolderView>,
    on_input: impl Fn(leptos::ev::Event) + Clone + 'static,
) -> impl IntoView {
    let value = |name: &str| current.get(name).unwrap_or_default();
    let place = current.get("mappe").unwrap_or_default();
    let mut places = vec![
        (String::new(), "Alle unntatt papirkurven".to_owned()),
        (Place::Inbox.as_param(), strings::INBOX.to_owned()),
        (Place::Archive.as_param(), strings::ARCHIVE.to_owned()),
    ];
    places.extend(
        folders
            .into_iter()
            .map(|folder| (Place::Folder(folder.id).as_param(), folder.name)),
    );
    places.push((Place::Trash.as_param(), strings::TRASH.to_owned()));
    let order = current.get("sortering").unwrap_or_default();
    view! {
        <form method="get" action="/sok" role="search" class="search-form">
            <p>
                <label for="sok-q">"Søkeord"</label>
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
                <button type="submit">"Søk"</button>
            </p>
            <p id="sok-hjelp" class="hint">
                "Skriv ord som står i brevet. Sett anførselstegn rundt ord som skal stå etter hverandre, for eksempel \"vedtak om bostøtte\"."
            </p>
            <fieldset class="search-filters">
                <legend>"Avgrens søket"</legend>
                <p>
                    <label for="sok-mappe">"Mappe"</label>
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
                    <label for="sok-fra">"Fra år"</label>
                    <input type="number" id="sok-fra" name="fra" min="1900" max="2200" inputmode="numeric" value=value("fra") />
                    <label for="sok-til">"Til år"</label>
                    <input type="number" id="sok-til" name="til" min="1900" max="2200" inputmode="numeric" value=value("til") />
                </p>
                <p>
                    <label for="sok-sortering">"Sortering"</label>
                    <select id="sok-sortering" name="sortering">
                        <option value="" selected=order.is_empty()>"Beste treff først"</option>
                        <option value="nyeste" selected=order == "nyeste">"Nyeste først"</option>
                    </select>
                </p>
                {current.get("avsender").map(|sender| view! {
                    <input type="hidden" name="avsender" value=sender />
                })}
                <p><button type="submit">"Bruk avgrensning"</button></p>
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
    let pages = (total as usize).div_ceil(HITS_PER_PAGE).max(1) as u32;
    let unsearchable = (unsearchable_documents > 0).then(|| {
        let text = if unsearchable_documents == 1 {
            "1 av dokumentene dine kan ikke søkes i.".to_owned()
        } else {
            format!("{unsearchable_documents} av dokumentene dine kan ikke søkes i.")
        };
        view! {
            <p class="notice">
                {text}
                " Det gjelder bilder, og dokumenter der vi ikke har fått hentet ut teksten ennå. Vi prøver igjen på dem senere. Du finner dem fortsatt i innboksen og under Mine dokumenter, og tittelen kan søkes i."
            </p>
        }
    });
    let count = match total {
        0 => "Ingen treff".to_owned(),
        1 => "1 treff".to_owned(),
        n => format!("{n} treff"),
    };
    view! {
        {unsearchable}
        <p class="lead" role="status">{count}</p>
        <SenderFacets senders current=current.clone() />
        <ul class="inbox search-hits">
            {hits.into_iter().map(|hit| view! { <HitLine hit /> }).collect_view()}
        </ul>
        {(pages > 1).then(|| view! {
            <nav aria-label="Sider" class="pager">
                {(page > 1).then(|| view! {
                    <a href=current.with(&[("side", Some((page - 1).to_string()))]) rel="prev">"Forrige side"</a>
                })}
                <span>{format!("Side {page} av {pages}")}</span>
                {(page < pages).then(|| view! {
                    <a href=current.with(&[("side", Some((page + 1).to_string()))]) rel="next">"Neste side"</a>
                })}
            </nav>
        })}
    }
}

#[component]
fn SenderFacets(senders: Vec<SenderCount>, current: Current) -> impl IntoView {
    let chosen = current.get("avsender");
    (!senders.is_empty()).then(|| {
        view! {
            <nav aria-label="Avsendere" class="places facets">
                <ul>
                    <li>
                        <a href=current.with(&[("avsender", None)]) aria-current=chosen.is_none().then_some("page")>
                            "Alle avsendere"
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
    view! {
        <li>
            <a href=href class="letter-link">
                <span class="sender">{sender.unwrap_or_else(|| "Lastet opp av deg".to_owned())}</span>
                <span class="visually-hidden">":"</span>
                <span class="title">{title}</span>
                <span class="visually-hidden">", mottatt"</span>
                <time datetime=received_at.to_rfc3339()>{local_time(received_at)}</time>
            </a>
            {(!snippet.is_empty()).then(|| view! { <p class="snippet"><Snippet parts=snippet /></p> })}
            {partly_searchable.then(|| view! {
                <p class="hint">"Noen av dokumentene i dette brevet kan ikke søkes i ennå."</p>
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
