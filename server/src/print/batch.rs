//! Batches: letters printed alike, handed to the print house together.
//!
//! At each cut-off the waiting letters are made print-ready and grouped by
//! post class, colour and envelope: C5 (the A4 sheet folded once) up to a
//! sheet limit, C4 (flat) above it. A batch travels as a folder of the
//! letters' PDFs and a manifest that says how each is to be handled, with
//! the SHA-256 of each file so the print house can check what it got.

use super::{PostClass, PostalAddress, PrintColour, PrintOrder, ReturnHandling};
use app::domain::Sha256Digest;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Envelope {
    C5,
    C4,
}

impl Envelope {
    /// The envelope a letter of `sheets` goes in.
    pub fn for_sheets(sheets: u32, c5_max_sheets: u32) -> Envelope {
        if sheets <= c5_max_sheets {
            Envelope::C5
        } else {
            Envelope::C4
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Envelope::C5 => "C5",
            Envelope::C4 => "C4",
        }
    }

    pub fn parse(text: &str) -> Option<Envelope> {
        match text {
            "C5" => Some(Envelope::C5),
            "C4" => Some(Envelope::C4),
            _ => None,
        }
    }
}

/// What letters in one batch have in common.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BatchKind {
    pub post_class: PostClass,
    pub colour: PrintColour,
    pub envelope: Envelope,
}

/// One letter in a batch, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestLetter {
    /// The letter's id, which its QR code carries and answers name.
    pub letter: Uuid,
    /// The file in the batch folder.
    pub file: String,
    pub sha256: String,
    pub pages: u32,
    pub sheets: u32,
    pub envelope: Envelope,
    pub post_class: PostClass,
    pub colour: PrintColour,
    pub return_handling: ReturnHandling,
    pub address: PostalAddress,
    /// `None`: the sender's business address in the Central Coordinating
    /// Register (BRREG).
    pub return_address: Option<PostalAddress>,
}

/// The batch's `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub batch: Uuid,
    pub cut_off: DateTime<Utc>,
    pub post_class: PostClass,
    pub colour: PrintColour,
    pub envelope: Envelope,
    pub letters: Vec<ManifestLetter>,
}

impl ManifestLetter {
    /// The entry for a letter printed as `order` says, in a batch of `kind`,
    /// its print-ready PDF `pdf` in the batch folder.
    pub fn new(
        letter: Uuid,
        order: &PrintOrder,
        kind: BatchKind,
        pdf: &Sha256Digest,
        pages: u32,
        sheets: u32,
    ) -> ManifestLetter {
        ManifestLetter {
            letter,
            file: file_name(letter),
            sha256: pdf.to_hex(),
            pages,
            sheets,
            envelope: kind.envelope,
            post_class: kind.post_class,
            colour: kind.colour,
            return_handling: order.return_handling,
            address: order.address.clone(),
            return_address: order.return_address.clone(),
        }
    }
}

impl Manifest {
    pub fn new(
        batch: Uuid,
        cut_off: DateTime<Utc>,
        kind: BatchKind,
        letters: Vec<ManifestLetter>,
    ) -> Manifest {
        Manifest {
            batch,
            cut_off,
            post_class: kind.post_class,
            colour: kind.colour,
            envelope: kind.envelope,
            letters,
        }
    }
}

/// A letter's file name in its batch folder.
pub fn file_name(letter: Uuid) -> String {
    format!("{letter}.pdf")
}

/// Groups letters by what they have in common, in a stable order (the
/// letters in the order given).
pub fn group<T>(letters: Vec<(BatchKind, T)>) -> BTreeMap<BatchKind, Vec<T>> {
    let mut groups: BTreeMap<BatchKind, Vec<T>> = BTreeMap::new();
    for (kind, letter) in letters {
        groups.entry(kind).or_default().push(letter);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thick_letters_go_flat_in_c4() {
        assert_eq!(Envelope::for_sheets(1, 5), Envelope::C5);
        assert_eq!(Envelope::for_sheets(5, 5), Envelope::C5);
        assert_eq!(Envelope::for_sheets(6, 5), Envelope::C4);
    }

    #[test]
    fn letters_are_grouped_by_post_class_colour_and_envelope() {
        let kind = |post_class, colour, envelope| BatchKind {
            post_class,
            colour,
            envelope,
        };
        let b_bw_c5 = kind(PostClass::B, PrintColour::BlackAndWhite, Envelope::C5);
        let a_bw_c5 = kind(PostClass::A, PrintColour::BlackAndWhite, Envelope::C5);
        let b_colour_c4 = kind(PostClass::B, PrintColour::Colour, Envelope::C4);
        let groups = group(vec![
            (b_bw_c5, 1),
            (a_bw_c5, 2),
            (b_bw_c5, 3),
            (b_colour_c4, 4),
        ]);
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[&b_bw_c5], [1, 3]);
        assert_eq!(groups[&a_bw_c5], [2]);
        assert_eq!(groups[&b_colour_c4], [4]);
    }
}
