//! The settings page's log of every change to the citizen's register entry,
//! in words.

use super::machine_time;
use crate::{
    api::contact::{ChangeBy, ChangeView, ChangeWhat},
    i18n::{t, td_string, use_i18n, Locale},
    locale::local_time,
};
use leptos::prelude::*;

fn change_label(locale: Locale, what: ChangeWhat) -> &'static str {
    match what {
        ChangeWhat::Email => td_string!(locale, settings.email),
        ChangeWhat::Mobile => td_string!(locale, settings.mobile),
        ChangeWhat::Confirmed => td_string!(locale, settings.change_confirmed),
        ChangeWhat::Reservation => td_string!(locale, settings.change_reservation),
        ChangeWhat::Mailbox => td_string!(locale, settings.digital_mailbox),
        ChangeWhat::Language => td_string!(locale, settings.language),
        ChangeWhat::Imported => td_string!(locale, settings.change_imported),
    }
}

/// The new value as a citizen reads it: the register's JA/NEI in words, and a
/// removed address or number said to be removed.
fn change_value(locale: Locale, what: ChangeWhat, value: Option<String>) -> String {
    match (what, value) {
        (ChangeWhat::Reservation, Some(value)) if value == "JA" => {
            td_string!(locale, settings.value_reserved).to_owned()
        }
        (ChangeWhat::Reservation, Some(value)) if value == "NEI" => {
            td_string!(locale, settings.value_withdrawn).to_owned()
        }
        (ChangeWhat::Email | ChangeWhat::Mobile, None) => {
            td_string!(locale, settings.value_removed).to_owned()
        }
        (_, Some(value)) => value,
        (_, None) => "—".to_owned(),
    }
}

#[component]
pub fn ChangeLog(changes: Vec<ChangeView>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    if changes.is_empty() {
        return view! { <p>{t!(i18n, settings.no_changes)}</p> }.into_any();
    }
    view! {
        <table class="changes">
            <caption>{t!(i18n, settings.changes_caption)}</caption>
            <thead>
                <tr>
                    <th scope="col">{t!(i18n, common.time)}</th>
                    <th scope="col">{t!(i18n, settings.change)}</th>
                    <th scope="col">{t!(i18n, settings.new_value)}</th>
                    <th scope="col">{t!(i18n, settings.changed_by)}</th>
                </tr>
            </thead>
            <tbody>
                {changes
                    .into_iter()
                    .map(|change| {
                        view! {
                            <tr>
                                <td><time datetime=machine_time(change.at)>{local_time(locale, change.at)}</time></td>
                                <td>{change_label(locale, change.what)}</td>
                                <td>{change_value(locale, change.what, change.value)}</td>
                                <td>
                                    {match change.by {
                                        ChangeBy::Citizen => td_string!(locale, settings.by_you),
                                        ChangeBy::Import => td_string!(locale, settings.by_import),
                                    }}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_values_are_words() {
        let value =
            |what, value: Option<&str>| change_value(Locale::nb, what, value.map(str::to_owned));
        assert_eq!(value(ChangeWhat::Reservation, Some("JA")), "Reservert");
        assert_eq!(
            value(ChangeWhat::Reservation, Some("NEI")),
            "Reservasjon opphevet"
        );
        assert_eq!(value(ChangeWhat::Email, None), "Fjernet");
        assert_eq!(value(ChangeWhat::Mobile, None), "Fjernet");
        assert_eq!(value(ChangeWhat::Confirmed, None), "—");
        assert_eq!(
            value(ChangeWhat::Email, Some("kari@eksempel.no")),
            "kari@eksempel.no"
        );
        assert_eq!(
            value(ChangeWhat::Language, Some("Norsk nynorsk")),
            "Norsk nynorsk"
        );
        assert_eq!(
            change_value(Locale::en, ChangeWhat::Reservation, Some("JA".into())),
            "Opted out"
        );
    }
}
