//! The business message (forretningsmelding) reader: any JSON an agency
//! sends is read into a message or refused with its problems, never a panic.
//! Seeds: the messages the integration tests send.
#![no_main]

use app::domain::{OrgNr, SyntheticIds};
use libfuzzer_sys::fuzz_target;
use postkasse::broker::message::{parse, Expectations};

fuzz_target!(|input: &[u8]| {
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(input) else {
        return;
    };
    // The tests' sender and this installation's default provider number.
    let agency = OrgNr::parse("974760673").unwrap();
    let provider = OrgNr::parse("999900003").unwrap();
    let expectations = Expectations {
        agency: &agency,
        provider: &provider,
        synthetic_ids: SyntheticIds::Allowed,
        now: chrono::Utc::now(),
    };
    if let Err(problems) = parse(&document, &expectations) {
        assert!(!problems.is_empty(), "a refusal names its problems");
    }
});
