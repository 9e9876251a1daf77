//! The citizen's settings page ("Innstillinger"): their own entry in the
//! contact and reservation register (KRR). They see and change their e-mail
//! address and mobile number, confirm them, reserve against digital post or
//! withdraw the reservation, choose a digital mailbox and a language, and
//! read the log of every change.
//!
//! Every form is an [`ActionForm`], so it works with and without JavaScript:
//!
//! - Without JavaScript the browser posts the form to the server function,
//!   which redirects back here; a refusal comes back in the address as
//!   `?__path=<server function>&__err=<the error, base64 JSON>`, and the page
//!   shows it beside the form it belongs to.
//! - With JavaScript the action calls the server function, its value holds a
//!   refusal, and a success reloads the settings.
//!
//! The log of changes is in [`change_log`].

mod change_log;

use crate::{
    api::contact::{
        load_contact_settings, AddressChange, ChangeEmail, ChangeMobile, ChannelView,
        ChooseLanguage, ChooseMailbox, ChooseNotices, ConfirmContact, ContactSettings,
        NoticeChoice, PendingProof, ProveEmail, ProveMobile, ProviderChoice, Reserve,
        WithdrawReservation,
    },
    api::moving::{load_move_status, MoveStatus, StartMove},
    components::{
        error_notice::ErrorNotice,
        forms::{described_by, FieldError, SavedNote, TextField},
    },
    domain::Language,
    error::AppError,
    i18n::{t, td_string, tu_string, use_i18n, Locale},
    locale::{self, local_time},
};
use change_log::ChangeLog;
use chrono::{DateTime, SecondsFormat, Utc};
use leptos::{
    form::ActionForm,
    prelude::*,
    server_fn::{error::ServerFnUrlError, ServerFn},
};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// What the citizen last saved through JavaScript, so the page can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Saved {
    /// An address removed.
    Email,
    Mobile,
    EmailCodeSent,
    MobileCodeSent,
    EmailProven,
    MobileProven,
    Confirmed,
    Reserved,
    Withdrawn,
    Mailbox,
    Language,
    Notices,
    Moving,
}

impl Saved {
    fn message(self, locale: Locale) -> &'static str {
        match self {
            Saved::Email => td_string!(locale, settings.saved_email),
            Saved::Mobile => td_string!(locale, settings.saved_mobile),
            Saved::EmailCodeSent => td_string!(locale, settings.saved_email_code),
            Saved::MobileCodeSent => td_string!(locale, settings.saved_mobile_code),
            Saved::EmailProven => td_string!(locale, settings.saved_email_proven),
            Saved::MobileProven => td_string!(locale, settings.saved_mobile_proven),
            Saved::Confirmed => td_string!(locale, settings.saved_confirmed),
            Saved::Reserved => td_string!(locale, settings.saved_reserved),
            Saved::Withdrawn => td_string!(locale, settings.saved_withdrawn),
            Saved::Mailbox => td_string!(locale, settings.saved_mailbox),
            Saved::Language => td_string!(locale, settings.saved_language),
            Saved::Notices => td_string!(locale, settings.saved_notices),
            Saved::Moving => td_string!(locale, settings.saved_moving),
        }
    }
}

/// The page's forms: their actions, and where their errors come from.
#[derive(Clone, Copy)]
struct Forms {
    email: ServerAction<ChangeEmail>,
    mobile: ServerAction<ChangeMobile>,
    prove_email: ServerAction<ProveEmail>,
    prove_mobile: ServerAction<ProveMobile>,
    confirm: ServerAction<ConfirmContact>,
    reserve: ServerAction<Reserve>,
    withdraw: ServerAction<WithdrawReservation>,
    mailbox: ServerAction<ChooseMailbox>,
    language: ServerAction<ChooseLanguage>,
    notices: ServerAction<ChooseNotices>,
    moving: ServerAction<StartMove>,
    /// The server function and error a form posted without JavaScript left in
    /// the page's address.
    posted_error: Memo<Option<(String, AppError)>>,
    /// Whether any form has completed through JavaScript on this page.
    any_completed: Memo<bool>,
    /// How many saves went through JavaScript; the settings reload on each.
    saves: RwSignal<usize>,
    /// The last save, while the last answer was a success.
    note: RwSignal<Option<Saved>>,
}

impl Forms {
    fn new() -> Forms {
        let email = ServerAction::<ChangeEmail>::new();
        let mobile = ServerAction::<ChangeMobile>::new();
        let prove_email = ServerAction::<ProveEmail>::new();
        let prove_mobile = ServerAction::<ProveMobile>::new();
        let confirm = ServerAction::<ConfirmContact>::new();
        let reserve = ServerAction::<Reserve>::new();
        let withdraw = ServerAction::<WithdrawReservation>::new();
        let mailbox = ServerAction::<ChooseMailbox>::new();
        let language = ServerAction::<ChooseLanguage>::new();
        let notices = ServerAction::<ChooseNotices>::new();
        let moving = ServerAction::<StartMove>::new();

        // Read from the query ourselves rather than trusting the error each
        // ServerAction starts with: the router provides that once per address
        // that has one and never withdraws it, so after navigating here from
        // such an address in the browser it would be stale.
        let query = use_query_map();
        let posted_error = Memo::new(move |_| {
            query.with(|query| {
                let path = query.get("__path")?;
                let error = ServerFnUrlError::<AppError>::decode_err(query.get_str("__err")?);
                Some((path, error))
            })
        });
        let any_completed = Memo::new(move |_| {
            [
                email.version().get(),
                mobile.version().get(),
                prove_email.version().get(),
                prove_mobile.version().get(),
                confirm.version().get(),
                reserve.version().get(),
                withdraw.version().get(),
                mailbox.version().get(),
                language.version().get(),
                notices.version().get(),
                moving.version().get(),
            ]
            .into_iter()
            .any(|version| version > 0)
        });

        let saves = RwSignal::new(0);
        let note = RwSignal::new(None);
        let address_saved = |code_sent: Saved, removed: Saved| {
            move |change: &AddressChange| match change {
                AddressChange::CodeSent => code_sent,
                AddressChange::Removed => removed,
            }
        };
        follow(
            email,
            address_saved(Saved::EmailCodeSent, Saved::Email),
            saves,
            note,
        );
        follow(
            mobile,
            address_saved(Saved::MobileCodeSent, Saved::Mobile),
            saves,
            note,
        );
        follow(prove_email, |_| Saved::EmailProven, saves, note);
        follow(prove_mobile, |_| Saved::MobileProven, saves, note);
        follow(confirm, |_| Saved::Confirmed, saves, note);
        follow(reserve, |_| Saved::Reserved, saves, note);
        follow(withdraw, |_| Saved::Withdrawn, saves, note);
        follow(mailbox, |_| Saved::Mailbox, saves, note);
        follow(language, |_| Saved::Language, saves, note);
        follow(notices, |_| Saved::Notices, saves, note);
        follow(moving, |_| Saved::Moving, saves, note);

        Forms {
            email,
            mobile,
            prove_email,
            prove_mobile,
            confirm,
            reserve,
            withdraw,
            mailbox,
            language,
            notices,
            moving,
            posted_error,
            any_completed,
            saves,
            note,
        }
    }

    /// The error to show beside `action`'s form: its own last answer once it
    /// has run in the browser; before anything has, the one in the address if
    /// it came from this form. A save through JavaScript makes an old error in
    /// the address moot, since the page now shows fresh settings.
    fn error<S>(&self, action: ServerAction<S>) -> Signal<Option<AppError>>
    where
        S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
        S::Output: Clone + Send + Sync + 'static,
    {
        let Forms {
            posted_error,
            any_completed,
            ..
        } = *self;
        Signal::derive(move || {
            if action.version().get() > 0 {
                action.value().get().and_then(Result::err)
            } else if any_completed.get() {
                None
            } else {
                posted_error
                    .get()
                    .and_then(|(path, error)| (path == S::PATH).then_some(error))
            }
        })
    }

    /// The confirmation of the last save, if it belongs to one of `sections`.
    fn note_in(&self, sections: &'static [Saved]) -> Signal<Option<&'static str>> {
        let note = self.note;
        let locale = locale::current();
        Signal::derive(move || {
            note.get()
                .filter(|what| sections.contains(what))
                .map(|what| what.message(locale))
        })
    }
}

/// Follows `action`'s answers (an effect, so in the browser only): a success
/// counts as a save and is confirmed as `what` says of its answer; a refusal
/// withdraws any confirmation, which would otherwise sit beside the error as
/// if the change had gone through.
fn follow<S>(
    action: ServerAction<S>,
    what: impl Fn(&S::Output) -> Saved + Send + Sync + 'static,
    saves: RwSignal<usize>,
    note: RwSignal<Option<Saved>>,
) where
    S: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| match action.value().get() {
        Some(Ok(answer)) => {
            saves.update(|saves| *saves += 1);
            note.set(Some(what(&answer)));
        }
        Some(Err(_)) => note.set(None),
        None => {}
    });
}

/// A `<time datetime>` value in whole seconds (HTML allows at most milliseconds).
fn machine_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let forms = Forms::new();
    let settings = Resource::new(move || forms.saves.get(), |_| load_contact_settings());
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <Title text=tu_string!(i18n, settings.title) />
        // Transition, not Suspense: while the settings reload after a save the
        // page keeps showing the old ones instead of blinking to "Henter …".
        <Transition fallback=move || view! { <p>{t!(i18n, settings.loading)}</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(settings) => view! { <SettingsView settings forms /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
        // Outside the part that is rebuilt after a save, so screen readers
        // hear the confirmation (a live region must exist before it changes).
        <p role="status" class="visually-hidden">
            {move || forms.note.get().map(|what| what.message(locale))}
        </p>
    }
}

#[component]
fn SettingsView(settings: ContactSettings, forms: Forms) -> impl IntoView {
    let ContactSettings {
        email,
        mobile,
        pending_email,
        pending_mobile,
        reserved,
        reserved_at,
        provider,
        mailbox_address,
        providers,
        language,
        can_be_notified,
        changes,
        notices,
    } = settings;
    // Only what was proven once is renewed with a click (see ConfirmForm).
    let has_proven = [&email, &mobile]
        .into_iter()
        .flatten()
        .any(|channel| channel.verified_at.is_some());
    let i18n = use_i18n();
    let notify_status = if can_be_notified {
        tu_string!(i18n, settings.can_notify)
    } else if reserved {
        tu_string!(i18n, settings.reserved_no_notices)
    } else {
        tu_string!(i18n, settings.cannot_notify)
    };

    view! {
        <h1>{t!(i18n, settings.title)}</h1>
        <p class="lead">{t!(i18n, settings.lead)}</p>
        <p class="notify-status" class:notify-off=!can_be_notified>
            <strong>{t!(i18n, settings.notices_label)}</strong>
            {notify_status}
        </p>

        <section aria-labelledby="kontakt-tittel" class="settings-section">
            <h2 id="kontakt-tittel">{t!(i18n, settings.contact)}</h2>
            <p>{t!(i18n, settings.contact_lead)}</p>
            <dl class="contact-facts">
                <ChannelFacts label=tu_string!(i18n, settings.email) channel=email.clone() />
                <ChannelFacts label=tu_string!(i18n, settings.mobile) channel=mobile.clone() />
            </dl>
            <StaleWarning channel=email.clone() what=tu_string!(i18n, settings.the_email) />
            <StaleWarning channel=mobile.clone() what=tu_string!(i18n, settings.the_mobile) />
            <SavedNote note=forms.note_in(&[
                Saved::Email,
                Saved::Mobile,
                Saved::EmailCodeSent,
                Saved::MobileCodeSent,
                Saved::EmailProven,
                Saved::MobileProven,
                Saved::Confirmed,
            ]) />
            {has_proven.then(|| view! { <ConfirmForm forms /> })}
            <ActionForm action=forms.email attr:class="settings-form" attr:novalidate=true>
                <TextField
                    name="email"
                    hint_id="email-hint"
                    error_id="email-feil"
                    label=tu_string!(i18n, settings.email)
                    kind="email"
                    autocomplete="email"
                    hint=tu_string!(i18n, settings.email_hint)
                    value=email.map(|channel| channel.value).unwrap_or_default()
                    error=forms.error(forms.email)
                />
                <button type="submit">{t!(i18n, settings.save_email)}</button>
            </ActionForm>
            {pending_email.map(|pending| view! {
                <div class="proof" role="group" aria-labelledby="email-kode-tittel">
                    <h3 id="email-kode-tittel">{t!(i18n, settings.proof_heading_email)}</h3>
                    <ActionForm action=forms.prove_email attr:class="settings-form" attr:novalidate=true>
                        <CodeField
                            pending
                            id="email-kode"
                            hint_id="email-kode-hint"
                            error_id="email-kode-feil"
                            label=tu_string!(i18n, settings.email_code)
                            error=forms.error(forms.prove_email)
                        />
                        <button type="submit">{t!(i18n, settings.prove_email)}</button>
                    </ActionForm>
                </div>
            })}
            <ActionForm action=forms.mobile attr:class="settings-form" attr:novalidate=true>
                <TextField
                    name="mobile"
                    hint_id="mobile-hint"
                    error_id="mobile-feil"
                    label=tu_string!(i18n, settings.mobile)
                    kind="tel"
                    autocomplete="tel"
                    hint=tu_string!(i18n, settings.mobile_hint)
                    value=mobile.map(|channel| channel.value).unwrap_or_default()
                    error=forms.error(forms.mobile)
                />
                <button type="submit">{t!(i18n, settings.save_mobile)}</button>
            </ActionForm>
            {pending_mobile.map(|pending| view! {
                <div class="proof" role="group" aria-labelledby="mobil-kode-tittel">
                    <h3 id="mobil-kode-tittel">{t!(i18n, settings.proof_heading_mobile)}</h3>
                    <ActionForm action=forms.prove_mobile attr:class="settings-form" attr:novalidate=true>
                        <CodeField
                            pending
                            id="mobil-kode"
                            hint_id="mobil-kode-hint"
                            error_id="mobil-kode-feil"
                            label=tu_string!(i18n, settings.mobile_code)
                            error=forms.error(forms.prove_mobile)
                        />
                        <button type="submit">{t!(i18n, settings.prove_mobile)}</button>
                    </ActionForm>
                </div>
            })}
        </section>

        <section aria-labelledby="varsler-tittel" class="settings-section">
            <h2 id="varsler-tittel">{t!(i18n, settings.postkasse_notices)}</h2>
            <p>{t!(i18n, settings.postkasse_notices_lead)}</p>
            <SavedNote note=forms.note_in(&[Saved::Notices]) />
            <NoticesForm current=notices forms />
        </section>

        <section aria-labelledby="reservasjon-tittel" class="settings-section">
            <h2 id="reservasjon-tittel">{t!(i18n, settings.reservation)}</h2>
            <SavedNote note=forms.note_in(&[Saved::Reserved, Saved::Withdrawn]) />
            {if reserved {
                view! { <Reserved since=reserved_at forms /> }.into_any()
            } else {
                view! { <NotReserved forms /> }.into_any()
            }}
        </section>

        <section aria-labelledby="postkasse-tittel" class="settings-section">
            <h2 id="postkasse-tittel">{t!(i18n, settings.digital_mailbox)}</h2>
            <p>{t!(i18n, settings.mailbox_lead)}</p>
            {mailbox_address.map(|address| view! {
                <p class="mailbox-address">
                    {t!(i18n, settings.mailbox_address)}
                    <strong translate="no">{address}</strong>
                </p>
            })}
            {reserved.then(|| view! {
                <p>{t!(i18n, settings.mailbox_while_reserved)}</p>
            })}
            <SavedNote note=forms.note_in(&[Saved::Mailbox]) />
            <MailboxForm providers current=provider forms />
            <MoveLetters forms />
        </section>

        <section aria-labelledby="spraak-tittel" class="settings-section">
            <h2 id="spraak-tittel">{t!(i18n, settings.language)}</h2>
            <p>{t!(i18n, settings.language_lead)}</p>
            <SavedNote note=forms.note_in(&[Saved::Language]) />
            <LanguageForm current=language forms />
        </section>

        <section aria-labelledby="logg-tittel" class="settings-section">
            <h2 id="logg-tittel">{t!(i18n, settings.change_log)}</h2>
            <ChangeLog changes />
        </section>
    }
}

/// One channel's value and dates, as a `<dt>`/`<dd>` pair.
#[component]
fn ChannelFacts(label: &'static str, channel: Option<ChannelView>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let details = match channel {
        None => view! { {t!(i18n, settings.not_registered)} }.into_any(),
        Some(channel) => view! {
            <span class="contact-value">{channel.value}</span>
            <span class="contact-dates">
                {t!(i18n, settings.last_updated)}
                <time datetime=machine_time(channel.updated_at)>{local_time(locale, channel.updated_at)}</time>
                {channel.verified_at.map(|verified_at| view! {
                    {t!(i18n, settings.last_confirmed)}
                    <time datetime=machine_time(verified_at)>{local_time(locale, verified_at)}</time>
                })}
            </span>
        }
        .into_any(),
    };
    view! {
        <dt>{label}</dt>
        <dd>{details}</dd>
    }
}

/// Says so plainly when a channel may no longer be used for notices.
#[component]
fn StaleWarning(channel: Option<ChannelView>, what: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    channel.filter(|channel| !channel.current).map(|_| {
        view! {
            <p class="warning">
                <strong>{tu_string!(i18n, settings.stale_heading, what).to_string()}</strong>
                {tu_string!(i18n, settings.stale_text, what).to_string()}
            </p>
        }
    })
}

/// The field where the code sent to a new address is typed back, with the
/// address and until when the code works. Its name is the server function's
/// argument (`code`); its ids are the channel's.
#[component]
fn CodeField(
    pending: PendingProof,
    id: &'static str,
    hint_id: &'static str,
    error_id: &'static str,
    label: &'static str,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let until = local_time(locale, pending.expires_at);
    let sent_to = tu_string!(
        i18n,
        settings.code_sent_to,
        address = pending.address,
        until = until
    )
    .to_string();
    view! {
        <TextField
            name="code"
            id
            hint_id
            error_id
            label
            kind="text"
            autocomplete="one-time-code"
            inputmode="numeric"
            hint=sent_to
            value=String::new()
            error
        />
    }
}

#[component]
fn ConfirmForm(forms: Forms) -> impl IntoView {
    let error = forms.error(forms.confirm);
    let i18n = use_i18n();
    view! {
        <ActionForm action=forms.confirm attr:class="settings-form">
            <p id="bekreft-hint">{t!(i18n, settings.confirm_hint)}</p>
            <button type="submit" aria-describedby=described_by(Some("bekreft-hint"), "bekreft-feil", error)>
                {t!(i18n, settings.confirm)}
            </button>
            <FieldError id="bekreft-feil" label=tu_string!(i18n, settings.the_confirmation) error />
        </ActionForm>
    }
}

#[component]
fn NotReserved(forms: Forms) -> impl IntoView {
    let error = forms.error(forms.reserve);
    let i18n = use_i18n();
    view! {
        <p class="state">{t!(i18n, settings.not_reserved)}</p>
        <p>{t!(i18n, settings.not_reserved_text)}</p>
        <ActionForm action=forms.reserve attr:class="settings-form">
            <button type="submit" aria-describedby=described_by(None, "reserver-feil", error)>
                {t!(i18n, settings.reserve)}
            </button>
            <FieldError id="reserver-feil" label=tu_string!(i18n, settings.the_reservation) error />
        </ActionForm>
    }
}

#[component]
fn Reserved(since: Option<DateTime<Utc>>, forms: Forms) -> impl IntoView {
    let error = forms.error(forms.withdraw);
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <p class="state">
            <strong>{t!(i18n, settings.reserved)}</strong>
            {since.map(|since| view! {
                {t!(i18n, settings.reserved_since)}
                <time datetime=machine_time(since)>{local_time(locale, since)}</time>
            })}
            "."
        </p>
        <p>{t!(i18n, settings.reserved_text)}</p>
        <ActionForm action=forms.withdraw attr:class="settings-form">
            <button type="submit" aria-describedby=described_by(None, "oppheve-feil", error)>
                {t!(i18n, settings.withdraw)}
            </button>
            <FieldError id="oppheve-feil" label=tu_string!(i18n, settings.the_withdrawal) error />
        </ActionForm>
    }
}

#[component]
fn MailboxForm(
    providers: Vec<ProviderChoice>,
    current: Option<String>,
    forms: Forms,
) -> impl IntoView {
    let error = forms.error(forms.mailbox);
    let i18n = use_i18n();
    if providers.is_empty() {
        return view! { <p>{t!(i18n, settings.no_providers)}</p> }.into_any();
    }
    view! {
        <ActionForm action=forms.mailbox attr:class="settings-form">
            <fieldset
                class="choices"
                aria-describedby=described_by(None, "postkasse-feil", error)
            >
                <legend>{t!(i18n, settings.choose_mailbox)}</legend>
                {providers
                    .into_iter()
                    .map(|choice| {
                        let id = format!("postkasse-{}", choice.org_nr);
                        let checked = current.as_deref() == Some(choice.org_nr.as_str());
                        view! {
                            <div class="choice">
                                <input
                                    type="radio"
                                    id=id.clone()
                                    name="provider"
                                    value=choice.org_nr
                                    checked=checked
                                    required=true
                                />
                                <label for=id>
                                    {choice.name}
                                    {choice.own.then_some(t!(i18n, settings.this_service))}
                                </label>
                            </div>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <FieldError id="postkasse-feil" label=tu_string!(i18n, settings.digital_mailbox) error />
            <button type="submit">{t!(i18n, settings.save_mailbox)}</button>
        </ActionForm>
    }
    .into_any()
}

/// Moving the letters here to the provider the citizen chose, and how far
/// that has come; nothing while the mailbox is here.
#[component]
fn MoveLetters(forms: Forms) -> impl IntoView {
    // Hydrated, the progress is fetched again every few seconds while
    // letters are on their way; without JavaScript the page has a link.
    let tick = RwSignal::new(0_u32);
    let status = Resource::new(
        move || (forms.saves.get(), tick.get()),
        |_| load_move_status(),
    );
    Effect::new(move |_| {
        let moving = move || {
            status
                .get_untracked()
                .and_then(Result::ok)
                .flatten()
                .is_some_and(|status| status.in_progress() > 0)
        };
        let interval = set_interval_with_handle(
            move || {
                if moving() {
                    tick.update(|tick| *tick = tick.wrapping_add(1));
                }
            },
            std::time::Duration::from_secs(2),
        );
        on_cleanup(move || {
            if let Ok(interval) = interval {
                interval.clear();
            }
        });
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(Some(status)) => view! { <MoveView status forms /> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn MoveView(status: MoveStatus, forms: Forms) -> impl IntoView {
    let error = forms.error(forms.moving);
    let i18n = use_i18n();
    let provider = status.provider_name.clone();
    let progress = (status.requested > 0).then(|| {
        let (moved, requested, failed) = (status.moved, status.requested, status.failed);
        view! {
            <p id="flytting-framdrift">
                {tu_string!(i18n, settings.move_progress, moved, requested, provider = provider.clone())
                    .to_string()}
            </p>
            <progress max=requested value=moved aria-labelledby="flytting-framdrift"></progress>
            {(failed > 0)
                .then(|| view! {
                    <p class="warning">{tu_string!(i18n, settings.move_failed, failed).to_string()}</p>
                })}
            {(status.in_progress() > 0)
                .then(|| view! {
                    <p>
                        <a href="/innstillinger#flytting">{t!(i18n, settings.move_refresh)}</a>
                    </p>
                })}
        }
    });
    let offer = if status.movable > 0 {
        let movable = status.movable;
        view! {
            <p>{tu_string!(i18n, settings.move_offer, movable, provider = provider.clone()).to_string()}</p>
            <ActionForm action=forms.moving attr:class="settings-form">
                <button type="submit" aria-describedby=described_by(None, "flytting-feil", error)>
                    {tu_string!(i18n, settings.move_start, provider = provider.clone()).to_string()}
                </button>
            </ActionForm>
            <FieldError id="flytting-feil" label=tu_string!(i18n, settings.move_heading) error />
        }
        .into_any()
    } else if status.requested == 0 {
        view! { <p>{t!(i18n, settings.move_nothing)}</p> }.into_any()
    } else {
        ().into_any()
    };
    view! {
        <div class="move-letters" id="flytting">
            <h3>{t!(i18n, settings.move_heading)}</h3>
            <SavedNote note=forms.note_in(&[Saved::Moving]) />
            {progress}
            {offer}
        </div>
    }
}

#[component]
fn NoticesForm(current: NoticeChoice, forms: Forms) -> impl IntoView {
    let error = forms.error(forms.notices);
    let i18n = use_i18n();
    view! {
        <ActionForm action=forms.notices attr:class="settings-form">
            <fieldset class="choices" aria-describedby=described_by(None, "varsler-feil", error)>
                <legend>{t!(i18n, settings.notify_every_letter)}</legend>
                <div class="choice">
                    <input type="checkbox" id="varsel-epost" name="email" value="on" checked=current.email />
                    <label for="varsel-epost">{t!(i18n, settings.notify_email)}</label>
                </div>
                <div class="choice">
                    <input type="checkbox" id="varsel-sms" name="sms" value="on" checked=current.sms />
                    <label for="varsel-sms">{t!(i18n, settings.notify_sms)}</label>
                </div>
            </fieldset>
            <FieldError id="varsler-feil" label=tu_string!(i18n, settings.notices) error />
            <button type="submit">{t!(i18n, settings.save_notices)}</button>
        </ActionForm>
    }
}

#[component]
fn LanguageForm(current: Option<Language>, forms: Forms) -> impl IntoView {
    let error = forms.error(forms.language);
    let i18n = use_i18n();
    view! {
        <ActionForm action=forms.language attr:class="settings-form">
            <fieldset class="choices" aria-describedby=described_by(None, "spraak-feil", error)>
                <legend>{t!(i18n, settings.choose_language)}</legend>
                {Language::ALL
                    .into_iter()
                    .map(|language| {
                        let id = format!("spraak-{}", language.code());
                        view! {
                            <div class="choice">
                                <input
                                    type="radio"
                                    id=id.clone()
                                    name="language"
                                    value=language.code()
                                    checked=current == Some(language)
                                    required=true
                                />
                                // Each name is written in its own language.
                                <label for=id lang=language.code()>{language.endonym()}</label>
                            </div>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <FieldError id="spraak-feil" label=tu_string!(i18n, settings.language) error />
            <button type="submit">{t!(i18n, settings.save_language)}</button>
        </ActionForm>
    }
}
