//! The archive's words for the citizen, in bokmål, gathered in one place so
//! they can move into a translation catalogue when the app gets one.

pub const MUST_NOT_BE_EMPTY: &str = "må fylles ut";
pub const NO_CONTROL_CHARACTERS: &str = "kan ikke inneholde kontrolltegn";
pub const NO_PATH_SEPARATORS: &str = "kan ikke inneholde / eller \\";
pub const NO_SUCH_PLACE: &str = "finnes ikke";
pub const FOLDER_NAME_TAKEN: &str = "er allerede navnet på en av mappene dine";
pub const UPLOAD_TOO_LARGE: &str = "er for stor";
pub const UPLOAD_WRONG_KIND: &str = "må være en PDF-, PNG- eller JPEG-fil";
pub const UPLOAD_MISSING: &str = "må velges";
pub const UPLOAD_BAD_NAME: &str = "har et filnavn som ikke kan brukes";

pub const INBOX: &str = "Innboks";
pub const ARCHIVE: &str = "Arkiv";
pub const TRASH: &str = "Papirkurv";
