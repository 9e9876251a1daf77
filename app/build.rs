//! Generates the `i18n` module from the translation catalogues in `locales/`
//! (leptos_i18n): bokmål is the default, English the other language. Every key
//! is checked at compile time, and a key missing from one language is a warning.

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};
use std::{error::Error, path::PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=Cargo.toml");

    let module_directory =
        PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR is not set")?).join("i18n");
    // Strings with values in them are also needed as plain text (titles,
    // attributes, server-side messages), which `interpolate_display` allows.
    let options = ParseOptions::default().interpolate_display(true);
    let config = Config::new("nb")?.add_locale("en")?.parse_options(options);
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    translations.generate_i18n_module(module_directory)?;
    Ok(())
}
