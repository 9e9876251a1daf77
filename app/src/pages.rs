//! The pages of the citizen web app and the frame around them.

use crate::{
    archive::{list_folders, FolderView},
    archive_pages::{LetterActions, LetterTools},
    domain::{LetterId, Place, SecurityLevel},
    error::AppError,
    i18n::{t, td_string, tu_string, use_i18n, Locale},
    locale::{self, local_time, size_text},
    mailbox::{
        current_viewer, list_inbox, open_letter, AcceptOpeningReceipt, AccessEntry, AccessKind,
        InboxEntry, LetterBody, LetterPage, LetterView,
    },
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Shows an error in words; on the server it also sets the response status.
#[component]
pub(crate) fn ErrorNotice(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    error.set_response_status();
    let i18n = use_i18n();
    match error {
        AppError::Unauthorized => view! {
            <Title text=tu_string!(i18n, errors.log_in_title) />
            <h1>{t!(i18n, errors.must_log_in)}</h1>
            <p>{t!(i18n, errors.log_in_to_see)}</p>
            <p><a class="button" href="/auth/login" rel="external">{t!(i18n, common.log_in)}</a></p>
        }
        .into_any(),
        AppError::NotFound => view! { <NotFound /> }.into_any(),
        other => {
            let explanation = match other {
                AppError::Transport(_) => tu_string!(i18n, errors.unreachable),
                _ => tu_string!(i18n, errors.internal),
            };
            view! {
                <Title text=tu_string!(i18n, errors.error_title) />
                <h1>{t!(i18n, errors.something_wrong)}</h1>
                <p>{explanation}</p>
            }
            .into_any()
        }
    }
}

#[component]
pub fn SiteHeader() -> impl IntoView {
    // Marks the document once the wasm bundle has taken over, so that tests
    // (and curious developers) can tell a hydrated page from a server-rendered one.
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });

    let viewer = Resource::new(|| (), |_| current_viewer());
    let i18n = use_i18n();
    view! {
        <header class="site-header">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"✉"</span>
                "Postkasse"
            </a>
            <nav aria-label=tu_string!(i18n, common.main_menu) class="site-nav">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match viewer.await {
                            Ok(Some(viewer)) => {
                                let name = viewer.name.unwrap_or_else(|| {
                                    tu_string!(
                                        i18n,
                                        common.citizen_born,
                                        date = viewer.birth_date.format("%d.%m.%Y")
                                    )
                                    .to_string()
                                });
                                view! {
                                    <a href="/innboks">{t!(i18n, common.inbox)}</a>
                                    <a href="/innstillinger">{t!(i18n, common.settings)}</a>
                                    <span class="who">
                                        {t!(i18n, common.logged_in_as)} <strong>{name}</strong>
                                        {(viewer.level == SecurityLevel::High)
                                            .then_some(t!(i18n, common.high_level_note))}
                                    </span>
                                    <form method="post" action="/auth/logout" class="logout">
                                        <button type="submit">{t!(i18n, common.log_out)}</button>
                                    </form>
                                }
                                .into_any()
                            }
                            // rel="external": server routes, not pages the client router knows.
                            _ => view! {
                                <a class="button" href="/auth/login" rel="external">{t!(i18n, common.log_in)}</a>
                            }
                            .into_any(),
                        }
                    })}
                </Suspense>
                <locale::LanguageSwitch />
            </nav>
        </header>
    }
}

#[component]
pub fn InboxPage() -> impl IntoView {
    let query = use_query_map();
    let letters = Resource::new(
        move || {
            query.with(|query| {
                (
                    query.get("mappe"),
                    query.get("side").and_then(|side| side.parse::<u32>().ok()),
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
                match (letters.await, folders.await) {
                    (Ok(page), Ok(folders)) => view! {
                        <Title text=place_name(i18n.get_locale_untracked(), page.place, page.folder_name.as_deref()) />
                        <InboxList page folders />
                    }
                    .into_any(),
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A place's name in the citizen's language; a folder has its own.
pub(crate) fn place_name(locale: Locale, place: Place, folder_name: Option<&str>) -> String {
    match (place, folder_name) {
        (Place::Inbox, _) => td_string!(locale, inbox.inbox).into(),
        (Place::Archive, _) => td_string!(locale, inbox.archive).into(),
        (Place::Trash, _) => td_string!(locale, inbox.trash).into(),
        (Place::Folder(_), Some(name)) => name.to_owned(),
        (Place::Folder(_), None) => td_string!(locale, archive.a_folder).into(),
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
        <form method="get" action="/sok" role="search" class="search-form inbox-search">
            <label for="innboks-sok">{t!(i18n, inbox.search_label)}</label>
            <input type="search" id="innboks-sok" name="q" maxlength="200" />
            <button type="submit">{t!(i18n, inbox.search_button)}</button>
        </form>
        <PlaceNav current=place folders />
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

/// Links to the previous and next page, and where the citizen is; nothing
/// when everything fits on one page.
#[component]
pub(crate) fn PageLinks(
    page: u32,
    page_count: u32,
    href: impl Fn(u32) -> String + Send + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    (page_count > 1).then(|| {
        view! {
            <nav aria-label=tu_string!(i18n, common.pages) class="pager">
                {(page > 1).then(|| view! {
                    <a href=href(page - 1) rel="prev">{t!(i18n, common.previous_page)}</a>
                })}
                <span>{tu_string!(i18n, common.page_of, page, count = page_count).to_string()}</span>
                {(page < page_count).then(|| view! {
                    <a href=href(page + 1) rel="next">{t!(i18n, common.next_page)}</a>
                })}
            </nav>
        }
    })
}

#[component]
pub fn LetterPage() -> impl IntoView {
    let params = use_params_map();
    let letter_id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<LetterId>().ok())
    };
    let accept = ServerAction::<AcceptOpeningReceipt>::new();
    let actions = LetterActions::new();
    // Agreeing to the opening receipt, marking or moving the letter change
    // what the page shows: read again.
    let folders = Resource::new(move || actions.version(), |_| list_folders());
    let i18n = use_i18n();
    let opened = Resource::new(
        move || (letter_id(), accept.version().get() + actions.version()),
        |(id, _)| async move {
            match id {
                Some(id) => open_letter(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        // While the letter loads the page has a title too; the letter's own replaces it.
        <Title text=tu_string!(i18n, letter.title) />
        <Suspense fallback=move || view! { <p>{t!(i18n, letter.loading)}</p> }>
            {move || Suspend::new(async move {
                match (opened.await, folders.await) {
                    (Ok(letter), Ok(folders)) => {
                        view! { <LetterDetails letter folders accept actions /> }.into_any()
                    }
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn LetterDetails(
    letter: LetterView,
    folders: Vec<FolderView>,
    accept: ServerAction<AcceptOpeningReceipt>,
    actions: LetterActions,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let step_up = format!("/auth/login?level=high&return_to=/brev/{}", letter.id);
    let letter_id = letter.id.to_string();
    let access_log = letter.access_log.clone();
    let tools = view! { <LetterTools id=letter.id unread=letter.unread place=letter.place folders actions /> };
    let body = letter.body.clone().map(|body| match body {
        // Sanitised on the server: no scripts, handlers or outside references.
        LetterBody::Html(html) => {
            view! { <div class="letter-body" inner_html=html></div> }.into_any()
        }
        LetterBody::PlainText(text) => {
            view! { <pre class="letter-body letter-text">{text}</pre> }.into_any()
        }
    });
    let opening_notice = tu_string!(
        i18n,
        letter.receipt_notice,
        sender = letter.sender_name.clone()
    )
    .to_string();
    view! {
        <Title text=letter.title.clone() />
        <p class="breadcrumb"><a href="/innboks">{t!(i18n, common.back_to_inbox)}</a></p>
        <article class="letter">
            <h1>{letter.title}</h1>
            <dl class="letter-facts">
                <dt>{t!(i18n, letter.from)}</dt>
                <dd>
                    {letter.sender_name}
                    {letter.public_sender.then_some(t!(i18n, letter.public_sender))}
                </dd>
                <dt>{t!(i18n, letter.received)}</dt>
                <dd><time datetime=letter.received_at.to_rfc3339()>{local_time(locale, letter.received_at)}</time></dd>
            </dl>
            {if letter.locked {
                view! {
                    <section class="locked" aria-labelledby="laast-tittel">
                        <h2 id="laast-tittel">{t!(i18n, letter.locked_heading)}</h2>
                        <p>{t!(i18n, letter.locked_text)}</p>
                        <p><a class="button" href=step_up rel="external">{t!(i18n, letter.step_up)}</a></p>
                    </section>
                }
                .into_any()
            } else if letter.opening_receipt_pending {
                view! {
                    <section class="opening-receipt" aria-labelledby="aapning-tittel">
                        <h2 id="aapning-tittel">{t!(i18n, letter.receipt_heading)}</h2>
                        <p>{opening_notice}</p>
                        <ActionForm action=accept>
                            <input type="hidden" name="id" value=letter_id />
                            <button type="submit">{t!(i18n, letter.receipt_accept)}</button>
                        </ActionForm>
                        <p><a href="/innboks">{t!(i18n, letter.receipt_not_now)}</a></p>
                    </section>
                }
                .into_any()
            } else {
                view! {
                    <section aria-labelledby="dokumenter-tittel">
                        <h2 id="dokumenter-tittel">{t!(i18n, letter.documents)}</h2>
                        {body}
                        <ul class="documents">
                            {letter
                                .documents
                                .into_iter()
                                .map(|document| {
                                    view! {
                                        <li>
                                            <a href=document.href rel="external">{document.title}</a>
                                            " "
                                            <span class="file-facts">
                                                {format!("({}, {})", document.file_name, size_text(locale, document.size_bytes))}
                                            </span>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    </section>
                }
                .into_any()
            }}
            {tools}
            <AccessLog entries=access_log />
        </article>
    }
}

/// Who has seen the letter: every view and download, when and at which login
/// level, so the citizen can notice access they did not make.
#[component]
fn AccessLog(entries: Vec<AccessEntry>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <section class="access-log" aria-labelledby="tilgang-tittel">
            <h2 id="tilgang-tittel">{t!(i18n, letter.access_log)}</h2>
            <p>{t!(i18n, letter.access_log_lead)}</p>
            <table>
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, common.time)}</th>
                        <th scope="col">{t!(i18n, letter.access_what)}</th>
                        <th scope="col">{t!(i18n, letter.access_level)}</th>
                    </tr>
                </thead>
                <tbody>
                    {entries
                        .into_iter()
                        .map(|entry| {
                            let what: String = match (entry.kind, entry.document) {
                                (AccessKind::View, _) => td_string!(locale, letter.viewed).into(),
                                (AccessKind::Download, Some(0)) => {
                                    td_string!(locale, letter.main_downloaded).into()
                                }
                                (AccessKind::Download, Some(index)) => {
                                    td_string!(locale, letter.attachment_downloaded, index).to_string()
                                }
                                (AccessKind::Download, None) => {
                                    td_string!(locale, letter.document_downloaded).into()
                                }
                            };
                            let level = match entry.level {
                                SecurityLevel::Substantial => td_string!(locale, common.level_substantial),
                                SecurityLevel::High => td_string!(locale, common.level_high),
                            };
                            view! {
                                <tr>
                                    <td><time datetime=entry.at.to_rfc3339()>{local_time(locale, entry.at)}</time></td>
                                    <td>{what}</td>
                                    <td>{level}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
pub fn SiteFooter() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <footer class="site-footer">
            <p>{t!(i18n, common.footer)}</p>
        </footer>
    }
}

#[component]
pub fn Landing() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, landing.title) />
        <section class="hero" aria-labelledby="forside-tittel">
            <h1 id="forside-tittel">{t!(i18n, landing.heading)}</h1>
            <p class="lead">{t!(i18n, landing.lead)}</p>
        </section>
        <section aria-labelledby="slik-tittel">
            <h2 id="slik-tittel">{t!(i18n, landing.how_it_works)}</h2>
            <ol class="steps">
                <li>
                    <h3>{t!(i18n, landing.step_send)}</h3>
                    <p>{t!(i18n, landing.step_send_text)}</p>
                </li>
                <li>
                    <h3>{t!(i18n, landing.step_notice)}</h3>
                    <p>{t!(i18n, landing.step_notice_text)}</p>
                </li>
                <li>
                    <h3>{t!(i18n, landing.step_read)}</h3>
                    <p>{t!(i18n, landing.step_read_text)}</p>
                </li>
            </ol>
        </section>
        <section aria-labelledby="papir-tittel">
            <h2 id="papir-tittel">{t!(i18n, landing.paper)}</h2>
            <p>{t!(i18n, landing.paper_text)}</p>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, errors.not_found_title) />
        <h1>{t!(i18n, errors.not_found_title)}</h1>
        <p>
            {t!(i18n, errors.not_found_before)}
            <a href="/">{t!(i18n, errors.not_found_link)}</a>
            {t!(i18n, errors.not_found_after)}
        </p>
    }
}
