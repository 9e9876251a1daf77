//! Identifiers. Each is a UUID with its own type, so a message id can never be
//! passed where a letter id is expected.

use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a UUID such as 3fa85f64-5717-4562-b3fc-2c963f66afa6")]
pub struct IdError;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh random (version 4) id.
            #[cfg(feature = "ssr")]
            pub fn generate() -> Self {
                Self(Uuid::new_v4())
            }

            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(input: &str) -> Result<Self, Self::Err> {
                // Only the hyphenated form: DPI and our URLs use it, and one
                // spelling per id keeps idempotency keys from splitting.
                if input.len() != 36 {
                    return Err(IdError);
                }
                Uuid::parse_str(input).map(Self).map_err(|_| IdError)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// The sender's id for one message (the SBDH `instanceIdentifier`).
    MessageId
);
uuid_id!(
    /// Binds a message to its receipts (the SBDH `ConversationId`).
    ConversationId
);
uuid_id!(
    /// Postkasse's own id for a letter in a citizen's mailbox; it appears in URLs.
    LetterId
);
uuid_id!(
    /// A folder the citizen made for their letters; it appears in URLs.
    FolderId
);
uuid_id!(
    /// A document the citizen uploaded to their own archive.
    UploadId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hyphenated_uuid_parses_and_prints_the_same() {
        let text = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
        let id: MessageId = text.parse().unwrap();
        assert_eq!(id.to_string(), text);
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
}
