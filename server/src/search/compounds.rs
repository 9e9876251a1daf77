//! Norwegian compounds and their parts. Norwegian writes compounds as one
//! word (`reservasjonsregisteret`), and a person searching for `reservasjon`
//! expects to find it. The parts are found with a dictionary, the Norwegian
//! hunspell word list (Debian's `hunspell-no`), loaded once at start: a
//! compound is split where its head is a known word (maybe followed by the
//! linking `s` or `e`, as in `reservasjon-s-rett` and `skatt-e-oppgjør`) and
//! the rest is a known word, maybe inflected (`oppgjør-et`), or splits again.
//!
//! The parts go into their own index fields, searched with a lower weight,
//! so a letter that has the word itself still ranks above one that only has
//! it inside a compound.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock},
};

/// Parts shorter than this are not split off: `bil` in `bilde` is no part.
/// (hunspell's `COMPOUNDMIN` for Norwegian is 4 too.)
const SHORTEST_PART: usize = 4;

/// The endings of inflected nouns and verbs, longest first: the word list
/// holds the bare word (`oppgjør`), a compound's last part is often
/// inflected (`skatteoppgjøret`).
const ENDINGS: [&str; 12] = [
    "ene", "ane", "ets", "ens", "et", "en", "er", "ar", "a", "e", "n", "s",
];

/// Where Debian's `hunspell-no` puts the bokmål word list.
pub const DEBIAN_BOKMAAL: &str = "/usr/share/hunspell/nb_NO.dic";

/// The known words, lower-cased.
#[derive(Debug, Default)]
pub struct Compounds {
    words: HashSet<String>,
}

impl Compounds {
    /// No dictionary: nothing is split.
    pub fn none() -> Compounds {
        Compounds::default()
    }

    /// Reads a hunspell `.dic` file: a count, then one word per line, with
    /// its affix flags after a `/`. The Norwegian lists are ISO 8859-1.
    /// Blocking: call it off the async threads.
    pub fn load(path: &Path) -> anyhow::Result<Compounds> {
        let bytes = std::fs::read(path).map_err(|error| {
            anyhow::anyhow!("cannot read the word list {}: {error}", path.display())
        })?;
        // ISO 8859-1 is the first 256 code points of Unicode.
        let text: String = match std::str::from_utf8(&bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => bytes.iter().map(|&byte| char::from(byte)).collect(),
        };
        Ok(Compounds::from_words(text.lines().skip(1).map(|line| {
            line.split(['/', '\t', ' ']).next().unwrap_or_default()
        })))
    }

    /// The word list at `path`, read once per process: every index (and
    /// every test server) in it shares one.
    pub fn shared(path: &Path) -> anyhow::Result<Arc<Compounds>> {
        static LOADED: OnceLock<Mutex<HashMap<PathBuf, Arc<Compounds>>>> = OnceLock::new();
        let loaded = LOADED.get_or_init(Default::default);
        let mut loaded = loaded.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some(compounds) = loaded.get(path) {
            return Ok(compounds.clone());
        }
        let compounds = Arc::new(Compounds::load(path)?);
        loaded.insert(path.to_owned(), compounds.clone());
        Ok(compounds)
    }

    pub fn from_words<'a>(words: impl IntoIterator<Item = &'a str>) -> Compounds {
        Compounds {
            words: words
                .into_iter()
                .filter(|word| {
                    word.chars().count() >= SHORTEST_PART && word.chars().all(char::is_alphabetic)
                })
                .map(str::to_lowercase)
                .collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The parts of a lower-cased word, when it is a compound of known
    /// words: `reservasjonsregisteret` gives `reservasjon`, `registeret`.
    /// The longest known head wins. Empty for a word that is no compound.
    pub fn parts(&self, word: &str) -> Vec<String> {
        let mut parts = Vec::new();
        if self.split_into(word, &mut parts) && parts.len() > 1 {
            parts
        } else {
            Vec::new()
        }
    }

    /// Pushes the parts of `word` (itself, if it is known and no compound).
    fn split_into(&self, word: &str, parts: &mut Vec<String>) -> bool {
        let boundaries: Vec<usize> = word.char_indices().map(|(at, _)| at).collect();
        let length = boundaries.len();
        if length >= 2 * SHORTEST_PART {
            for &split in boundaries[SHORTEST_PART..=length - SHORTEST_PART]
                .iter()
                .rev()
            {
                let (head, tail) = word.split_at(split);
                let Some(head) = self.known_head(head) else {
                    continue;
                };
                let before = parts.len();
                parts.push(head.to_owned());
                if self.split_into(tail, parts) {
                    return true;
                }
                parts.truncate(before);
            }
        }
        if self.is_known(word) {
            parts.push(word.to_owned());
            return true;
        }
        false
    }

    /// A known word, as it stands or inflected.
    fn is_known(&self, word: &str) -> bool {
        self.words.contains(word)
            || ENDINGS.iter().any(|ending| {
                word.strip_suffix(ending).is_some_and(|bare| {
                    bare.chars().count() >= SHORTEST_PART && self.words.contains(bare)
                })
            })
    }

    /// The head as a known word: itself, or without a linking `s` or `e`.
    fn known_head<'w>(&self, head: &'w str) -> Option<&'w str> {
        if self.words.contains(head) {
            return Some(head);
        }
        let without_link = head.strip_suffix(['s', 'e'])?;
        (without_link.chars().count() >= SHORTEST_PART && self.words.contains(without_link))
            .then_some(without_link)
    }

    /// The parts of every compound in `text`, as one text for the parts field.
    pub fn parts_of_text(&self, text: &str) -> String {
        if self.is_empty() {
            return String::new();
        }
        let mut seen = HashSet::new();
        let mut out = String::new();
        for word in text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| word.chars().count() >= 2 * SHORTEST_PART)
        {
            let word = word.to_lowercase();
            if !seen.insert(word.clone()) {
                continue;
            }
            for part in self.parts(&word) {
                out.push_str(&part);
                out.push(' ');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Compounds {
        Compounds::from_words([
            "reservasjon",
            "register",
            "rett",
            "skatt",
            "oppgjør",
            "bolig",
            "støtte",
            "bil",
            "bilde",
        ])
    }

    #[test]
    fn compounds_split_at_known_words_and_linking_letters() {
        let words = small();
        assert_eq!(
            words.parts("reservasjonsregisteret"),
            ["reservasjon", "registeret"]
        );
        assert_eq!(words.parts("reservasjonsrett"), ["reservasjon", "rett"]);
        assert_eq!(words.parts("skatteoppgjøret"), ["skatt", "oppgjøret"]);
        assert_eq!(words.parts("reservasjonsretten"), ["reservasjon", "retten"]);
        assert_eq!(words.parts("boligstøtte"), ["bolig", "støtte"]);
    }

    #[test]
    fn plain_words_and_unknown_ones_are_not_split() {
        let words = small();
        assert!(words.parts("reservasjon").is_empty());
        assert!(
            words.parts("bilde").is_empty(),
            "no part under four letters"
        );
        assert!(words.parts("reservasjonsxyzzy").is_empty());
        assert!(Compounds::none().parts("reservasjonsrett").is_empty());
    }

    #[test]
    fn a_text_gives_each_compounds_parts_once() {
        let words = small();
        assert_eq!(
            words.parts_of_text("Om Reservasjonsretten? reservasjonsrett, reservasjonsrett. Bolig"),
            "reservasjon retten reservasjon rett "
        );
    }

    /// The real word list, as the server loads it: Debian's `hunspell-no`
    /// must be installed (`.ci/setup` installs it).
    #[test]
    fn the_norwegian_word_list_splits_what_letters_say() {
        let words = Compounds::shared(Path::new(DEBIAN_BOKMAAL)).unwrap_or_else(|error| {
            panic!("{error}: install Debian's hunspell-no (.ci/setup does)")
        });
        assert!(words.len() > 100_000, "{} words", words.len());
        let parts = words.parts("reservasjonsregisteret");
        assert_eq!(
            parts.first().map(String::as_str),
            Some("reservasjon"),
            "{parts:?}"
        );
        // `skatte` is a word too (to tax); the stemmer makes it `skatt`.
        let parts = words.parts("skatteoppgjøret");
        assert_eq!(parts, ["skatte", "oppgjøret"]);
        let mut stemmer = crate::search::analyzer::norwegian();
        assert_eq!(
            crate::search::analyzer::terms(&mut stemmer, &parts[0]),
            ["skatt"]
        );
        assert!(words.parts("vedtak").is_empty());
    }
}
