//! A package's extension documents (DPI's *utvidelser*): a document's
//! `<data href mime>` file that the mailbox shows beside the letter.
//!
//! - `application/vnd.difi.dpi.lenke+xml`, a link out to the sender's own
//!   service: read into a [`LetterLink`]. Only `https` addresses are taken.
//! - `application/vnd.postkasse.svarskjema+json`, a reply form the citizen
//!   answers here: read by [`crate::replies::form`].
//! - `application/vnd.postkasse.signeringsoppdrag+json`, an order to sign
//!   the main document (a PDF): read by [`crate::signing::order`].
//!
//! A letter has at most one of each. DPI drops extensions a mailbox does not
//! support without a word (`bevis`, `arrangement` here); a link or form that
//! is broken is refused, naming the fault, since the sender means the citizen
//! to use it.

use super::package::{Package, PackageDocument};
use crate::replies::form as reply_form;
use crate::signing::order as signing_order;
use crate::validation::FieldError;
use app::domain::{letter::checked_text, LetterLink, ReplyForm};
use chrono::{DateTime, Utc};

/// The lenke extension's media type and XML namespace.
pub const LINK_MEDIA_TYPE: &str = "application/vnd.difi.dpi.lenke+xml";
pub const LINK_NAMESPACE: &str = "http://begrep.difi.no/sdp/utvidelser/lenke";
/// Bounds Postkasse sets; DPI's XSD types (`HttpLenke`,
/// `LenkeBeskrivelseTekst`, `LenkeKnappTekst`) are not checked against
/// here (docs/replies.md).
const MAX_URL_CHARS: usize = 2000;
const MAX_DESCRIPTION_CHARS: usize = 500;
const MAX_BUTTON_CHARS: usize = 60;
const MAX_EXTENSION_BYTES: usize = 256 * 1024;
/// Where the main document's extension is, as problems name it.
pub const MAIN_DATA: &str = "dokumentpakke.hoveddokument.data";

/// What the package's extensions add to the letter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extensions {
    pub link: Option<LetterLink>,
    pub reply_form: Option<ReplyForm>,
    pub signing_order: Option<app::domain::SigningOrder>,
}

/// Reads every document's extension; `now` is when the letter arrives.
pub fn read(package: &Package, now: DateTime<Utc>) -> Result<Extensions, Vec<FieldError>> {
    let mut problems = Vec::new();
    let mut extensions = Extensions::default();
    let documents = std::iter::once(("dokumentpakke.hoveddokument".to_owned(), &package.main))
        .chain(
            package
                .attachments
                .iter()
                .enumerate()
                .map(|(index, document)| (format!("dokumentpakke.vedlegg[{index}]"), document)),
        );
    for (field, document) in documents {
        let PackageDocument {
            data: Some(data), ..
        } = document
        else {
            continue;
        };
        let field = format!("{field}.data");
        if data.bytes.len() > MAX_EXTENSION_BYTES {
            problems.push(FieldError::new(
                &field,
                format!("must be at most {} KiB", MAX_EXTENSION_BYTES / 1024),
            ));
            continue;
        }
        match data.mime.as_str() {
            LINK_MEDIA_TYPE if extensions.link.is_some() => problems.push(FieldError::new(
                &field,
                "is a second lenke: a letter has at most one",
            )),
            LINK_MEDIA_TYPE => match link(&data.bytes, &field) {
                Ok(link) => extensions.link = Some(link),
                Err(found) => problems.extend(found),
            },
            signing_order::MEDIA_TYPE if field != MAIN_DATA => problems.push(FieldError::new(
                &field,
                "is a signeringsoppdrag on an attachment: an order rides on the main document, which is what is signed",
            )),
            signing_order::MEDIA_TYPE if document.mime != "application/pdf" => {
                problems.push(FieldError::new(
                    &field,
                    "is a signeringsoppdrag on a document that is not a PDF: only PDFs are signed",
                ))
            }
            signing_order::MEDIA_TYPE => match signing_order::parse(&data.bytes, &field, now) {
                Ok(order) => extensions.signing_order = Some(order),
                Err(found) => problems.extend(found),
            },
            reply_form::MEDIA_TYPE if extensions.reply_form.is_some() => problems.push(
                FieldError::new(&field, "is a second svarskjema: a letter has at most one"),
            ),
            reply_form::MEDIA_TYPE => match reply_form::parse(&data.bytes, &field, now) {
                Ok(form) => extensions.reply_form = Some(form),
                Err(found) => problems.extend(found),
            },
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok(extensions)
    } else {
        Err(problems)
    }
}

/// Reads a `lenke` document: `url` (required), `beskrivelse`, `knappTekst`
/// and `frist`, each problem named under `field`.
pub fn link(bytes: &[u8], field: &str) -> Result<LetterLink, Vec<FieldError>> {
    let mut problems = Vec::new();
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .map_err(|_| vec![FieldError::new(field, "is not UTF-8")])?;
    let options = roxmltree::ParsingOptions {
        // No DTD, so no entity expansion.
        allow_dtd: false,
        nodes_limit: 1000,
        ..roxmltree::ParsingOptions::default()
    };
    let document = roxmltree::Document::parse_with_options(text, options).map_err(|error| {
        vec![FieldError::new(
            field,
            format!("is not well-formed XML: {error}"),
        )]
    })?;
    let root = document.root_element();
    if root.tag_name().name() != "lenke" || root.tag_name().namespace() != Some(LINK_NAMESPACE) {
        return Err(vec![FieldError::new(
            field,
            format!("must have the root element lenke in the namespace {LINK_NAMESPACE}"),
        )]);
    }
    let element = |name: &str| {
        root.children()
            .find(|child| child.is_element() && child.tag_name().name() == name)
            .map(|child| {
                child
                    .descendants()
                    .filter(roxmltree::Node::is_text)
                    .filter_map(|text| text.text())
                    .collect::<String>()
            })
    };
    let url = match element("url") {
        None => {
            problems.push(FieldError::new(format!("{field}.url"), "is required"));
            None
        }
        Some(url) => match https_url(url.trim()) {
            Ok(url) => Some(url),
            Err(reason) => {
                problems.push(FieldError::new(format!("{field}.url"), reason));
                None
            }
        },
    };
    let mut optional_text = |name: &str, max_chars: usize| {
        element(name).and_then(|text| {
            checked_text(&text, max_chars)
                .map_err(|error| problems.push(FieldError::new(format!("{field}.{name}"), error)))
                .ok()
        })
    };
    let description = optional_text("beskrivelse", MAX_DESCRIPTION_CHARS);
    let button_text = optional_text("knappTekst", MAX_BUTTON_CHARS);
    let deadline = element("frist").and_then(|text| {
        DateTime::parse_from_rfc3339(text.trim())
            .map(|at| at.with_timezone(&Utc))
            .map_err(|_| {
                problems.push(FieldError::new(
                    format!("{field}.frist"),
                    "must be an xsd:dateTime with its offset, e.g. 2026-12-12T12:00:00+01:00",
                ))
            })
            .ok()
    });
    match url {
        Some(url) if problems.is_empty() => Ok(LetterLink {
            url,
            description,
            button_text,
            deadline,
        }),
        _ => Err(problems),
    }
}

/// The address as the button will use it: absolute, `https`, with a host and
/// without credentials. `javascript:`, `data:` and plain `http` are refused.
fn https_url(text: &str) -> Result<String, String> {
    if text.chars().count() > MAX_URL_CHARS {
        return Err(format!("must be at most {MAX_URL_CHARS} characters"));
    }
    let url = url::Url::parse(text).map_err(|_| "must be an absolute https address".to_owned())?;
    if url.scheme() != "https" {
        return Err(format!("must be an https address, not {}:", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must name a host".to_owned());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".to_owned());
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lenke(inner: &str) -> Vec<u8> {
        format!("<lenke xmlns=\"{LINK_NAMESPACE}\">{inner}</lenke>").into_bytes()
    }

    #[test]
    fn digdirs_example_is_read() {
        let link = link(
            &lenke(
                "<url>https://www.avsender.no/svar</url>\
                 <beskrivelse lang=\"nb\">Vennligst svar på denne viktige meldingen.</beskrivelse>\
                 <knappTekst lang=\"nb\">Svar på meldingen</knappTekst>\
                 <frist>2017-10-01T12:00:00+02:00</frist>",
            ),
            "data",
        )
        .unwrap();
        assert_eq!(link.url, "https://www.avsender.no/svar");
        assert_eq!(link.button_text.as_deref(), Some("Svar på meldingen"));
        assert_eq!(link.deadline, Some("2017-10-01T10:00:00Z".parse().unwrap()));
    }

    #[test]
    fn only_https_addresses_are_taken() {
        for (url, fault) in [
            ("javascript:alert(1)", "not javascript:"),
            ("http://www.avsender.no/", "not http:"),
            ("data:text/html,<b>x</b>", "not data:"),
            ("https://meg:hemmelig@avsender.no/", "user name"),
            ("/svar", "absolute"),
        ] {
            let problems = link(&lenke(&format!("<url>{url}</url>")), "data").unwrap_err();
            assert_eq!(problems[0].name, "data.url", "{url}");
            assert!(
                problems[0].reason.contains(fault),
                "{url}: {}",
                problems[0].reason
            );
        }
    }

    #[test]
    fn every_fault_is_named() {
        let problems = link(
            &lenke("<knappTekst>x</knappTekst><frist>i morgen</frist>"),
            "data",
        )
        .unwrap_err();
        let names: Vec<_> = problems
            .iter()
            .map(|problem| problem.name.as_str())
            .collect();
        assert_eq!(names, ["data.url", "data.frist"]);
        assert_eq!(
            link(b"<lenke><url>https://a.no</url></lenke>", "data").unwrap_err()[0].name,
            "data"
        );
    }
}
