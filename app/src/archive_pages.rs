//! The archive's pages and forms: what the citizen can do with a letter
//! (mark it unread, move it to the archive, a folder or the trash, restore
//! it), their folders ("Mapper") and the documents they upload themselves
//! ("Mine dokumenter").
//!
//! The server-function forms are [`ActionForm`]s: without JavaScript the
//! browser posts them and is sent back to the page, with a refusal in the
//! address (`?__path=…&__err=…`) shown beside its field; with JavaScript the
//! action's value holds it. The upload form is a plain multipart form posted
//! to `/mine-dokumenter/last-opp`, which sends the browser back here with
//! `?feil=<code>` or `?lagret=1`.

use crate::{
    archive::{
        list_folders, list_uploads, CreateFolder, DeleteFolder, DeleteUpload, FolderView,
        MarkLetter, MoveLetter, RenameFolder, UploadProblem, UploadView,
    },
    domain::{LetterId, Place},
    error::AppError,
    pages::{local_time, size_text, ErrorNotice},
    strings,
};
use leptos::{
    form::ActionForm,
    prelude::*,
    server_fn::{error::ServerFnUrlError, ServerFn},
};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The refusal to show beside `action`'s form: its own last answer once it
/// has run in the browser; before that, the one a plain form post left in
/// the address, if it came from this server function.
fn form_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    let query = use_query_map();
    Signal::derive(move || {
        if action.version().get() > 0 {
            return action.value().get().and_then(Result::err);
        }
        query.with(|query| {
            (query.get("__path")? == S::PATH).then_some(())?;
            Some(ServerFnUrlError::<AppError>::decode_err(
                query.get_str("__err")?,
            ))
        })
    })
}

/// What a refusal says after the field's label.
fn error_text(error: &AppError, label: &str) -> String {
    match error {
        AppError::Invalid { message, .. } => format!("{label} {message}."),
        AppError::NotFound => strings::NOT_FOUND_RELOAD.to_owned(),
        AppError::Unauthorized => strings::LOGGED_OUT_RETRY.to_owned(),
        _ => strings::NOT_SAVED.to_owned(),
    }
}

/// A loaded list as a `<ul>` of `item`s, a sentence when it is empty, or the error.
fn listed<T, V>(
    loaded: Result<Vec<T>, AppError>,
    empty: &'static str,
    class: &'static str,
    item: impl Fn(T) -> V,
) -> AnyView
where
    V: IntoView + 'static,
{
    match loaded {
        Ok(items) if items.is_empty() => view! { <p>{empty}</p> }.into_any(),
        Ok(items) => {
            view! { <ul class=class>{items.into_iter().map(item).collect_view()}</ul> }.into_any()
        }
        Err(error) => view! { <ErrorNotice error /> }.into_any(),
    }
}

fn place_label(place: Place, folders: &[FolderView]) -> String {
    match place {
        Place::Inbox => strings::INBOX.to_owned(),
        Place::Archive => strings::ARCHIVE.to_owned(),
        Place::Trash => strings::TRASH.to_owned(),
        Place::Folder(id) => folders
            .iter()
            .find(|folder| folder.id == id)
            .map(|folder| format!("mappen {}", folder.name))
            .unwrap_or_else(|| "en mappe".to_owned()),
    }
}

/// The actions the letter page offers, and the versions that make the page reload.
#[derive(Clone, Copy)]
pub struct LetterActions {
    pub mark: ServerAction<MarkLetter>,
    pub relocate: ServerAction<MoveLetter>,
}

impl LetterActions {
    pub fn new() -> Self {
        LetterActions {
            mark: ServerAction::new(),
            relocate: ServerAction::new(),
        }
    }

    pub fn version(&self) -> usize {
        self.mark.version().get() + self.relocate.version().get()
    }
}

/// "Ordne brevet": where the letter lies and what can be done with it.
#[component]
pub fn LetterTools(
    id: LetterId,
    unread: bool,
    place: Place,
    folders: Vec<FolderView>,
    actions: LetterActions,
) -> impl IntoView {
    let move_error = form_error(actions.relocate);
    let here = place_label(place, &folders);
    view! {
        <section class="letter-tools" aria-labelledby="ordne-tittel">
            <h2 id="ordne-tittel">{strings::ORGANISE_LETTER}</h2>
                            <p>{strings::LETTER_LIES_IN} <strong>{here}</strong> "."</p>
                            <div class="tool-row">
                                <ActionForm action=actions.mark>
                                    <input type="hidden" name="id" value=id.to_string() />
                                    <input type="hidden" name="ulest" value=(!unread).to_string() />
                                    <button type="submit" class="secondary">
                                        {if unread { {strings::MARK_READ} } else { {strings::MARK_UNREAD} }}
                                    </button>
                                </ActionForm>
                                {(place != Place::Archive && place != Place::Trash).then(|| view! {
                                    <ActionForm action=actions.relocate>
                                        <input type="hidden" name="id" value=id.to_string() />
                                        <input type="hidden" name="til" value="arkiv" />
                                        <button type="submit" class="secondary">{strings::ARCHIVE_IT}</button>
                                    </ActionForm>
                                })}
                                {if place == Place::Trash {
                                    view! {
                                        <ActionForm action=actions.relocate>
                                            <input type="hidden" name="id" value=id.to_string() />
                                            <input type="hidden" name="til" value="innboks" />
                                            <button type="submit">{strings::RESTORE_TO_INBOX}</button>
                                        </ActionForm>
                                    }
                                    .into_any()
                                } else {
                                    view! {
                                        <ActionForm action=actions.relocate>
                                            <input type="hidden" name="id" value=id.to_string() />
                                            <input type="hidden" name="til" value="papirkurv" />
                                            <button type="submit" class="secondary">{strings::MOVE_TO_TRASH}</button>
                                        </ActionForm>
                                    }
                                    .into_any()
                                }}
                            </div>
                            <ActionForm action=actions.relocate attr:class="move-form">
                                <input type="hidden" name="id" value=id.to_string() />
                                <label for="flytt-til">{strings::MOVE_TO}</label>
                                <select
                                    id="flytt-til"
                                    name="til"
                                    aria-describedby=move || move_error.get().is_some().then_some("flytt-feil")
                                >
                                    <option value="innboks" selected=place == Place::Inbox>{strings::INBOX}</option>
                                    <option value="arkiv" selected=place == Place::Archive>{strings::ARCHIVE}</option>
                                    {folders
                                        .into_iter()
                                        .map(|folder| view! {
                                            <option
                                                value=folder.id.to_string()
                                                selected=place == Place::Folder(folder.id)
                                            >
                                                {folder.name}
                                            </option>
                                        })
                                        .collect_view()}
                                </select>
                                <button type="submit">{strings::MOVE}</button>
                                <p><a href="/mapper">{strings::MAKE_NEW_FOLDER}</a></p>
                            </ActionForm>
            {move || move_error.get().map(|error| view! {
                <p id="flytt-feil" class="field-error">{error_text(&error, strings::THE_FOLDER)}</p>
            })}
        </section>
    }
}

#[component]
pub fn FoldersPage() -> impl IntoView {
    let create = ServerAction::<CreateFolder>::new();
    let rename = ServerAction::<RenameFolder>::new();
    let delete = ServerAction::<DeleteFolder>::new();
    let folders = Resource::new(
        move || create.version().get() + rename.version().get() + delete.version().get(),
        |_| list_folders(),
    );
    let create_error = form_error(create);
    let rename_error = form_error(rename);
    let delete_error = form_error(delete);
    view! {
        <Title text=strings::FOLDERS />
        <p class="breadcrumb"><a href="/innboks">{strings::BACK_TO_INBOX}</a></p>
        <h1>{strings::FOLDERS}</h1>
        <p class="lead">{strings::FOLDERS_LEAD}</p>
        <section aria-labelledby="ny-mappe-tittel">
            <h2 id="ny-mappe-tittel">{strings::NEW_FOLDER}</h2>
            <ActionForm action=create attr:class="settings-form" attr:novalidate=true>
                <div class="field">
                    <label for="ny-mappe">{strings::FOLDER_NAME_LABEL}</label>
                    <input
                        id="ny-mappe"
                        name="navn"
                        type="text"
                        required
                        maxlength="60"
                        autocomplete="off"
                        aria-invalid=move || create_error.get().is_some().then_some("true")
                        aria-describedby=move || create_error.get().is_some().then_some("ny-mappe-feil")
                    />
                    {move || create_error.get().map(|error| view! {
                        <p id="ny-mappe-feil" class="field-error">{error_text(&error, strings::THE_NAME)}</p>
                    })}
                </div>
                <button type="submit">{strings::MAKE_FOLDER}</button>
            </ActionForm>
        </section>
        <section aria-labelledby="mine-mapper-tittel">
            <h2 id="mine-mapper-tittel">{strings::YOUR_FOLDERS}</h2>
            {move || rename_error.get().map(|error| view! {
                <p class="field-error" role="alert">{error_text(&error, strings::THE_NEW_NAME)}</p>
            })}
            {move || delete_error.get().map(|error| view! {
                <p class="field-error" role="alert">{error_text(&error, strings::THE_FOLDER)}</p>
            })}
            <Transition fallback=|| view! { <p>{strings::LOADING_FOLDERS}</p> }>
                {move || Suspend::new(async move {
                    listed(folders.await, strings::NO_FOLDERS, "folders", move |folder| {
                        view! { <FolderItem folder rename delete /> }
                    })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn FolderItem(
    folder: FolderView,
    rename: ServerAction<RenameFolder>,
    delete: ServerAction<DeleteFolder>,
) -> impl IntoView {
    let id = folder.id;
    let input_id = format!("navn-{id}");
    let href = format!("/innboks?mappe={id}");
    let rename_label = strings::rename_label(&folder.name);
    let delete_label = format!(" {}", folder.name);
    let name = folder.name.clone();
    let count = match folder.letter_count {
        1 => "1 brev".to_owned(),
        count => format!("{count} brev"),
    };
    view! {
        <li class="folder">
            <p><a href=href>{folder.name}</a> " (" {count} ")"</p>
            <div class="tool-row">
                <ActionForm action=rename attr:class="rename-form">
                    <input type="hidden" name="id" value=id.to_string() />
                    <label for=input_id.clone()>{rename_label}</label>
                    <input id=input_id name="navn" type="text" required maxlength="60" value=name />
                    <button type="submit" class="secondary">{strings::RENAME}</button>
                </ActionForm>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id.to_string() />
                    <button type="submit" class="secondary">
                        {strings::DELETE_FOLDER} <span class="visually-hidden">{delete_label}</span>
                    </button>
                </ActionForm>
            </div>
        </li>
    }
}

#[component]
pub fn UploadsPage() -> impl IntoView {
    let delete = ServerAction::<DeleteUpload>::new();
    let uploads = Resource::new(move || delete.version().get(), |_| list_uploads());
    let query = use_query_map();
    // Only a known code from the address is shown, never its text.
    let problem = Memo::new(move |_| {
        query.with(|query| {
            query
                .get("feil")
                .and_then(|code| UploadProblem::from_code(&code))
        })
    });
    let saved = Memo::new(move |_| query.with(|query| query.get("lagret").is_some()));
    let delete_error = form_error(delete);
    view! {
        <Title text=strings::MY_DOCUMENTS />
        <p class="breadcrumb"><a href="/innboks">{strings::BACK_TO_INBOX}</a></p>
        <h1>{strings::MY_DOCUMENTS}</h1>
        <p class="lead">{strings::MY_DOCUMENTS_LEAD}</p>
        <section aria-labelledby="last-opp-tittel">
            <h2 id="last-opp-tittel">{strings::UPLOAD_A_DOCUMENT}</h2>
            {move || saved.get().then(|| view! { <p class="saved-note" role="status">{strings::UPLOADED}</p> })}
            <form
                method="post"
                action="/mine-dokumenter/last-opp"
                enctype="multipart/form-data"
                class="settings-form"
            >
                <div class="field">
                    <label for="fil">{strings::DOCUMENT_LABEL}</label>
                    <p id="fil-hint" class="hint">{strings::UPLOAD_HINT}</p>
                    <input
                        id="fil"
                        name="fil"
                        type="file"
                        accept="application/pdf,image/png,image/jpeg"
                        aria-invalid=move || problem.get().is_some().then_some("true")
                        aria-describedby=move || {
                            if problem.get().is_some() { "fil-hint fil-feil" } else { "fil-hint" }
                        }
                    />
                    {move || problem.get().map(|problem| view! {
                        <p id="fil-feil" class="field-error">{strings::upload_refused(problem.message())}</p>
                    })}
                </div>
                <button type="submit">{strings::UPLOAD}</button>
            </form>
        </section>
        <section aria-labelledby="opplastet-tittel">
            <h2 id="opplastet-tittel">{strings::YOUR_DOCUMENTS}</h2>
            {move || delete_error.get().map(|error| view! {
                <p class="field-error" role="alert">{error_text(&error, strings::THE_DOCUMENT)}</p>
            })}
            <Transition fallback=|| view! { <p>{strings::LOADING_DOCUMENTS}</p> }>
                {move || Suspend::new(async move {
                    listed(uploads.await, strings::NO_UPLOADS, "documents uploads", move |upload| {
                        view! { <UploadItem upload delete /> }
                    })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn UploadItem(upload: UploadView, delete: ServerAction<DeleteUpload>) -> impl IntoView {
    let href = upload.href();
    view! {
        <li>
            <a href=href rel="external">{upload.name.clone()}</a>
            " "
            <span class="file-facts">
                {format!("({}, lastet opp {})", size_text(upload.size_bytes), local_time(upload.uploaded_at))}
            </span>
            <ActionForm action=delete attr:class="inline-form">
                <input type="hidden" name="id" value=upload.id.to_string() />
                <button type="submit" class="secondary">
                    {strings::DELETE} <span class="visually-hidden">{format!(" {}", upload.name)}</span>
                </button>
            </ActionForm>
        </li>
    }
}
