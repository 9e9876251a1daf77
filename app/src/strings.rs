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

// The archive pages and the letter page's tools.
pub const NOT_FOUND_RELOAD: &str = "Fant ikke det du ville endre. Last siden på nytt.";
pub const LOGGED_OUT_RETRY: &str = "Du er ikke lenger logget inn. Logg inn på nytt.";
pub const NOT_SAVED: &str = "Endringen ble ikke lagret fordi noe gikk galt. Prøv igjen om litt.";
pub const ORGANISE_LETTER: &str = "Ordne brevet";
pub const LETTER_LIES_IN: &str = "Brevet ligger i ";
pub const MARK_READ: &str = "Merk som lest";
pub const MARK_UNREAD: &str = "Merk som ulest";
pub const ARCHIVE_IT: &str = "Arkiver";
pub const RESTORE_TO_INBOX: &str = "Gjenopprett til innboksen";
pub const MOVE_TO_TRASH: &str = "Flytt til papirkurven";
pub const MOVE_TO: &str = "Flytt til";
pub const MOVE: &str = "Flytt";
pub const MAKE_NEW_FOLDER: &str = "Lag en ny mappe";
pub const THE_FOLDER: &str = "Mappen";
pub const FOLDERS: &str = "Mapper";
pub const BACK_TO_INBOX: &str = "Tilbake til innboksen";
pub const FOLDERS_LEAD: &str = "Lag mapper for å ordne brevene dine. Brevene i en mappe du sletter, flyttes tilbake til innboksen.";
pub const NEW_FOLDER: &str = "Ny mappe";
pub const FOLDER_NAME_LABEL: &str = "Navn på mappen";
pub const THE_NAME: &str = "Navnet";
pub const MAKE_FOLDER: &str = "Lag mappen";
pub const YOUR_FOLDERS: &str = "Mappene dine";
pub const THE_NEW_NAME: &str = "Det nye navnet";
pub const LOADING_FOLDERS: &str = "Henter mappene dine …";
pub const NO_FOLDERS: &str = "Du har ingen mapper ennå.";
pub const RENAME: &str = "Gi nytt navn";
pub const DELETE_FOLDER: &str = "Slett mappen";
pub const MY_DOCUMENTS: &str = "Mine dokumenter";
pub const MY_DOCUMENTS_LEAD: &str = "Last opp egne dokumenter, for eksempel kvitteringer og avtaler, så ligger de i arkivet sammen med brevene dine.";
pub const UPLOAD_A_DOCUMENT: &str = "Last opp et dokument";
pub const UPLOADED: &str = "Dokumentet er lastet opp.";
pub const DOCUMENT_LABEL: &str = "Dokument";
pub const UPLOAD_HINT: &str = "PDF, PNG eller JPEG.";
pub const UPLOAD: &str = "Last opp";
pub const YOUR_DOCUMENTS: &str = "Dokumentene dine";
pub const THE_DOCUMENT: &str = "Dokumentet";
pub const LOADING_DOCUMENTS: &str = "Henter dokumentene dine …";
pub const NO_UPLOADS: &str = "Du har ikke lastet opp noe ennå.";
pub const DELETE: &str = "Slett";

// The inbox.
pub const ORGANISE_FOLDERS: &str = "Ordne mapper";
pub const DOWNLOAD_ARCHIVE: &str = "Last ned hele arkivet (zip)";
pub const NO_LETTERS_IN_INBOX: &str = "Du har ingen brev her.";
pub const TRASH_EMPTY: &str = "Papirkurven er tom.";
pub const NO_LETTERS_HERE: &str = "Det ligger ingen brev her.";
pub const PUBLIC_SENDER: &str = "Offentlig virksomhet";
pub const PREVIOUS_PAGE: &str = "Forrige side";
pub const NEXT_PAGE: &str = "Neste side";

pub fn page_of(page: u32, page_count: u32) -> String {
    format!("Side {page} av {page_count}")
}

pub fn attachments(count: u32) -> String {
    format!("{count} vedlegg")
}

pub fn trash_note(trash_days: u32) -> String {
    format!(
        "Brev i papirkurven slettes for godt {trash_days} dager etter at du la dem der. \
         Til da kan du åpne dem og flytte dem tilbake."
    )
}

pub fn rename_label(folder: &str) -> String {
    format!("Nytt navn på {folder}")
}

/// The upload's refusal, `reason` read after "Filen".
pub fn upload_refused(reason: &str) -> String {
    format!("Filen {reason}.")
}
