//! An order to sign as its signers see it (what, for whom, by when, the
//! document's SHA-256, who signs in what order) with the sign and decline
//! forms or how the viewer's part ended, and the checked signatures of
//! signed PDFs. The letter page and a later signer's page both show them.
//!
//! Signing and declining are plain forms posted to the order's
//! `form_action`: one deliberate action each, the same with and without
//! JavaScript.

use crate::{
    api::signing::{
        SignatureSummary, SignatureVerdict, SignerLine, SigningState, SigningView, REASON_MAX_CHARS,
    },
    domain::{JobStatus, SignerStatus},
    i18n::{t, tu_string, use_i18n},
    locale::local_time,
};
use leptos::prelude::*;

/// An order to sign: what, for whom, by when, who signs, and the viewer's
/// forms or how their part ended.
#[component]
pub fn SigningOrderView(order: SigningView) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let action = order.form_action.clone();
    let step_up = format!("/auth/login?level=high&return_to={}", order.page_href);
    let deadline = local_time(locale, order.deadline);
    // The viewer signed, but someone else's part ended the job.
    let not_completed = order.job == JobStatus::Failed && order.state_is_signed();
    let state = match order.state {
        SigningState::Open => view! {
            <form method="post" action=action.clone() class="sign-form">
                <input type="hidden" name="handling" value="signer" />
                <p>{tu_string!(i18n, signing.confirm, name = order.shown_as.clone())}</p>
                <button type="submit">{t!(i18n, signing.sign)}</button>
            </form>
            <details class="decline">
                <summary>{t!(i18n, signing.decline_heading)}</summary>
                <form method="post" action=action>
                    <input type="hidden" name="handling" value="avvis" />
                    <label for="begrunnelse">{t!(i18n, signing.reason)}</label>
                    <textarea id="begrunnelse" name="begrunnelse" rows="3" maxlength=REASON_MAX_CHARS.to_string()></textarea>
                    <button type="submit" class="secondary">{t!(i18n, signing.decline)}</button>
                </form>
            </details>
        }
        .into_any(),
        SigningState::NeedsStepUp => view! {
            <p>{t!(i18n, signing.needs_step_up)}</p>
            <p><a class="button" href=step_up rel="external">{t!(i18n, letter.step_up)}</a></p>
        }
        .into_any(),
        SigningState::Signed { at, signed_href } => view! {
            <p class="done" role="status">
                {tu_string!(i18n, signing.signed_at, time = local_time(locale, at))}
            </p>
            <p><a href=signed_href rel="external">{t!(i18n, signing.signed_document)}</a></p>
        }
        .into_any(),
        SigningState::Declined { at } => view! {
            <p class="done" role="status">{tu_string!(i18n, signing.declined_at, time = local_time(locale, at))}</p>
        }
        .into_any(),
        SigningState::Expired => view! {
            <p class="closed-note">{tu_string!(i18n, signing.expired, time = deadline.clone())}</p>
        }
        .into_any(),
        SigningState::Cancelled { at } => view! {
            <p class="closed-note">{tu_string!(i18n, signing.cancelled, time = local_time(locale, at))}</p>
        }
        .into_any(),
    };
    view! {
        <section id="signering" class="signing" aria-labelledby="signering-tittel">
            <h2 id="signering-tittel">{t!(i18n, signing.heading)}</h2>
            <dl class="letter-facts">
                <dt>{t!(i18n, signing.what)}</dt>
                <dd>{order.title}</dd>
                <dt>{t!(i18n, signing.for_whom)}</dt>
                <dd>{order.sender_name}</dd>
                <dt>{t!(i18n, signing.document)}</dt>
                <dd><a href=order.document_href rel="external">{order.document_name}</a></dd>
                <dt>{t!(i18n, signing.fingerprint)}</dt>
                <dd><code class="fingerprint">{order.document_sha256}</code></dd>
                <dt>{t!(i18n, signing.deadline)}</dt>
                <dd>{deadline}</dd>
                <dt>{t!(i18n, signing.shown_as)}</dt>
                <dd>{order.shown_as}</dd>
            </dl>
            {(order.signers.len() > 1).then(|| view! { <SignerList signers=order.signers /> })}
            {state}
            {order.completed_href.clone().map(|href| view! {
                <p class="done" role="status">{t!(i18n, signing.completed)}</p>
                <p><a href=href rel="external">{t!(i18n, signing.completed_document)}</a></p>
            })}
            {not_completed.then(|| view! {
                <p class="closed-note">{t!(i18n, signing.not_completed)}</p>
            })}
        </section>
    }
}

/// Everyone who signs, in order, and how far each has got.
#[component]
fn SignerList(signers: Vec<SignerLine>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <h3>{t!(i18n, signing.signers_heading)}</h3>
        <ol class="signers">
            {signers
                .into_iter()
                .map(|signer| {
                    let time = signer.at.map(|at| local_time(locale, at)).unwrap_or_default();
                    let status = match signer.status {
                        SignerStatus::Waiting => tu_string!(i18n, signing.signer_waiting).to_owned(),
                        SignerStatus::Signed => tu_string!(i18n, signing.signer_signed, time = time),
                        SignerStatus::Rejected => tu_string!(i18n, signing.signer_declined, time = time),
                        SignerStatus::Expired => tu_string!(i18n, signing.signer_expired).to_owned(),
                        SignerStatus::Cancelled => tu_string!(i18n, signing.signer_cancelled).to_owned(),
                    };
                    view! {
                        <li>
                            {signer.name}
                            {signer.is_viewer.then(|| view! { " " {t!(i18n, signing.you)} })}
                            ": " {status}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

/// Each signature in the letter's PDFs: who, when, and whether it holds.
#[component]
pub fn Signatures(signatures: Vec<SignatureSummary>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <section class="signatures" aria-labelledby="signaturer-tittel">
            <h2 id="signaturer-tittel">{t!(i18n, signing.signatures_heading)}</h2>
            <ul>
                {signatures
                    .into_iter()
                    .map(|signature| {
                        let who = match &signature.name {
                            Some(name) if *name != signature.signer => {
                                format!("{name} ({})", signature.signer)
                            }
                            _ => signature.signer.clone(),
                        };
                        let verdict = match signature.verdict {
                            SignatureVerdict::Valid => view! { <strong class="verdict valid">{t!(i18n, signing.valid)}</strong> }.into_any(),
                            SignatureVerdict::UnknownSigner => view! { <strong class="verdict unknown">{t!(i18n, signing.unknown_signer)}</strong> }.into_any(),
                            SignatureVerdict::Invalid => view! { <strong class="verdict invalid">{t!(i18n, signing.invalid)}</strong> }.into_any(),
                        };
                        view! {
                            <li class="signature">
                                <span>{signature.document_name}</span>": "
                                {tu_string!(i18n, signing.signed_by, name = who)}
                                {signature.signed_at.map(|at| view! {
                                    ", "
                                    <time datetime=at.to_rfc3339()>{local_time(locale, at)}</time>
                                })}
                                {signature.timestamped.then(|| view! { " " {t!(i18n, signing.timestamped)} })}
                                ". "
                                {verdict}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}
