//! The Content Security Policy, in one place for pages and APIs.

/// Origins besides our own that forms may lead to: logging out posts a form
/// whose redirect continues to the identity provider's end-session endpoint,
/// and browsers apply `form-action` to that redirect too.
#[derive(Debug, Clone, Default)]
pub struct FormTargets(pub Vec<String>);

/// Where a page's render leaves its policy for the server to put on the
/// response. The server puts an empty one in each request's extensions and
/// reads it when the response comes back, so the policy does not depend on
/// the framework carrying a header from the render to the response.
#[derive(Debug, Clone, Default)]
pub struct PolicySlot(pub std::sync::Arc<std::sync::OnceLock<String>>);

/// Pages get a per-response nonce that Leptos also puts on its inline
/// hydration scripts, so no other inline script runs. `'wasm-unsafe-eval'`
/// lets the browser compile the wasm bundle. Nothing may frame the pages, load
/// from elsewhere, or post forms elsewhere.
pub fn content_security_policy(script_nonce: Option<&str>, form_targets: &FormTargets) -> String {
    let scripts = match script_nonce {
        Some(nonce) => format!("'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "'self' 'wasm-unsafe-eval'".to_owned(),
    };
    let forms = std::iter::once("'self'")
        .chain(form_targets.0.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'self'; form-action {forms}; \
         frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_run_only_with_the_nonce() {
        let policy = content_security_policy(Some("abc123"), &FormTargets::default());
        assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(policy.contains("form-action 'self';"));
        assert!(!content_security_policy(None, &FormTargets::default()).contains("nonce"));
    }

    #[test]
    fn forms_may_lead_to_the_identity_provider() {
        let targets = FormTargets(vec!["https://login.idporten.no".into()]);
        let policy = content_security_policy(None, &targets);
        assert!(
            policy.contains("form-action 'self' https://login.idporten.no;"),
            "{policy}"
        );
    }
}
