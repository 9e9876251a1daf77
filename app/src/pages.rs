//! The pages of the citizen web app and the frame around them.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SiteHeader() -> impl IntoView {
    // Marks the document once the wasm bundle has taken over, so that tests
    // (and curious developers) can tell a hydrated page from a server-rendered one.
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <header class="site-header">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"✉"</span>
                "Postkasse"
            </a>
        </header>
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
