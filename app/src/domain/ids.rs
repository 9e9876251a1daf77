//! Identifiers. Each is a UUID with its own type, so a message id can never be
//! passed where a letter id is expected.
//!
//! The types are one generic [`Id`], told apart by an uninhabited marker
//! type: `MessageId` is `Id<MessageKind>`, and `Id<MessageKind>` and
//! `Id<LetterKind>` are different types. A message id is not a letter id:
//!
//! ```compile_fail,E0308
//! use app::domain::{LetterId, MessageId};
//! fn open(_letter: LetterId) {}
//! let message: MessageId = "3fa85f64-5717-4562-b3fc-2c963f66afa6".parse().unwrap();
//! open(message);
//! ```

use serde::{Deserialize, Serialize};
use std::{cmp::Ordering, fmt, hash, marker::PhantomData, str::FromStr};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6")]
pub struct IdError;

/// What a kind of id is called; `Debug` shows it, as in `MessageId(…)`.
pub trait IdKind {
    const NAME: &'static str;
}

/// A UUID that names one kind `K` of thing. `K` is only a marker: the
/// `PhantomData<fn() -> K>` holds no `K` and leaves the id `Send`, `Sync`,
/// `Copy` and the rest whatever `K` is, so the traits are written by hand
/// rather than derived (a derive would ask the same of `K`). Serde sees a
/// plain UUID string.
#[derive(Serialize, Deserialize)]
#[serde(transparent, bound = "")]
pub struct Id<K>(Uuid, PhantomData<fn() -> K>);

impl<K> Id<K> {
    /// A fresh random (version 4) id.
    #[cfg(feature = "ssr")]
    pub fn generate() -> Self {
        Self::from_uuid(Uuid::new_v4())
    }

    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid, PhantomData)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl<K> FromStr for Id<K> {
    type Err = IdError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        // Only the hyphenated form: DPI and our URLs use it, and one
        // spelling per id keeps idempotency keys from splitting.
        if input.len() != 36 {
            return Err(IdError);
        }
        Uuid::parse_str(input)
            .map(Self::from_uuid)
            .map_err(|_| IdError)
    }
}

impl<K> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl<K: IdKind> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple(K::NAME).field(&self.0).finish()
    }
}

impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Id<K> {}

impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<K> Eq for Id<K> {}

impl<K> hash::Hash for Id<K> {
    fn hash<H: hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl<K> PartialOrd for Id<K> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Id<K> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

/// Marks a [`MessageId`].
pub enum MessageKind {}
/// Marks a [`ConversationId`].
pub enum ConversationKind {}
/// Marks a [`LetterId`].
pub enum LetterKind {}
/// Marks a [`FolderId`].
pub enum FolderKind {}
/// Marks an [`UploadId`].
pub enum UploadKind {}
/// Marks a [`FullmaktId`].
pub enum FullmaktKind {}

impl IdKind for MessageKind {
    const NAME: &'static str = "MessageId";
}
impl IdKind for ConversationKind {
    const NAME: &'static str = "ConversationId";
}
impl IdKind for LetterKind {
    const NAME: &'static str = "LetterId";
}
impl IdKind for FolderKind {
    const NAME: &'static str = "FolderId";
}
impl IdKind for UploadKind {
    const NAME: &'static str = "UploadId";
}
impl IdKind for FullmaktKind {
    const NAME: &'static str = "FullmaktId";
}

/// The sender's id for one message (the SBDH `instanceIdentifier`).
pub type MessageId = Id<MessageKind>;
/// Binds a message to its receipts (the SBDH `ConversationId`).
pub type ConversationId = Id<ConversationKind>;
/// Postkasse's own id for a letter in a citizen's mailbox; it appears in URLs.
pub type LetterId = Id<LetterKind>;
/// A folder the citizen made for their letters; it appears in URLs.
pub type FolderId = Id<FolderKind>;
/// A document the citizen uploaded to their own archive.
pub type UploadId = Id<UploadKind>;
/// A power of attorney one citizen gave another.
pub type FullmaktId = Id<FullmaktKind>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::any::TypeId;

    const TEXT: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

    #[test]
    fn a_hyphenated_uuid_parses_and_prints_the_same() {
        let id: MessageId = TEXT.parse().unwrap();
        assert_eq!(id.to_string(), TEXT);
    }

    #[test]
    fn other_spellings_and_garbage_are_refused() {
        assert_eq!(
            "3fa85f6457174562b3fc2c963f66afa6".parse::<MessageId>(),
            Err(IdError)
        );
        assert_eq!(
            "{3fa85f64-5717-4562-b3fc-2c963f66afa6}".parse::<LetterId>(),
            Err(IdError)
        );
        assert_eq!("not-a-uuid".parse::<ConversationId>(), Err(IdError));
        assert_eq!("".parse::<MessageId>(), Err(IdError));
    }

    #[test]
    fn each_kind_of_id_is_its_own_type() {
        let kinds = [
            TypeId::of::<MessageId>(),
            TypeId::of::<ConversationId>(),
            TypeId::of::<LetterId>(),
            TypeId::of::<FolderId>(),
            TypeId::of::<UploadId>(),
            TypeId::of::<FullmaktId>(),
        ];
        for (i, a) in kinds.iter().enumerate() {
            for b in &kinds[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn debug_names_the_kind_and_shows_the_uuid() {
        let id: FolderId = TEXT.parse().unwrap();
        assert_eq!(format!("{id:?}"), format!("FolderId({TEXT})"));
    }

    #[test]
    fn serde_reads_a_plain_uuid_string() {
        use serde::de::{value, IntoDeserializer};
        let deserializer: value::StrDeserializer<'_, value::Error> = TEXT.into_deserializer();
        let id = LetterId::deserialize(deserializer).unwrap();
        assert_eq!(id, TEXT.parse().unwrap());
    }
}
