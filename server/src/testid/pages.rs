//! TestID's HTML pages: the login form and the logout page. Plain server-side
//! HTML in Norwegian bokmål; they must work without JavaScript and meet WCAG
//! 2.1 AA like every page a person reads.

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

/// Everything the form must carry back to the provider, unchanged.
pub struct PendingAuthorization<'a> {
    pub hidden_fields: Vec<(&'a str, &'a str)>,
    pub requested_acr: &'a str,
}

fn page(title: &str, body: &str) -> String {
    format!(
        r#"<!DOCTYPE html>
<html lang="nb">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – TestID</title>
<link rel="stylesheet" href="/pkg/postkasse.css">
</head>
<body>
<header class="site-header"><span class="brand">TestID</span></header>
<main id="hovedinnhold" class="testid">
{body}
</main>
</body>
</html>"#,
        title = text(title)
    )
}

/// The login form. `pid_error` is shown beside the field and tied to it for
/// screen readers.
pub fn authorize_form(
    pending: &PendingAuthorization<'_>,
    pid_value: &str,
    pid_error: Option<&str>,
) -> String {
    let hidden = pending
        .hidden_fields
        .iter()
        .map(|(name, value)| {
            format!(
                r#"<input type="hidden" name="{}" value="{}">"#,
                attr(name),
                attr(value)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (invalid, described_by, error_html) = match pid_error {
        Some(message) => (
            r#" aria-invalid="true""#,
            " pid-feil",
            format!(
                r#"<p class="field-error" id="pid-feil">{}</p>"#,
                text(message)
            ),
        ),
        None => ("", "", String::new()),
    };
    let checked = |acr: &str| {
        if acr == pending.requested_acr {
            " checked"
        } else {
            ""
        }
    };
    let body = format!(
        r#"<h1>Logg inn med TestID</h1>
<p>TestID er en innlogging for testing. Skriv inn et syntetisk fødselsnummer og velg sikkerhetsnivå. Det finnes ikke noe passord.</p>
<form method="post" action="authorize" class="testid-form">
{hidden}
<div class="field">
<label for="pid">Syntetisk fødselsnummer (11 siffer)</label>
<p class="hint" id="pid-hint">For eksempel et testnummer der måneden er lagt til 80.</p>
<input id="pid" name="pid" type="text" inputmode="numeric" autocomplete="off" required value="{pid}" aria-describedby="pid-hint{described_by}"{invalid}>
{error_html}
</div>
<fieldset>
<legend>Sikkerhetsnivå</legend>
<div class="choice"><input type="radio" id="niva-betydelig" name="acr" value="{substantial}"{checked_substantial}><label for="niva-betydelig">Betydelig (som MinID)</label></div>
<div class="choice"><input type="radio" id="niva-hoyt" name="acr" value="{high}"{checked_high}><label for="niva-hoyt">Høyt (som BankID)</label></div>
</fieldset>
<button type="submit">Logg inn</button>
</form>"#,
        pid = attr(pid_value),
        substantial = super::ACR_SUBSTANTIAL,
        high = super::ACR_HIGH,
        checked_substantial = checked(super::ACR_SUBSTANTIAL),
        checked_high = checked(super::ACR_HIGH),
    );
    page("Logg inn", &body)
}

/// A request TestID cannot answer by redirecting (unknown client or return address).
pub fn error_page(message: &str) -> String {
    page(
        "Feil i innloggingen",
        &format!(
            "<h1>Innloggingen kan ikke fortsette</h1><p>{}</p>",
            text(message)
        ),
    )
}

/// Logged out: the frame tells the service to end its session too (front-channel logout).
pub fn logged_out(frontchannel_url: Option<&str>, continue_url: Option<&str>) -> String {
    let frame = frontchannel_url
        .map(|url| {
            format!(
                r#"<iframe src="{}" title="Utlogging fra tjenesten" class="frontchannel"></iframe>"#,
                attr(url)
            )
        })
        .unwrap_or_default();
    let link = continue_url
        .map(|url| {
            format!(
                r#"<p><a href="{}">Gå tilbake til tjenesten</a></p>"#,
                attr(url)
            )
        })
        .unwrap_or_default();
    page(
        "Logget ut",
        &format!("<h1>Du er logget ut</h1><p>Du er logget ut av TestID og tjenesten du brukte.</p>{frame}{link}"),
    )
}
