//! Seeds for the fuzz targets (fuzz/, run by scripts/fuzz): the inputs the
//! tests feed the readers of untrusted bytes (business messages, document
//! packages, CMS envelopes) are the best place for a fuzzer to start.
//!
//! When `POSTKASSE_FUZZ_SEEDS` names a directory, [`record`] writes an input
//! to `DIRECTORY/TARGET/`, named by its SHA-256 so repeats are kept once.
//! Unset (always, outside scripts/fuzz), it does nothing. Only tests call it.

use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// The fuzz target that reads business messages (JSON).
pub const BUSINESS_MESSAGE: &str = "business_message";
/// The fuzz target that opens plain ASiC-E packages and their manifest.
pub const DOCUMENT_PACKAGE: &str = "document_package";
/// The fuzz target that reads CMS EnvelopedData, in DER or BER.
pub const CMS_PACKAGE: &str = "cms_package";

/// Keeps `input` as a seed for `target`, when seeds are being collected.
pub fn record(target: &str, input: &[u8]) {
    let Some(directory) = std::env::var_os("POSTKASSE_FUZZ_SEEDS") else {
        return;
    };
    let directory = PathBuf::from(directory).join(target);
    std::fs::create_dir_all(&directory).expect("a directory for fuzz seeds");
    let name = hex::encode(Sha256::digest(input));
    std::fs::write(directory.join(name), input).expect("a fuzz seed written");
}
