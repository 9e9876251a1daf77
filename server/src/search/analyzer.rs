//! How Norwegian text becomes index terms.
//!
//! Words are split on anything that is not a letter or digit (æ, ø and å are
//! letters), lower-cased and stemmed with the Snowball Norwegian stemmer, so
//! `vedtaket` and `vedtak` meet. There is deliberately no ASCII folding: `får`
//! is not `far` and `bær` is not `bar`. The Snowball algorithm only strips
//! endings and never rewrites vowels, and its region R1 starts after the third
//! letter at the earliest, so short words like these keep every letter; the
//! unit tests below pin that, so no separate unstemmed field is needed.

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer, TokenStream,
};

/// The analyzer's name in the index's tokenizer manager.
pub const NORWEGIAN: &str = "norsk";
/// Lower-cased, unstemmed words: what prefix search while typing compares with.
pub const NORWEGIAN_PREFIX: &str = "norsk_prefiks";

/// Longer "words" are noise (base64, hashes) and are left out of the index.
const LONGEST_WORD: usize = 60;

pub fn norwegian() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(LONGEST_WORD))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::Norwegian))
        .build()
}

pub fn norwegian_prefix() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(LONGEST_WORD))
        .filter(LowerCaser)
        .build()
}

/// The terms `analyzer` makes of `text`, in order.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut terms = Vec::new();
    while stream.advance() {
        terms.push(stream.token().text.clone());
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(text: &str) -> Vec<String> {
        terms(&mut norwegian(), text)
    }

    #[test]
    fn norwegian_letters_are_not_folded() {
        assert_ne!(stems("får"), stems("far"));
        assert_ne!(stems("bær"), stems("bar"));
        assert_ne!(stems("søk"), stems("sok"));
        assert_eq!(stems("Får BÆR Ørret"), stems("får bær ørret"));
        assert_eq!(stems("ÆØÅ"), vec!["æøå".to_owned()]);
    }

    #[test]
    fn inflected_forms_share_a_stem() {
        assert_eq!(stems("vedtaket"), stems("vedtak"));
        assert_eq!(stems("vedtakene"), stems("vedtak"));
        assert_eq!(stems("skatteoppgjøret"), stems("skatteoppgjør"));
        assert_eq!(stems("søknaden"), stems("søknad"));
    }

    #[test]
    fn words_split_on_punctuation_and_long_noise_goes() {
        assert_eq!(
            terms(&mut norwegian_prefix(), "E-post: kari@nav.no, «Vedtak»!"),
            ["e", "post", "kari", "nav", "no", "vedtak"]
        );
        assert!(stems(&"x".repeat(200)).is_empty());
    }
}
