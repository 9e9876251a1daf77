//! Cross-site request forgery defence for everything a browser's cookies can
//! authorise: an unsafe request (POST, PUT, PATCH, DELETE) must come from our
//! own pages. Browsers say where a request comes from in `Sec-Fetch-Site` and
//! `Origin`; a cross-site value in either is refused with 403 before any
//! handler runs. The session cookie's SameSite=Lax is the second line.
//!
//! The agency APIs ([`AGENCY_API_PREFIXES`]) are exempt: they are authorised
//! by bearer tokens or signed grants, which a browser never attaches on its own.

use crate::http::ApiError;
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Whether the headers show a request from another site: a cross-site value
/// in either header is enough, so one cannot vouch for the other. A header
/// that is present but not text counts as cross-site.
pub fn is_cross_site(headers: &HeaderMap, own_origin: &str) -> bool {
    let fetch_site_foreign = headers
        .get("sec-fetch-site")
        .map(|value| !matches!(value.to_str(), Ok("same-origin" | "none")))
        .unwrap_or(false);
    // Neither header: not a modern browser's cross-site request.
    let origin_foreign = headers
        .get(header::ORIGIN)
        .map(|value| value.to_str().ok() != Some(own_origin))
        .unwrap_or(false);
    fetch_site_foreign || origin_foreign
}

/// Paths of the agency APIs: the KRR lookup, the token endpoint and DPI's messages.
pub const AGENCY_API_PREFIXES: [&str; 3] = ["/rest/", "/token", "/messages/"];

/// `scheme://host[:port]` of Postkasse's public URL: the one origin unsafe
/// requests may come from.
#[derive(Debug, Clone)]
pub struct OwnOrigin(pub String);

pub async fn refuse_cross_site(
    State(OwnOrigin(own_origin)): State<OwnOrigin>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    let exempt = AGENCY_API_PREFIXES
        .iter()
        .any(|prefix| path.starts_with(prefix));
    if !exempt && is_unsafe(request.method()) && is_cross_site(request.headers(), &own_origin) {
        tracing::warn!(path = request.uri().path(), "cross-site request refused");
        return ApiError::Forbidden("cross-site requests are refused").into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        let own = "http://127.0.0.1:3000";
        assert!(!is_cross_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            own
        ));
        assert!(!is_cross_site(&headers(&[("sec-fetch-site", "none")]), own));
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "cross-site")]),
            own
        ));
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "same-site")]),
            own
        ));
    }

    #[test]
    fn the_origin_decides_otherwise() {
        let own = "http://127.0.0.1:3000";
        assert!(!is_cross_site(
            &headers(&[("origin", "http://127.0.0.1:3000")]),
            own
        ));
        assert!(is_cross_site(
            &headers(&[("origin", "https://evil.example")]),
            own
        ));
        assert!(is_cross_site(&headers(&[("origin", "null")]), own));
        assert!(!is_cross_site(&headers(&[]), own));
    }

    #[test]
    fn a_cross_site_value_in_either_header_is_refused() {
        let own = "http://127.0.0.1:3000";
        assert!(is_cross_site(
            &headers(&[
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://evil.example")
            ]),
            own
        ));
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "cross-site"), ("origin", own)]),
            own
        ));
        assert!(!is_cross_site(
            &headers(&[("sec-fetch-site", "same-origin"), ("origin", own)]),
            own
        ));
    }
}
