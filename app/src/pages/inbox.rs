//! The inbox (`/innboks`): one page of the letters in a place (the inbox,
//! the archive, a folder or the trash, `?mappe=`), with links to the other
//! places, a search box and the pager (`?side=`).

use crate::{
    api::{
        archive::{list_folders, FolderView},
        mailbox::{list_inbox, InboxEntry, LetterPage},
    },
    components::{error_notice::ErrorNotice, pager::PageLinks},
    domain::{PageNumber, Place},
    i18n::{t, tu_string, use_i18n},
    locale::{local_date, local_time, place_name},
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn InboxPage() -> impl IntoView {
    let query = use_query_map();
    let letters = Resource::new(
        move || {
            query.with(|query| {
                (
                    query.get("mappe"),
                    // A page number typed out of range shows the nearest page.
                    query
                        .get("side")
                        .and_then(|side| side.parse::<u32>().ok())
                        .map(|side| PageNumber::nearest(side).to_string()),
                )
            })
        },
        |(place, page)| list_inbox(place, page),
    );
    let folders = Resource::new(|| (), |_| list_folders());
    let i18n = use_i18n();
    view! {
        // While the letters load the page has a title too; the place's own replaces it.
        <Title text=tu_string!(i18n, inbox.inbox) />
        <Suspense fallback=move || view! { <p>{t!(i18n, inbox.loading)}</p> }>
            {move || Suspend::new(async move {
                let shown = match (letters.await, folders.await) {
                    (Ok(page), Ok(folders)) => Ok((page, folders)),
                    // A delegate reads the places, not the owner's folders.
                    (Ok(page), Err(_)) if page.delegated => Ok((page, Vec::new())),
                    (Err(error), _) | (_, Err(error)) => Err(error),
                };
                match shown {
                    Ok((page, folders)) => view! {
                        <Title text=place_name(i18n.get_locale_untracked(), page.place, page.folder_name.as_deref()) />
                        <InboxList page folders />
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The inbox's address for a place and page; the first page has no `side`.
fn place_href(place: Place, page: u32) -> String {
    let mut href = format!("/innboks?mappe={}", place.as_param());
    if page > 1 {
        href.push_str(&format!("&side={page}"));
    }
    href
}

/// Links to the inbox, the archive, each folder and the trash; the current
/// one is marked for screen readers as well as by looks.
#[component]
fn PlaceNav(current: Place, folders: Vec<FolderView>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let mut places = vec![
        (Place::Inbox, place_name(locale, Place::Inbox, None)),
        (Place::Archive, place_name(locale, Place::Archive, None)),
    ];
    places.extend(
        folders
            .into_iter()
            .map(|folder| (Place::Folder(folder.id), folder.name)),
    );
    places.push((Place::Trash, place_name(locale, Place::Trash, None)));
    view! {
        <nav aria-label=tu_string!(i18n, inbox.places) class="places">
            <ul>
                {places
                    .into_iter()
                    .map(|(place, name)| {
                        let current = (place == current).then_some("page");
                        view! { <li><a href=place_href(place, 1) aria-current=current>{name}</a></li> }
                    })
                    .collect_view()}
            </ul>
            <p class="place-tools">
                <a href="/mapper">{t!(i18n, inbox.organise_folders)}</a>
                " · "
                <a href="/mine-dokumenter">{t!(i18n, inbox.my_documents)}</a>
                " · "
                <a href="/signering">{t!(i18n, inbox.to_sign)}</a>
                " · "
                <a href="/eksport/postkasse.zip" rel="external" download="postkasse.zip">
                    {t!(i18n, inbox.download_archive)}
                </a>
            </p>
        </nav>
    }
}

#[component]
fn InboxList(page: LetterPage, folders: Vec<FolderView>) -> impl IntoView {
    let i18n = use_i18n();
    let LetterPage {
        place,
        folder_name,
        entries,
        total,
        unread,
        page,
        page_count,
        trash_days,
        delegated,
    } = page;
    let empty_text = match place {
        Place::Inbox => tu_string!(i18n, inbox.no_letters_in_inbox),
        Place::Trash => tu_string!(i18n, inbox.trash_empty),
        _ => tu_string!(i18n, inbox.no_letters_here),
    };
    let trash_note = (place == Place::Trash).then(|| {
        view! {
            <p>
                {tu_string!(i18n, inbox.trash_note, days = trash_days).to_string()}
            </p>
        }
    });
    view! {
        <h1>{place_name(i18n.get_locale_untracked(), place, folder_name.as_deref())}</h1>
        <p class="lead">{tu_string!(i18n, inbox.counts, total, unread).to_string()}</p>
        // Search, folders and the owner's own tools are not the delegate's.
        {(!delegated).then(|| view! {
            <form method="get" action="/sok" role="search" class="search-form inbox-search">
                <label for="innboks-sok">{t!(i18n, inbox.search_label)}</label>
                <input type="search" id="innboks-sok" name="q" maxlength="200" />
                <button type="submit">{t!(i18n, inbox.search_button)}</button>
            </form>
            <PlaceNav current=place folders />
        })}
        {trash_note}
        {if entries.is_empty() {
            view! { <p>{empty_text}</p> }.into_any()
        } else {
            view! {
                <ul class="inbox" aria-label=tu_string!(i18n, inbox.letters)>
                    {entries.into_iter().map(|entry| view! { <InboxLine entry /> }).collect_view()}
                </ul>
            }
            .into_any()
        }}
        <Pager place page page_count />
    }
}

#[component]
fn InboxLine(entry: InboxEntry) -> impl IntoView {
    let i18n = use_i18n();
    let href = format!("/brev/{}", entry.id);
    let attachments = match entry.attachment_count {
        0 => None,
        count => Some(tu_string!(i18n, inbox.attachments, count).to_string()),
    };
    view! {
        <li class:unread=entry.unread>
            <a href=href class="letter-link">
                <span class="from">
                    <span class="sender">{entry.sender_name}</span>
                    {entry.public_sender.then(|| view! {
                        <span class="visually-hidden">", "</span>
                        <span class="sender-kind">{t!(i18n, common.public_sender)}</span>
                    })}
                </span>
                // The visible parts are separate grid cells; hidden
                // punctuation makes the link read as a sentence.
                <span class="visually-hidden">":"</span>
                <span class="title">
                    {entry.unread.then(|| view! { <span class="badge">{t!(i18n, inbox.unread)}</span> " " })}
                    {entry.title}
                    {entry.locked.then_some(t!(i18n, inbox.locked_note))}
                    {attachments.map(|text| view! {
                        <span class="visually-hidden">", "</span>
                        <span class="attachments">{text}</span>
                    })}
                    {entry.reply_by.map(|deadline| view! {
                        <span class="visually-hidden">", "</span>
                        <span class="reply-by">{tu_string!(i18n, inbox.reply_by, date = local_date(deadline)).to_string()}</span>
                    })}
                </span>
                <span class="visually-hidden">{t!(i18n, common.received)}</span>
                <time datetime=entry.received_at.to_rfc3339()>
                    {local_time(i18n.get_locale_untracked(), entry.received_at)}
                </time>
            </a>
        </li>
    }
}

/// "Forrige" and "Neste" between pages, and where the citizen is.
#[component]
fn Pager(place: Place, page: u32, page_count: u32) -> impl IntoView {
    view! { <PageLinks page page_count href=move |page| place_href(place, page) /> }
}
