//! The cookies Postkasse sets: `__Host-` cookies, so they are Secure, bound
//! to this host and path `/`, and never readable by scripts.

use axum::extract::Request;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use std::future::Future;

/// A `__Host-` cookie: Secure, no Domain, Path=/, and never readable by scripts.
pub fn host_cookie(
    name: &'static str,
    value: String,
    max_age: Option<time::Duration>,
) -> Cookie<'static> {
    let mut cookie = Cookie::build((name, value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Lax)
        .build();
    if let Some(max_age) = max_age {
        cookie.set_max_age(max_age);
    }
    cookie
}

pub fn removal(name: &'static str) -> Cookie<'static> {
    let mut cookie = host_cookie(name, String::new(), None);
    cookie.make_removal();
    cookie
}

/// Puts who the session cookie `name` signs in into the request's
/// extensions, as `lookup` finds them from the cookie's value. A missing,
/// unknown or expired session leaves the request anonymous, and so does a
/// lookup that fails (failing closed), which is logged as `what`.
pub async fn resolve_session<T, E, F>(
    jar: &CookieJar,
    name: &str,
    request: &mut Request,
    what: &'static str,
    lookup: impl FnOnce(String) -> F,
) where
    T: Clone + Send + Sync + 'static,
    E: std::fmt::Display,
    F: Future<Output = Result<Option<T>, E>>,
{
    let Some(cookie) = jar.get(name) else {
        return;
    };
    match lookup(cookie.value().to_owned()).await {
        Ok(Some(signed_in)) => {
            request.extensions_mut().insert(signed_in);
        }
        Ok(None) => {}
        Err(error) => tracing::error!(error = %error, "{what} lookup failed"),
    }
}
