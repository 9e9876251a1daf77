//! Postkasse's domain vocabulary: values that are checked once, where they enter
//! the system, and can be trusted everywhere after ("parse, don't validate").
//!
//! These types compile for the server and for the browser, so the web app and
//! the server agree on what a valid national id or security level is.

pub mod archive;
pub mod ids;
pub mod language;
pub mod letter;
pub mod national_id;
pub mod notice;
pub mod org_nr;
pub mod page;
pub mod reply_form;
pub mod security_level;
pub mod signing_order;

pub use archive::{FolderName, Place, UploadName, UPLOAD_MEDIA_TYPES};
pub use ids::{ConversationId, FolderId, FullmaktId, IdError, LetterId, MessageId, UploadId};
pub use language::{Language, LanguageError};
pub use letter::{
    Document, DocumentRole, Letter, LetterSummary, MediaType, PackageSigner, Sender, Sha256Digest,
    TextError, Title,
};
pub use national_id::{Fnr, FnrError, FnrKind, SyntheticIds};
pub use notice::NoticeChannel;
pub use org_nr::{OrgNr, OrgNrError};
pub use page::{PageError, PageNumber};
pub use reply_form::{Answer, AnswerFile, LetterLink, Question, QuestionKind, ReplyForm};
pub use security_level::{SecurityLevel, SecurityLevelError};
pub use signing_order::{JobStatus, SignerIdentifier, SignerStatus, SigningOrder};
