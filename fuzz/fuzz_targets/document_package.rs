//! The plain document package (ASiC-E zip with the SDP manifest and perhaps
//! a XAdES signature): any bytes open into a package or are refused with
//! their problems, within the package limits, never a panic. A package that
//! opens has its signature checked too (against no trust anchors, so it is
//! never trusted: the point is the XML reading). Seeds: the packages the
//! unit and integration tests open.
#![no_main]

use libfuzzer_sys::fuzz_target;
use postkasse::broker::{package, xades};

fuzz_target!(|input: &[u8]| {
    let limits = package::PackageLimits {
        // Small, so one input cannot make the run slow or huge.
        max_total_bytes: 4 * 1024 * 1024,
        max_entries: 64,
    };
    match package::open(input, &limits) {
        Ok(opened) => {
            if let Some(xml) = &opened.signatures_xml {
                let anchors = postkasse::trust::TrustAnchors::none();
                let _ = xades::verify(&opened.signed_files(), xml, &anchors, chrono::Utc::now());
            }
        }
        Err(problems) => assert!(!problems.is_empty(), "a refusal names its problems"),
    }
});
