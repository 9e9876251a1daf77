//! The pages of the citizen web app and the frame around them.

use crate::{
    archive::{list_folders, FolderView},
    archive_pages::{LetterActions, LetterTools},
    domain::{LetterId, Place, SecurityLevel},
    error::AppError,
    mailbox::{
        current_viewer, list_inbox, open_letter, AcceptOpeningReceipt, AccessEntry, AccessKind,
        InboxEntry, LetterBody, LetterPage, LetterView,
    },
    strings,
};
use chrono::{DateTime, Utc};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// Norwegian local time, as citizens read it.
pub(crate) fn local_time(time: DateTime<Utc>) -> String {
    time.with_timezone(&chrono_tz::Europe::Oslo)
        .format("%d.%m.%Y kl. %H:%M")
        .to_string()
}

pub(crate) fn size_text(bytes: u64) -> String {
    if bytes < 1024 * 1024 {
        format!("{} kB", bytes.div_ceil(1024))
    } else {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0)).replace('.', ",")
    }
}

/// Shows an error in words; on the server it also sets the response status.
#[component]
pub(crate) fn ErrorNotice(error: AppError) -> impl IntoView {
    #[cfg(feature = "ssr")]
    error.set_response_status();
    match error {
        AppError::Unauthorized => view! {
            <Title text="Logg inn" />
            <h1>"Du må logge inn"</h1>
            <p>"Logg inn med ID-porten for å se postkassen din."</p>
            <p><a class="button" href="/auth/login" rel="external">"Logg inn"</a></p>
        }
        .into_any(),
        AppError::NotFound => view! { <NotFound /> }.into_any(),
        other => view! {
            <Title text="Feil" />
            <h1>"Noe gikk galt"</h1>
            <p>{other.to_string()}</p>
        }
        .into_any(),
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
    view! {
        <header class="site-header">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"✉"</span>
                "Postkasse"
            </a>
            <nav aria-label="Hovedmeny" class="site-nav">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match viewer.await {
                            Ok(Some(viewer)) => view! {
                                <a href="/innboks">"Innboks"</a>
                                <a href="/innstillinger">"Innstillinger"</a>
                                <span class="who">
                                    "Logget inn som " <strong>{viewer.display_name}</strong>
                                    {(viewer.level == SecurityLevel::High).then_some(" (høyt nivå)")}
                                </span>
                                <form method="post" action="/auth/logout" class="logout">
                                    <button type="submit">"Logg ut"</button>
                                </form>
                            }
                            .into_any(),
                            // rel="external": server routes, not pages the client router knows.
                            _ => view! { <a class="button" href="/auth/login" rel="external">"Logg inn"</a> }.into_any(),
                        }
                    })}
                </Suspense>
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
    view! {
        // While the letters load the page has a title too; the place's own replaces it.
        <Title text=strings::INBOX />
        <Suspense fallback=|| view! { <p>"Henter brevene dine …"</p> }>
            {move || Suspend::new(async move {
                match (letters.await, folders.await) {
                    (Ok(page), Ok(folders)) => view! {
                        <Title text=page.place_name.clone() />
                        <InboxList page folders />
                    }
                    .into_any(),
                    (Err(error), _) | (_, Err(error)) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

const LOCKED_NOTE: &str = " (krever høyt sikkerhetsnivå)";

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
    let mut places = vec![
        (Place::Inbox, strings::INBOX.to_owned()),
        (Place::Archive, strings::ARCHIVE.to_owned()),
    ];
    places.extend(
        folders
            .into_iter()
            .map(|folder| (Place::Folder(folder.id), folder.name)),
    );
    places.push((Place::Trash, strings::TRASH.to_owned()));
    view! {
        <nav aria-label="Mapper" class="places">
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
                <a href="/mapper">{strings::ORGANISE_FOLDERS}</a>
                " · "
                <a href="/mine-dokumenter">{strings::MY_DOCUMENTS}</a>
                " · "
                <a href="/eksport/postkasse.zip" rel="external" download="postkasse.zip">
                    {strings::DOWNLOAD_ARCHIVE}
                </a>
            </p>
        </nav>
    }
}

#[component]
fn InboxList(page: LetterPage, folders: Vec<FolderView>) -> impl IntoView {
    let LetterPage {
        place,
        place_name,
        entries,
        total,
        unread,
        page,
        page_count,
        trash_days,
    } = page;
    let empty_text = match place {
        Place::Inbox => strings::NO_LETTERS_IN_INBOX,
        Place::Trash => strings::TRASH_EMPTY,
        _ => strings::NO_LETTERS_HERE,
    };
    let trash_note = (place == Place::Trash).then(|| {
        view! {
            <p>
                {strings::trash_note(trash_days)}
            </p>
        }
    });
    view! {
        <h1>{place_name}</h1>
        <p class="lead">{format!("{total} brev, {unread} ulest")}</p>
        <form method="get" action="/sok" role="search" class="search-form inbox-search">
            <label for="innboks-sok">"Søk i brevene"</label>
            <input type="search" id="innboks-sok" name="q" maxlength="200" />
            <button type="submit">"Søk"</button>
        </form>
        <PlaceNav current=place folders />
        {trash_note}
        {if entries.is_empty() {
            view! { <p>{empty_text}</p> }.into_any()
        } else {
            view! {
                <ul class="inbox" aria-label="Brev">
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
    let href = format!("/brev/{}", entry.id);
    let attachments = match entry.attachment_count {
        0 => None,
        count => Some(strings::attachments(count)),
    };
    view! {
        <li class:unread=entry.unread>
            <a href=href class="letter-link">
                <span class="from">
                    <span class="sender">{entry.sender_name}</span>
                    {entry.public_sender.then(|| view! {
                        <span class="visually-hidden">", "</span>
                        <span class="sender-kind">{strings::PUBLIC_SENDER}</span>
                    })}
                </span>
                // The visible parts are separate grid cells; hidden
                // punctuation makes the link read as a sentence.
                <span class="visually-hidden">":"</span>
                <span class="title">
                    {entry.unread.then(|| view! { <span class="badge">"Ulest"</span> " " })}
                    {entry.title}
                    {entry.locked.then_some(LOCKED_NOTE)}
                    {attachments.map(|text| view! {
                        <span class="visually-hidden">", "</span>
                        <span class="attachments">{text}</span>
                    })}
                </span>
                <span class="visually-hidden">", mottatt"</span>
                <time datetime=entry.received_at.to_rfc3339()>{local_time(entry.received_at)}</time>
            </a>
        </li>
    }
}

/// "Forrige" and "Neste" between pages, and where the citizen is.
#[component]
fn Pager(place: Place, page: u32, page_count: u32) -> impl IntoView {
    (page_count > 1).then(|| {
        view! {
            <nav aria-label="Sider" class="pager">
                {(page > 1).then(|| view! {
                    <a href=place_href(place, page - 1) rel="prev">{strings::PREVIOUS_PAGE}</a>
                })}
                <span>{strings::page_of(page, page_count)}</span>
                {(page < page_count).then(|| view! {
                    <a href=place_href(place, page + 1) rel="next">{strings::NEXT_PAGE}</a>
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
        <Title text="Brev" />
        <Suspense fallback=|| view! { <p>"Henter brevet …"</p> }>
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
    let opening_notice = format!(
        "Når du åpner brevet, får {} beskjed om at det er åpnet. ",
        letter.sender_name
    );
    view! {
        <Title text=letter.title.clone() />
        <p class="breadcrumb"><a href="/innboks">"Tilbake til innboksen"</a></p>
        <article class="letter">
            <h1>{letter.title}</h1>
            <dl class="letter-facts">
                <dt>"Fra"</dt>
                <dd>
                    {letter.sender_name}
                    {letter.public_sender.then(|| format!(" ({})", strings::PUBLIC_SENDER.to_lowercase()))}
                </dd>
                <dt>"Mottatt"</dt>
                <dd><time datetime=letter.received_at.to_rfc3339()>{local_time(letter.received_at)}</time></dd>
            </dl>
            {if letter.locked {
                view! {
                    <section class="locked" aria-labelledby="laast-tittel">
                        <h2 id="laast-tittel">"Brevet krever høyt sikkerhetsnivå"</h2>
                        <p>
                            "Avsenderen har bestemt at dette brevet bare kan leses etter innlogging "
                            "med høyt sikkerhetsnivå, for eksempel BankID."
                        </p>
                        <p><a class="button" href=step_up rel="external">"Logg inn med høyere sikkerhetsnivå"</a></p>
                    </section>
                }
                .into_any()
            } else if letter.opening_receipt_pending {
                view! {
                    <section class="opening-receipt" aria-labelledby="aapning-tittel">
                        <h2 id="aapning-tittel">"Avsenderen vil vite når du åpner brevet"</h2>
                        <p>
                            {opening_notice}
                            "Du kan la være å åpne det nå og komme tilbake senere."
                        </p>
                        <ActionForm action=accept>
                            <input type="hidden" name="id" value=letter_id />
                            <button type="submit">"Åpne brevet og gi beskjed"</button>
                        </ActionForm>
                        <p><a href="/innboks">"Ikke nå, tilbake til innboksen"</a></p>
                    </section>
                }
                .into_any()
            } else {
                view! {
                    <section aria-labelledby="dokumenter-tittel">
                        <h2 id="dokumenter-tittel">"Dokumenter"</h2>
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
                                                {format!("({}, {})", document.file_name, size_text(document.size_bytes))}
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
    view! {
        <section class="access-log" aria-labelledby="tilgang-tittel">
            <h2 id="tilgang-tittel">"Tilgangslogg"</h2>
            <p>"Hver gang brevet er vist eller et dokument lastet ned, står det her."</p>
            <table>
                <thead>
                    <tr>
                        <th scope="col">"Tidspunkt"</th>
                        <th scope="col">"Hva"</th>
                        <th scope="col">"Innloggingsnivå"</th>
                    </tr>
                </thead>
                <tbody>
                    {entries
                        .into_iter()
                        .map(|entry| {
                            let what = match (entry.kind, entry.document) {
                                (AccessKind::View, _) => "Brevet ble vist".to_owned(),
                                (AccessKind::Download, Some(0)) => "Hoveddokumentet ble lastet ned".to_owned(),
                                (AccessKind::Download, Some(index)) => format!("Vedlegg {index} ble lastet ned"),
                                (AccessKind::Download, None) => "Et dokument ble lastet ned".to_owned(),
                            };
                            let level = match entry.level {
                                SecurityLevel::Substantial => "Betydelig",
                                SecurityLevel::High => "Høyt",
                            };
                            view! {
                                <tr>
                                    <td><time datetime=entry.at.to_rfc3339()>{local_time(entry.at)}</time></td>
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
    view! {
        <footer class="site-footer">
            <p>
                "Postkasse er en digital postkasse for brev fra offentlige virksomheter, "
                "levert gjennom ordningen Digital postkasse til innbyggere."
            </p>
        </footer>
    }
}

#[component]
pub fn Landing() -> impl IntoView {
    view! {
        <Title text="Forside" />
        <section class="hero" aria-labelledby="forside-tittel">
            <h1 id="forside-tittel">"Din digitale postkasse"</h1>
            <p class="lead">
                "Brev fra skatteetaten, kommunen, NAV og andre offentlige virksomheter "
                "kommer trygt hit i stedet for på papir. Du får varsel på e-post eller SMS "
                "når noe nytt har kommet, og brevene blir liggende i ditt eget arkiv så lenge du vil."
            </p>
        </section>
        <section aria-labelledby="slik-tittel">
            <h2 id="slik-tittel">"Slik fungerer det"</h2>
            <ol class="steps">
                <li>
                    <h3>"Virksomheten sender brevet"</h3>
                    <p>"Brevet slås opp i Kontakt- og reservasjonsregisteret og sendes til postkassen du har valgt."</p>
                </li>
                <li>
                    <h3>"Du får varsel"</h3>
                    <p>"Varselet kommer på dagtid og sier aldri noe om innholdet i brevet."</p>
                </li>
                <li>
                    <h3>"Du logger inn og leser"</h3>
                    <p>"Du logger inn med ID-porten. Brev med høyt sikkerhetsnivå krever innlogging på nivå høyt."</p>
                </li>
            </ol>
        </section>
        <section aria-labelledby="papir-tittel">
            <h2 id="papir-tittel">"Vil du heller ha brev på papir?"</h2>
            <p>
                "Du kan reservere deg mot digital post. Da sender virksomhetene brevene sine "
                "med vanlig post til adressen du er registrert med i Folkeregisteret."
            </p>
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
    view! {
        <Title text="Fant ikke siden" />
        <h1>"Fant ikke siden"</h1>
        <p>"Siden du lette etter finnes ikke. Sjekk adressen, eller gå til "<a href="/">"forsiden"</a>"."</p>
    }
}
