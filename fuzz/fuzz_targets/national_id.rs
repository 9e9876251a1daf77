//! The national identity number (fødselsnummer, D-number, synthetic test
//! numbers): any text parses or is refused, never a panic, and what parses
//! is consistent: it parses again to itself, has a birth date, and is
//! refused under the production policy exactly when it is synthetic.
#![no_main]

use app::domain::{Fnr, SyntheticIds};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else {
        return;
    };
    let Ok(fnr) = Fnr::parse(text, SyntheticIds::Allowed) else {
        return;
    };
    assert_eq!(Fnr::parse(fnr.as_str(), SyntheticIds::Allowed).as_ref(), Ok(&fnr));
    assert_eq!(fnr.as_str().len(), 11);
    let born = fnr.birth_date();
    let _ = fnr.kind();
    assert_eq!(
        Fnr::parse(text, SyntheticIds::Refused).is_ok(),
        !fnr.is_synthetic()
    );
    assert_eq!(
        Fnr::parse_on(text, SyntheticIds::Allowed, born).as_ref(),
        Ok(&fnr),
        "born on its own birth date is not in the future"
    );
});
