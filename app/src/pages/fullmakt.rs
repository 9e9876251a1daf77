//! "Fullmakter" (`/fullmakter`): the powers of attorney the citizen gave,
//! with a button to end each at once; those they were given, with buttons
//! to open the principal's mailbox or end the power; and the form to give
//! a new one. Every form works without JavaScript.

use crate::{
    api::fullmakt::{
        field, load_fullmakter, EndFullmakt, EndedBy, FullmaktOverview, FullmaktView, GiveFullmakt,
        Reach, SenderChoice, LONGEST_DAYS,
    },
    components::{
        error_notice::ErrorNotice,
        forms::{described_by, error_text, form_error, FieldError, TextField},
    },
    error::AppError,
    i18n::{t, tu_string, use_i18n},
    locale::local_date,
};
use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The refusal of field `name`, if the form's refusal is about it.
fn about(error: Signal<Option<AppError>>, name: &'static str) -> Signal<Option<AppError>> {
    Signal::derive(move || {
        error.get().filter(|error| match error {
            AppError::Invalid { field, .. } => field == name,
            _ => false,
        })
    })
}

#[component]
pub fn FullmaktPage() -> impl IntoView {
    let i18n = use_i18n();
    let give = ServerAction::<GiveFullmakt>::new();
    let end = ServerAction::<EndFullmakt>::new();
    let overview = Resource::new(
        move || (give.version().get(), end.version().get()),
        |_| load_fullmakter(),
    );
    let query = use_query_map();
    let stale = move || query.with(|query| query.get("feil").as_deref() == Some("ikke-gyldig"));
    view! {
        <Title text=tu_string!(i18n, fullmakt.title) />
        <h1>{t!(i18n, fullmakt.title)}</h1>
        <p class="lead">{t!(i18n, fullmakt.lead)}</p>
        {move || stale().then(|| view! { <p class="field-error" role="alert">{t!(i18n, fullmakt.not_in_force)}</p> })}
        <Suspense fallback=move || view! { <p>{t!(i18n, fullmakt.loading)}</p> }>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(overview) => view! { <Overview overview give end /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Overview(
    overview: FullmaktOverview,
    give: ServerAction<GiveFullmakt>,
    end: ServerAction<EndFullmakt>,
) -> impl IntoView {
    let i18n = use_i18n();
    let FullmaktOverview {
        given,
        received,
        senders,
        today,
    } = overview;
    view! {
        <section aria-labelledby="gitt-tittel" class="settings-section">
            <h2 id="gitt-tittel">{t!(i18n, fullmakt.given)}</h2>
            {if given.is_empty() {
                view! { <p>{t!(i18n, fullmakt.none_given)}</p> }.into_any()
            } else {
                view! {
                    <ul class="powers">
                        {given.into_iter().map(|power| view! { <Power power given=true end /> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
        <section aria-labelledby="fatt-tittel" class="settings-section">
            <h2 id="fatt-tittel">{t!(i18n, fullmakt.received)}</h2>
            {if received.is_empty() {
                view! { <p>{t!(i18n, fullmakt.none_received)}</p> }.into_any()
            } else {
                view! {
                    <ul class="powers">
                        {received.into_iter().map(|power| view! { <Power power given=false end /> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
        <GiveForm senders today give />
    }
}

/// One power: who, what, which senders, until when, and what can be done.
#[component]
fn Power(power: FullmaktView, given: bool, end: ServerAction<EndFullmakt>) -> impl IntoView {
    let i18n = use_i18n();
    let who = power.other_name.clone().unwrap_or_else(|| {
        tu_string!(
            i18n,
            common.citizen_born,
            date = power.other_birth_date.format("%d.%m.%Y")
        )
        .to_string()
    });
    let reach = match power.reach {
        Reach::Read => tu_string!(i18n, fullmakt.reach_read),
        Reach::ReadAndReply => tu_string!(i18n, fullmakt.reach_read_reply),
    };
    let senders = match &power.senders {
        None => tu_string!(i18n, fullmakt.all_senders).to_owned(),
        Some(senders) => {
            let names: Vec<&str> = senders.iter().map(|sender| sender.name.as_str()).collect();
            tu_string!(i18n, fullmakt.only_senders, names = names.join(", ")).to_string()
        }
    };
    let status = match power.ended {
        Some((at, EndedBy::Principal)) if given => {
            tu_string!(i18n, fullmakt.ended_by_you, date = local_date(at)).to_string()
        }
        Some((at, EndedBy::Delegate)) if !given => {
            tu_string!(i18n, fullmakt.ended_by_you, date = local_date(at)).to_string()
        }
        Some((at, _)) => {
            tu_string!(i18n, fullmakt.ended_by_other, date = local_date(at)).to_string()
        }
        None if power.in_force => {
            tu_string!(i18n, fullmakt.until, date = local_date(power.ends_at)).to_string()
        }
        None => tu_string!(i18n, fullmakt.expired, date = local_date(power.ends_at)).to_string(),
    };
    let heading = if given {
        tu_string!(i18n, fullmakt.given_to, name = who.clone()).to_string()
    } else {
        tu_string!(i18n, fullmakt.given_by, name = who.clone()).to_string()
    };
    let id = power.id.to_string();
    let open_label = tu_string!(i18n, fullmakt.open_mailbox, name = who.clone()).to_string();
    let end_label = tu_string!(i18n, fullmakt.end_now, name = who).to_string();
    view! {
        <li class="power" class:ended=!power.in_force>
            <h3>{heading}</h3>
            <p>{reach}". "{senders}". "{status}"."</p>
            {power.in_force.then(|| view! {
                <div class="power-actions">
                    {(!given).then(|| view! {
                        <form method="post" action="/fullmakter/bruk" class="inline-form">
                            <input type="hidden" name="id" value=id.clone() />
                            <button type="submit">{open_label}</button>
                        </form>
                    })}
                    <ActionForm action=end attr:class="inline-form">
                        <input type="hidden" name="id" value=id />
                        <button type="submit" class="secondary">{end_label}</button>
                    </ActionForm>
                </div>
            })}
        </li>
    }
}

#[component]
fn GiveForm(
    senders: Vec<SenderChoice>,
    today: chrono::NaiveDate,
    give: ServerAction<GiveFullmakt>,
) -> impl IntoView {
    let i18n = use_i18n();
    let error = form_error(give);
    let general = Signal::derive(move || {
        error
            .get()
            .filter(|error| !matches!(error, AppError::Invalid { .. }))
    });
    let reach_error = about(error, field::REACH);
    let senders_error = Signal::derive(move || {
        error.get().filter(|error| {
            matches!(error, AppError::Invalid { field: name, .. }
                if name == field::SENDERS || name.starts_with(field::SENDER))
        })
    });
    let ends_error = about(error, field::ENDS_ON);
    let earliest = today.succ_opt().unwrap_or(today);
    let latest = today + chrono::Duration::days(LONGEST_DAYS);
    let given =
        move || give.version().get() > 0 && give.value().get().is_some_and(|result| result.is_ok());
    let sender_boxes = senders
        .into_iter()
        .enumerate()
        .map(|(index, sender)| {
            let id = format!("avsender-{index}");
            view! {
                <div class="choice">
                    <input
                        type="checkbox"
                        id=id.clone()
                        name=format!("{}[{index}]", field::SENDER)
                        value=sender.org_nr.to_string()
                    />
                    <label for=id>{sender.name}</label>
                </div>
            }
        })
        .collect_view();
    view! {
        <section aria-labelledby="gi-tittel" class="settings-section">
            <h2 id="gi-tittel">{t!(i18n, fullmakt.give_heading)}</h2>
            <p>{t!(i18n, fullmakt.give_lead)}</p>
            {move || given().then(|| view! { <p class="saved-note">{t!(i18n, fullmakt.given_note)}</p> })}
            {move || general.get().map(|error| view! { <p class="field-error" role="alert">{error_text(&error, "")}</p> })}
            <ActionForm action=give attr:class="settings-form" attr:novalidate=true>
                <TextField
                    name=field::FNR
                    hint_id="fnr-hint"
                    error_id="fnr-feil"
                    label=tu_string!(i18n, fullmakt.fnr)
                    kind="text"
                    autocomplete="off"
                    inputmode="numeric"
                    hint=tu_string!(i18n, fullmakt.fnr_hint)
                    value=String::new()
                    error=about(error, field::FNR)
                />
                <TextField
                    name=field::NAME
                    hint_id="navn-hint"
                    error_id="navn-feil"
                    label=tu_string!(i18n, fullmakt.name)
                    kind="text"
                    autocomplete="off"
                    hint=tu_string!(i18n, fullmakt.name_hint)
                    value=String::new()
                    error=about(error, field::NAME)
                />
                <fieldset aria-describedby=described_by(None, "tilgang-feil", reach_error)>
                    <legend>{t!(i18n, fullmakt.reach_legend)}</legend>
                    <div class="choice">
                        <input type="radio" id="tilgang-lese" name=field::REACH value=Reach::Read.code() checked=true />
                        <label for="tilgang-lese">{t!(i18n, fullmakt.reach_read)}</label>
                    </div>
                    <div class="choice">
                        <input type="radio" id="tilgang-svare" name=field::REACH value=Reach::ReadAndReply.code() />
                        <label for="tilgang-svare">{t!(i18n, fullmakt.reach_read_reply)}</label>
                    </div>
                    <FieldError id="tilgang-feil" label=tu_string!(i18n, fullmakt.reach_legend) error=reach_error />
                </fieldset>
                <fieldset aria-describedby=described_by(None, "avsendere-feil", senders_error)>
                    <legend>{t!(i18n, fullmakt.senders_legend)}</legend>
                    <div class="choice">
                        <input type="radio" id="avsendere-alle" name=field::SENDERS value="alle" checked=true />
                        <label for="avsendere-alle">{t!(i18n, fullmakt.all_senders)}</label>
                    </div>
                    <div class="choice">
                        <input type="radio" id="avsendere-valgte" name=field::SENDERS value="valgte" />
                        <label for="avsendere-valgte">{t!(i18n, fullmakt.chosen_senders)}</label>
                    </div>
                    <div class="sender-choices">{sender_boxes}</div>
                    <FieldError id="avsendere-feil" label=tu_string!(i18n, fullmakt.senders_label) error=senders_error />
                </fieldset>
                <div class="field">
                    <label for="til">{t!(i18n, fullmakt.ends_on)}</label>
                    <p id="til-hint" class="hint">
                        {tu_string!(i18n, fullmakt.ends_on_hint, days = LONGEST_DAYS).to_string()}
                    </p>
                    <input
                        type="date"
                        id="til"
                        name=field::ENDS_ON
                        min=earliest.to_string()
                        max=latest.to_string()
                        aria-describedby=described_by(Some("til-hint"), "til-feil", ends_error)
                        aria-invalid=move || ends_error.get().is_some().then_some("true")
                    />
                    <FieldError id="til-feil" label=tu_string!(i18n, fullmakt.ends_on) error=ends_error />
                </div>
                <button type="submit">{t!(i18n, fullmakt.give)}</button>
            </ActionForm>
        </section>
    }
}
