//! A letter's page (`/brev/<id>`): its facts, its documents (or why they
//! are closed: a higher login level needed, an opening receipt to agree to),
//! what the sender asks of the citizen ([`reply`], [`signing`]), what can be done with
//! it ([`tools`]) and who has seen it.

mod reader;
mod reply;
mod signing;
mod tools;

use crate::{
    api::{
        archive::{list_folders, FolderView},
        mailbox::{
            open_letter, AcceptOpeningReceipt, AccessEntry, AccessKind, LetterBody, LetterView,
        },
    },
    components::error_notice::ErrorNotice,
    domain::{LetterId, SecurityLevel},
    error::AppError,
    i18n::{t, td_string, tu_string, use_i18n},
    locale::{local_time, size_text},
};
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use reader::PdfReader;
use reply::{LinkOut, ReplySection};
use signing::SigningSection;
use tools::{LetterActions, LetterTools};

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
                Some(id) => open_letter(id.to_string()).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        // While the letter loads the page has a title too; the letter's own replaces it.
        <Title text=tu_string!(i18n, letter.title) />
        <Suspense fallback=move || view! { <p>{t!(i18n, letter.loading)}</p> }>
            {move || Suspend::new(async move {
                let shown = match (opened.await, folders.await) {
                    (Ok(letter), Ok(folders)) => Ok((letter, folders)),
                    // A delegate reads the letter; the owner's folders are not theirs.
                    (Ok(letter), Err(_)) if letter.delegated => Ok((letter, Vec::new())),
                    (Err(error), _) | (_, Err(error)) => Err(error),
                };
                match shown {
                    Ok((letter, folders)) => {
                        view! { <LetterDetails letter folders accept actions /> }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
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
    let link = letter
        .link
        .clone()
        .map(|link| view! { <LinkOut link open=letter.link_open /> });
    // A delegate reads, and answers when the power allows; signing, moving
    // and marking stay the owner's.
    let delegated = letter.delegated;
    let reply = (!delegated)
        .then(|| view! { <ReplySection letter=letter.id sender=letter.sender_name.clone() /> });
    let signing = (!delegated).then(|| view! { <SigningSection letter=letter.id /> });
    let tools = (!delegated).then(|| view! { <LetterTools id=letter.id unread=letter.unread place=letter.place folders actions /> });
    let body = letter.body.clone().map(|body| match body {
        // Sanitised on the server: no scripts, handlers or outside references.
        LetterBody::Html(html) => {
            view! { <div class="letter-body" inner_html=html></div> }.into_any()
        }
        LetterBody::PlainText(text) => {
            view! { <pre class="letter-body letter-text">{text}</pre> }.into_any()
        }
    });
    // PDFs are read in the page: the main document at once, each
    // attachment when the citizen opens it.
    let readers = letter
        .documents
        .iter()
        .enumerate()
        .filter_map(|(index, document)| {
            let pages = document.pages.clone()?;
            let reader = view! {
                <PdfReader index title=document.title.clone() download=document.href.clone() pages />
            };
            Some(if index == 0 {
                reader.into_any()
            } else {
                let open = tu_string!(i18n, reader.read_attachment, title = document.title.clone())
                    .to_string();
                view! {
                    <details class="reader-attachment">
                        <summary>{open}</summary>
                        {reader}
                    </details>
                }
                .into_any()
            })
        })
        .collect_view();
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
                {letter.signer.map(|signer| {
                    let signed = tu_string!(
                        i18n,
                        letter.signed_by,
                        name = signer.name,
                        org_nr = signer.org_nr.to_string()
                    )
                    .to_string();
                    view! {
                        <dt>{t!(i18n, letter.signature)}</dt>
                        <dd class="letter-signature">
                            {signed}
                            {signer
                                .signed_at
                                .map(|at| {
                                    view! {
                                        " "
                                        <time datetime=at.to_rfc3339()>{local_time(locale, at)}</time>
                                    }
                                })}
                            ". "
                            {t!(i18n, letter.signature_verified)}
                        </dd>
                    }
                })}
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
                        {readers}
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
                    {link}
                    {signing}
                    {reply}
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
                                (AccessKind::Read, Some(0) | None) => {
                                    td_string!(locale, letter.main_read).into()
                                }
                                (AccessKind::Read, Some(index)) => {
                                    td_string!(locale, letter.attachment_read, index).to_string()
                                }
                                (AccessKind::Reply, _) => td_string!(locale, letter.reply_sent).into(),
                                (AccessKind::Message, _) => td_string!(locale, letter.message_sent).into(),
                            };
                            // Under a power of attorney: by whom.
                            let what = match entry.delegate {
                                Some(name) => td_string!(locale, letter.by_delegate, what = what, name = name).to_string(),
                                None => what,
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
