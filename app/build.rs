//! Generates the `i18n` module from the translation catalogues in `locales/`
//! (leptos_i18n): bokmål is the default, nynorsk and English the others.
//! Every key used is checked at compile time, and the build fails when one
//! catalogue has a key the others lack: a page is never half translated.

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};
use std::{collections::BTreeSet, error::Error, path::PathBuf};

/// The catalogues, the default first.
const LOCALES: [&str; 3] = ["nb", "nn", "en"];

/// Every key path in a catalogue (`settings.email_hint`), with its
/// interpolations (`{{ max }}`), so a translation that drops a value fails too.
fn keys(value: &serde_json::Value, prefix: &str, into: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                keys(value, &format!("{prefix}{key}."), into);
            }
        }
        serde_json::Value::String(text) => {
            let mut entry = prefix.trim_end_matches('.').to_owned();
            let mut rest = text.as_str();
            while let Some((_, after)) = rest.split_once("{{") {
                let Some((name, after)) = after.split_once("}}") else {
                    break;
                };
                entry.push_str(&format!(" {{{{{}}}}}", name.trim()));
                rest = after;
            }
            into.insert(entry);
        }
        other => {
            into.insert(format!("{} {other}", prefix.trim_end_matches('.')));
        }
    }
}

/// Fails unless every catalogue has exactly the default's keys and values.
fn check_complete() -> Result<(), Box<dyn Error>> {
    let mut catalogues = Vec::new();
    for locale in LOCALES {
        let text = std::fs::read_to_string(format!("locales/{locale}.json"))?;
        let mut found = BTreeSet::new();
        keys(&serde_json::from_str(&text)?, "", &mut found);
        catalogues.push((locale, found));
    }
    let (default, expected) = &catalogues[0];
    for (locale, found) in &catalogues[1..] {
        let missing: Vec<_> = expected.difference(found).collect();
        let extra: Vec<_> = found.difference(expected).collect();
        if !missing.is_empty() || !extra.is_empty() {
            return Err(format!(
                "locales/{locale}.json does not match locales/{default}.json: \
                 missing or different {missing:?}, not in {default} {extra:?}"
            )
            .into());
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=Cargo.toml");

    let module_directory =
        PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?).join("i18n");
    // Strings with values in them are also needed as plain text (titles,
    // attributes, server-side messages), which `interpolate_display` allows.
    check_complete()?;
    let options = ParseOptions::default().interpolate_display(true);
    let config = Config::new(LOCALES[0])?
        .add_locales(LOCALES[1..].iter().copied())?
        .parse_options(options);
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    translations.generate_i18n_module(module_directory)?;
    Ok(())
}
