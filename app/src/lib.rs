//! Postkasse's citizen web app: the Leptos components rendered on the server and
//! hydrated in the browser, and the domain types both sides share.
//!
//! Server-only code sits behind the `ssr` feature; the browser entry point
//! [`hydrate`] behind `hydrate`. This file holds the HTML shell, the frame
//! around every page and the routes; the rest is layered, each module using
//! only those below it:
//!
//! - `pages`: one module per page;
//! - `components`: the widgets several pages share (header, footer, pager,
//!   error notices, form pieces);
//! - [`api`]: the server functions and their wire types, with the service
//!   traits the server implements;
//! - [`domain`] and [`error`]: the types both sides share.
//!
//! [`locale`] puts things in words in the citizen's language, for pages and
//! components; [`csp`] is the pages' Content Security Policy.

pub mod api;
mod components;
#[cfg(feature = "ssr")]
pub mod csp;
pub mod domain;
pub mod error;
pub mod locale;
mod pages;

include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));

use components::{footer::SiteFooter, header::SiteHeader};
use i18n::{t, t_string, use_i18n, I18nContextProvider};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, Meta, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    ParamSegment, SsrMode, StaticSegment,
};
use pages::{
    activity::ActivityPage,
    check::CheckPage,
    folders::FoldersPage,
    fullmakt::FullmaktPage,
    inbox::InboxPage,
    landing::Landing,
    letter::LetterPage,
    not_found::NotFound,
    operator::{OperatorSignInPage, SinkNoticesPage},
    print_console::{PrintBatchPage, PrintConsolePage, PrintLetterPage},
    search::SearchPage,
    settings::SettingsPage,
    signing::{SigningTaskPage, SigningTasksPage},
    uploads::UploadsPage,
};

/// The HTML document around every page. Rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        // `lang` is set by the i18n context from the chosen language.
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <I18nContextProvider
            cookie_name=locale::LANGUAGE_COOKIE
            cookie_options=locale::cookie_options()
            ssr_lang_header_getter=locale::without_accept_language()
            set_dir_attr_on_html=false
        >
            <Frame />
        </I18nContextProvider>
    }
}

/// Everything on every page, in the chosen language.
#[component]
fn Frame() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Stylesheet id="leptos" href="/pkg/postkasse.css" />
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg" />
        <Meta name="description" content=t_string!(i18n, common.description) />
        <Title formatter=|page: String| format!("{page} – Postkasse") />
        <Router>
            // target="_self" keeps the router from taking the click, so the browser
            // moves focus to <main> as it does without JavaScript.
            <a class="skip-link" href="#hovedinnhold" target="_self">{t!(i18n, common.skip_to_main)}</a>
            <SiteHeader />
            <main id="hovedinnhold" tabindex="-1">
                <Routes fallback=NotFound>
                    // Async: the whole page is rendered before it is sent, so it
                    // reads complete without JavaScript and statuses are right.
                    <Route path=StaticSegment("") view=Landing ssr=SsrMode::Async />
                    <Route path=StaticSegment("innboks") view=InboxPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("sok") view=SearchPage ssr=SsrMode::Async />
                    <Route path=StaticSegment("kontroll") view=CheckPage ssr=SsrMode::Async />
                    <Route
                        path=StaticSegment("aktivitet")
                        view=ActivityPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("innstillinger")
                        view=SettingsPage
                        ssr=SsrMode::Async
                    />
                    <Route path=StaticSegment("mapper") view=FoldersPage ssr=SsrMode::Async />
                    <Route
                        path=StaticSegment("fullmakter")
                        view=FullmaktPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("mine-dokumenter")
                        view=UploadsPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("drift"), StaticSegment("logg-inn"))
                        view=OperatorSignInPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("drift"), StaticSegment("utskrift"))
                        view=PrintConsolePage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("drift"), StaticSegment("utskrift"), StaticSegment("bunke"), ParamSegment("id"))
                        view=PrintBatchPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("drift"), StaticSegment("utskrift"), StaticSegment("brev"), ParamSegment("id"))
                        view=PrintLetterPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("drift"), StaticSegment("varsler"))
                        view=SinkNoticesPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("brev"), ParamSegment("id"))
                        view=LetterPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=StaticSegment("signering")
                        view=SigningTasksPage
                        ssr=SsrMode::Async
                    />
                    <Route
                        path=(StaticSegment("signering"), ParamSegment("id"))
                        view=SigningTaskPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
            <SiteFooter />
        </Router>
    }
}

/// Sends this page's CSP with the nonce Leptos put on its inline scripts.
/// The server calls it where it provides each page request's contexts,
/// before anything renders: there the request's own nonce is certain. The
/// policy goes into the request's [`csp::PolicySlot`], which the server's
/// middleware puts on the response; going through Leptos' response options
/// alone, a page now and then reached the browser with the site's default
/// policy and could not hydrate.
#[cfg(feature = "ssr")]
pub fn set_page_security_policy() {
    let nonce = leptos::nonce::use_nonce().map(|nonce| nonce.to_string());
    let form_targets = use_context::<csp::FormTargets>().unwrap_or_default();
    let policy = csp::content_security_policy(nonce.as_deref(), &form_targets);
    if let Some(slot) = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<csp::PolicySlot>().cloned())
    {
        let _ = slot.0.set(policy);
    }
}

/// Browser entry point: attaches the reactive system to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
