//! HTML letters made safe to show: ammonia's whitelist keeps the letter's
//! structure and text and removes scripts, style sheets, event handlers,
//! forms and frames. Every URL goes too, except `mailto:` links, so a letter
//! can neither run code nor make the browser fetch anything (a tracking
//! pixel would tell someone the letter was read).

use std::collections::HashSet;

/// The sanitised letter, ready to be placed inside a page.
pub fn sanitise(html: &str) -> String {
    ammonia::Builder::default()
        .url_schemes(HashSet::from(["mailto"]))
        .url_relative(ammonia::UrlRelative::Deny)
        // An image would be fetched from outside the letter: images go.
        .rm_tags(["img"])
        .clean(html)
        .to_string()
}

/// Sanitising is CPU work proportional to the letter: off the async threads.
pub async fn sanitise_off_runtime(html: String) -> anyhow::Result<String> {
    Ok(tokio::task::spawn_blocking(move || sanitise(&html)).await?)
}

/// The policy a sanitised HTML document is served under on its own: nothing
/// may load or run, and the document is sandboxed in its own origin.
pub const DOCUMENT_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

#[cfg(test)]
mod tests {
    use super::sanitise;

    #[test]
    fn scripts_handlers_and_styles_are_removed() {
        let clean = sanitise(
            "<p onclick=\"steal()\">Hei</p><script>alert(1)</script>\
             <style>body{background:url(https://spy.example/x)}</style>",
        );
        assert_eq!(clean, "<p>Hei</p>");
    }

    #[test]
    fn nothing_outside_the_letter_is_referenced() {
        let clean = sanitise(
            "<a href=\"https://phish.example/\">Logg inn</a>\
             <img src=\"https://spy.example/pixel.gif\" alt=\"logo\">\
             <a href=\"/relative\">r</a><a href=\"mailto:post@nav.no\">e-post</a>\
             <iframe src=\"https://x.example\"></iframe>",
        );
        assert!(!clean.contains("phish.example"), "{clean}");
        assert!(!clean.contains("spy.example"), "{clean}");
        assert!(!clean.contains("/relative"), "{clean}");
        assert!(!clean.contains("iframe"), "{clean}");
        assert!(clean.contains("Logg inn"), "{clean}");
        assert!(clean.contains("href=\"mailto:post@nav.no\""), "{clean}");
    }

    #[test]
    fn structure_and_text_stay() {
        let clean = sanitise("<h2>Vedtak</h2><ul><li>Skatt: <strong>12 000 kr</strong></li></ul>");
        assert_eq!(
            clean,
            "<h2>Vedtak</h2><ul><li>Skatt: <strong>12 000 kr</strong></li></ul>"
        );
    }
}
