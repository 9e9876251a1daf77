//! The header on every page: the brand, who is logged in (or the login
//! button), the main menu and the language switch.

use crate::{
    api::{fullmakt::Reach, mailbox::current_viewer},
    components::language_switch::LanguageSwitch,
    domain::SecurityLevel,
    i18n::{t, tu_string, use_i18n},
};
use leptos::prelude::*;

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
                                match viewer.acting_for {
                                    // A delegate in another's mailbox: only the inbox, and
                                    // a banner that says whose it is and the way back.
                                    Some(acting) => {
                                        let text = tu_string!(i18n, common.acting_text, name = name.clone()).to_string();
                                        let logged = tu_string!(i18n, common.acting_logged, name = name.clone()).to_string();
                                        let reach = match acting.reach {
                                            Reach::Read => tu_string!(i18n, common.acting_read),
                                            Reach::ReadAndReply => tu_string!(i18n, common.acting_read_reply),
                                        };
                                        view! {
                                            <a href="/innboks">{t!(i18n, common.inbox)}</a>
                                            <section class="acting-banner" aria-label=tu_string!(i18n, common.acting_label)>
                                                <p>
                                                    <strong>{text}</strong>" "{reach}" "
                                                    {(!acting.all_senders).then(|| view! { {t!(i18n, common.acting_some_senders)} " " })}
                                                    {logged}
                                                </p>
                                                <form method="post" action="/fullmakter/tilbake">
                                                    <button type="submit">{t!(i18n, common.back_to_own)}</button>
                                                </form>
                                            </section>
                                            <form method="post" action="/auth/logout" class="logout">
                                                <button type="submit">{t!(i18n, common.log_out)}</button>
                                            </form>
                                        }
                                        .into_any()
                                    }
                                    None => view! {
                                        <a href="/innboks">{t!(i18n, common.inbox)}</a>
                                        <a href="/innstillinger">{t!(i18n, common.settings)}</a>
                                        <a href="/fullmakter">{t!(i18n, common.fullmakt)}</a>
                                        <a href="/aktivitet">{t!(i18n, common.activity)}</a>
                                        <span class="who">
                                            {t!(i18n, common.logged_in_as)} <strong>{name}</strong>
                                            {(viewer.level == SecurityLevel::High)
                                                .then_some(t!(i18n, common.high_level_note))}
                                        </span>
                                        <form method="post" action="/auth/logout" class="logout">
                                            <button type="submit">{t!(i18n, common.log_out)}</button>
                                        </form>
                                    }
                                    .into_any(),
                                }
                            }
                            // rel="external": server routes, not pages the client router knows.
                            _ => view! {
                                <a class="button" href="/auth/login" rel="external">{t!(i18n, common.log_in)}</a>
                            }
                            .into_any(),
                        }
                    })}
                </Suspense>
                <LanguageSwitch />
            </nav>
        </header>
    }
}
