//! Response headers every page and API answer carries.

use axum::{
    extract::Request,
    http::{header, HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use tower_http::set_header::SetResponseHeaderLayer;

/// The compiled site's files, the same for every citizen.
const STATIC_PREFIXES: [&str; 2] = ["/pkg/", "/favicon"];

/// `Cache-Control: no-store` on everything but the site's static files:
/// pages, documents and API answers hold personal data, which must not stay
/// in the browser's cache (a shared or borrowed computer) nor be restored
/// from it under another response's headers (bfcache skips no-store pages).
pub async fn no_store(request: Request, next: Next) -> Response {
    let is_static = STATIC_PREFIXES
        .iter()
        .any(|prefix| request.uri().path().starts_with(prefix));
    let mut response = next.run(request).await;
    if !is_static {
        response
            .headers_mut()
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    response
}

/// Puts a page's own policy on its response: the render leaves it in the
/// request's [`app::csp::PolicySlot`] (see `app::set_page_security_policy`).
/// Responses that are not pages leave the slot empty and get the default
/// from [`layers`].
pub async fn page_policy(mut request: Request, next: Next) -> Response {
    let slot = app::csp::PolicySlot::default();
    request.extensions_mut().insert(slot.clone());
    let mut response = next.run(request).await;
    if let Some(value) = slot
        .0
        .get()
        .and_then(|policy| HeaderValue::from_str(policy).ok())
    {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

pub fn layers() -> [SetResponseHeaderLayer<HeaderValue>; 5] {
    [
        // Pages set their own policy with a script nonce; this covers the rest.
        SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_str(&app::csp::content_security_policy(
                None,
                &Default::default(),
            ))
            .expect("the policy is plain ASCII"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            // Same-origin referrers let a form posted without JavaScript return to
            // its page; other sites learn nothing of our URLs.
            HeaderValue::from_static("same-origin"),
        ),
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ),
        SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
        ),
    ]
}
