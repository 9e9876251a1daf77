//! The citizen's own order in the archive: folders, where a letter lies, and
//! the documents they upload themselves.

use super::letter::{CheckedText, TextRules};
use super::{FolderId, MediaType, TextError};
use serde::{Deserialize, Serialize};

/// The rules of a [`FolderName`].
pub enum FolderNameRules {}

impl TextRules for FolderNameRules {
    const NAME: &'static str = "FolderName";
    const MAX_CHARS: usize = 60;
}

/// A folder's name: 1 to 60 characters, trimmed, no control characters.
pub type FolderName = CheckedText<FolderNameRules>;

/// The rules of an [`UploadName`].
pub enum UploadNameRules {}

impl TextRules for UploadNameRules {
    const NAME: &'static str = "UploadName";
    const MAX_CHARS: usize = 120;

    /// No path separators, and not `.` or `..`.
    fn check(text: &str) -> Result<(), TextError> {
        if text.contains(['/', '\\']) || text == "." || text == ".." {
            return Err(TextError::PathSeparators);
        }
        Ok(())
    }
}

/// The name of an uploaded document as the citizen sees it and as it is
/// written into the export: 1 to 120 characters, no path separators, so a
/// name can never climb out of the export's folder.
pub type UploadName = CheckedText<UploadNameRules>;

/// What a citizen may upload. Each has a fixed signature, so the content is
/// checked by its bytes rather than trusted from the name or the browser.
pub const UPLOAD_MEDIA_TYPES: [MediaType; 3] = [MediaType::Pdf, MediaType::Png, MediaType::Jpeg];

/// Which of the formats citizens may upload (to their archive, or with an
/// answer to a reply form) the bytes are, by their signature; the file's
/// name and the browser's label are not trusted.
pub fn sniff_upload(bytes: &[u8]) -> Option<MediaType> {
    UPLOAD_MEDIA_TYPES
        .into_iter()
        .find(|media_type| media_type.matches_content(bytes))
}

/// Where a letter lies in the archive. A letter is in exactly one place:
/// the inbox, the archive, one folder, or the trash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Place {
    Inbox,
    Archive,
    Folder(FolderId),
    Trash,
}

impl Place {
    /// The place's name in URLs and forms (`?mappe=`): `innboks`, `arkiv`,
    /// `papirkurv`, or a folder's id.
    pub fn as_param(&self) -> String {
        match self {
            Place::Inbox => "innboks".to_owned(),
            Place::Archive => "arkiv".to_owned(),
            Place::Trash => "papirkurv".to_owned(),
            Place::Folder(id) => id.to_string(),
        }
    }

    pub fn from_param(param: &str) -> Option<Place> {
        match param {
            "" | "innboks" => Some(Place::Inbox),
            "arkiv" => Some(Place::Archive),
            "papirkurv" => Some(Place::Trash),
            other => other.parse().ok().map(Place::Folder),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_known_by_their_bytes() {
        assert_eq!(sniff_upload(b"%PDF-1.7\n"), Some(MediaType::Pdf));
        assert_eq!(
            sniff_upload(b"\x89PNG\r\n\x1a\n rest"),
            Some(MediaType::Png)
        );
        assert_eq!(
            sniff_upload(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(MediaType::Jpeg)
        );
        assert_eq!(sniff_upload(b"just text, named brev.pdf"), None);
        assert_eq!(sniff_upload(b"<html><script>"), None);
    }

    #[test]
    fn places_round_trip_through_their_url_names() {
        let folder = Place::Folder("3fa85f64-5717-4562-b3fc-2c963f66afa6".parse().unwrap());
        for place in [Place::Inbox, Place::Archive, Place::Trash, folder] {
            assert_eq!(Place::from_param(&place.as_param()), Some(place));
        }
        assert_eq!(Place::from_param(""), Some(Place::Inbox));
        assert_eq!(Place::from_param("søppel"), None);
    }

    #[test]
    fn folder_names_are_trimmed_and_bounded() {
        assert_eq!(FolderName::parse("  Skatt ").unwrap().as_str(), "Skatt");
        assert_eq!(FolderName::parse(" "), Err(TextError::Empty));
        assert_eq!(
            FolderName::parse(&"x".repeat(61)),
            Err(TextError::TooLong { max: 60 })
        );
    }

    #[test]
    fn upload_names_cannot_name_a_path() {
        assert!(UploadName::parse("kvittering.pdf").is_ok());
        assert_eq!(
            UploadName::parse("../../etc/passwd"),
            Err(TextError::PathSeparators)
        );
        assert_eq!(
            UploadName::parse("a\\b.pdf"),
            Err(TextError::PathSeparators)
        );
        assert_eq!(UploadName::parse(".."), Err(TextError::PathSeparators));
    }
}
