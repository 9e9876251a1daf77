//! "Min aktivitet" (`/aktivitet`): one list, newest first, of the citizen's
//! logins (time, level, browser), the exports of their archive, and the
//! agencies that looked up their contact details in the register.

use crate::{
    api::activity::{load_activity, ActivityEntry, ActivityKind, SHOWN},
    components::error_notice::ErrorNotice,
    domain::SecurityLevel,
    i18n::{t, tu_string, use_i18n},
    locale::local_time,
};
use chrono::SecondsFormat;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ActivityPage() -> impl IntoView {
    let entries = Resource::new(|| (), |_| load_activity());
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, activity.title) />
        <h1>{t!(i18n, activity.title)}</h1>
        <p class="lead">{tu_string!(i18n, activity.lead, shown = SHOWN).to_string()}</p>
        <Suspense fallback=move || view! { <p>{t!(i18n, activity.loading)}</p> }>
            {move || Suspend::new(async move {
                match entries.await {
                    Ok(entries) if entries.is_empty() => {
                        view! { <p>{t!(i18n, activity.none)}</p> }.into_any()
                    }
                    Ok(entries) => view! { <ActivityTable entries /> }.into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ActivityTable(entries: Vec<ActivityEntry>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <table class="changes">
            <caption>{t!(i18n, activity.caption)}</caption>
            <thead>
                <tr>
                    <th scope="col">{t!(i18n, common.time)}</th>
                    <th scope="col">{t!(i18n, activity.what)}</th>
                    <th scope="col">{t!(i18n, activity.details)}</th>
                </tr>
            </thead>
            <tbody>
                {entries
                    .into_iter()
                    .map(|entry| {
                        let (what, details) = match entry.kind {
                            ActivityKind::Login { level, browser } => {
                                let level = match level {
                                    SecurityLevel::High => tu_string!(i18n, activity.level_high),
                                    _ => tu_string!(i18n, activity.level_substantial),
                                };
                                let browser = browser
                                    .unwrap_or_else(|| tu_string!(i18n, activity.unknown_browser).to_owned());
                                (
                                    tu_string!(i18n, activity.login).to_owned(),
                                    format!("{level}, {browser}"),
                                )
                            }
                            ActivityKind::Export => (
                                tu_string!(i18n, activity.export).to_owned(),
                                tu_string!(i18n, activity.export_details).to_owned(),
                            ),
                            ActivityKind::Lookup { agency } => {
                                (tu_string!(i18n, activity.lookup).to_owned(), agency)
                            }
                            ActivityKind::PrintDownload { batch } => (
                                tu_string!(i18n, activity.print_download).to_owned(),
                                if batch {
                                    tu_string!(i18n, activity.print_download_batch).to_owned()
                                } else {
                                    tu_string!(i18n, activity.print_download_letter).to_owned()
                                },
                            ),
                            ActivityKind::FullmaktGiven { delegate } => {
                                (tu_string!(i18n, activity.fullmakt_given).to_owned(), delegate)
                            }
                            ActivityKind::FullmaktUsed { delegate } => (
                                tu_string!(i18n, activity.fullmakt_used).to_owned(),
                                tu_string!(i18n, activity.fullmakt_used_details, name = delegate.clone())
                                    .to_string(),
                            ),
                            ActivityKind::FullmaktEnded { delegate, by_delegate } => (
                                tu_string!(i18n, activity.fullmakt_ended).to_owned(),
                                if by_delegate {
                                    tu_string!(i18n, activity.fullmakt_ended_by_delegate, name = delegate.clone())
                                        .to_string()
                                } else {
                                    tu_string!(i18n, activity.fullmakt_ended_by_you, name = delegate.clone())
                                        .to_string()
                                },
                            ),
                        };
                        view! {
                            <tr>
                                <td>
                                    <time datetime=entry.at.to_rfc3339_opts(SecondsFormat::Secs, true)>
                                        {local_time(locale, entry.at)}
                                    </time>
                                </td>
                                <td>{what}</td>
                                <td>{details}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
