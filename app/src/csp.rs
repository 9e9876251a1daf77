//! The Content Security Policy, in one place for pages and APIs.

/// Pages get a per-response nonce that Leptos also puts on its inline
/// hydration scripts, so no other inline script runs. `'wasm-unsafe-eval'`
/// lets the browser compile the wasm bundle. Nothing may frame the pages, load
/// from elsewhere, or post forms elsewhere.
pub fn content_security_policy(script_nonce: Option<&str>) -> String {
    let scripts = match script_nonce {
        Some(nonce) => format!("'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "'self' 'wasm-unsafe-eval'".to_owned(),
    };
    format!(
        "default-src 'self'; script-src {scripts}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_run_only_with_the_nonce() {
        let policy = content_security_policy(Some("abc123"));
        assert!(policy.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(!content_security_policy(None).contains("nonce"));
    }
}
