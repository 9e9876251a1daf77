//! The channels citizens are notified on (`varslingskanal`: EPOST, SMS).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NoticeChannel {
    Email,
    Sms,
}
