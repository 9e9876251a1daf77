//! The front page (`/`): what Postkasse is and how it works, for everyone.

use crate::i18n::{t, tu_string, use_i18n};
use leptos::prelude::*;
use leptos_meta::Title;

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
