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
    i18n::{t, td_string, tu_string, use_i18n, Locale},
    locale::{self, field_problem, local_time, refusal_text, size_text},
    pages::{place_name, ErrorNotice},
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
    refusal_text(locale::current(), error, label)
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
    let i18n = use_i18n();
    match place {
        Place::Folder(id) => match folders.iter().find(|folder| folder.id == id) {
            Some(folder) => {
                tu_string!(i18n, archive.in_folder, name = folder.name.clone()).to_string()
            }
            None => tu_string!(i18n, archive.a_folder).to_owned(),
        },
        other => place_name(i18n.get_locale_untracked(), other, None),
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
    let i18n = use_i18n();
    let move_error = form_error(actions.relocate);
    let here = place_label(place, &folders);
    view! {
        <section class="letter-tools" aria-labelledby="ordne-tittel">
            <h2 id="ordne-tittel">{t!(i18n, archive.organise_letter)}</h2>
                            <p>{t!(i18n, archive.letter_lies_in)} <strong>{here}</strong> "."</p>
                            <div class="tool-row">
                                <ActionForm action=actions.mark>
                                    <input type="hidden" name="id" value=id.to_string() />
                                    <input type="hidden" name="ulest" value=(!unread).to_string() />
                                    <button type="submit" class="secondary">
                                        {if unread { tu_string!(i18n, archive.mark_read) } else { tu_string!(i18n, archive.mark_unread) }}
                                    </button>
                                </ActionForm>
                                {(place != Place::Archive && place != Place::Trash).then(|| view! {
                                    <ActionForm action=actions.relocate>
                                        <input type="hidden" name="id" value=id.to_string() />
                                        <input type="hidden" name="til" value="arkiv" />
                                        <button type="submit" class="secondary">{t!(i18n, archive.archive_it)}</button>
                                    </ActionForm>
                                })}
                                {if place == Place::Trash {
                                    view! {
                                        <ActionForm action=actions.relocate>
                                            <input type="hidden" name="id" value=id.to_string() />
                                            <input type="hidden" name="til" value="innboks" />
                                            <button type="submit">{t!(i18n, archive.restore_to_inbox)}</button>
                                        </ActionForm>
                                    }
                                    .into_any()
                                } else {
                                    view! {
                                        <ActionForm action=actions.relocate>
                                            <input type="hidden" name="id" value=id.to_string() />
                                            <input type="hidden" name="til" value="papirkurv" />
                                            <button type="submit" class="secondary">{t!(i18n, archive.move_to_trash)}</button>
                                        </ActionForm>
                                    }
                                    .into_any()
                                }}
                            </div>
                            <ActionForm action=actions.relocate attr:class="move-form">
                                <input type="hidden" name="id" value=id.to_string() />
                                <label for="flytt-til">{t!(i18n, archive.move_to)}</label>
                                <select
                                    id="flytt-til"
                                    name="til"
                                    aria-describedby=move || move_error.get().is_some().then_some("flytt-feil")
                                >
                                    <option value="innboks" selected=place == Place::Inbox>{t!(i18n, inbox.inbox)}</option>
                                    <option value="arkiv" selected=place == Place::Archive>{t!(i18n, inbox.archive)}</option>
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
                                <button type="submit">{t!(i18n, archive.move_letter)}</button>
                                <p><a href="/mapper">{t!(i18n, archive.make_new_folder)}</a></p>
                            </ActionForm>
            {move || move_error.get().map(|error| view! {
                <p id="flytt-feil" class="field-error">{error_text(&error, tu_string!(i18n, archive.the_folder))}</p>
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
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, archive.folders) />
        <p class="breadcrumb"><a href="/innboks">{t!(i18n, common.back_to_inbox)}</a></p>
        <h1>{t!(i18n, archive.folders)}</h1>
        <p class="lead">{t!(i18n, archive.folders_lead)}</p>
        <section aria-labelledby="ny-mappe-tittel">
            <h2 id="ny-mappe-tittel">{t!(i18n, archive.new_folder)}</h2>
            <ActionForm action=create attr:class="settings-form" attr:novalidate=true>
                <div class="field">
                    <label for="ny-mappe">{t!(i18n, archive.folder_name_label)}</label>
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
                        <p id="ny-mappe-feil" class="field-error">{error_text(&error, tu_string!(i18n, archive.the_name))}</p>
                    })}
                </div>
                <button type="submit">{t!(i18n, archive.make_folder)}</button>
            </ActionForm>
        </section>
        <section aria-labelledby="mine-mapper-tittel">
            <h2 id="mine-mapper-tittel">{t!(i18n, archive.your_folders)}</h2>
            {move || rename_error.get().map(|error| view! {
                <p class="field-error" role="alert">{error_text(&error, tu_string!(i18n, archive.the_new_name))}</p>
            })}
            {move || delete_error.get().map(|error| view! {
                <p class="field-error" role="alert">{error_text(&error, tu_string!(i18n, archive.the_folder))}</p>
            })}
            <Transition fallback=move || view! { <p>{t!(i18n, archive.loading_folders)}</p> }>
                {move || Suspend::new(async move {
                    listed(folders.await, tu_string!(i18n, archive.no_folders), "folders", move |folder| {
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
    let i18n = use_i18n();
    let id = folder.id;
    let input_id = format!("navn-{id}");
    let href = format!("/innboks?mappe={id}");
    let rename_label =
        tu_string!(i18n, archive.rename_label, name = folder.name.clone()).to_string();
    let delete_label = format!(" {}", folder.name);
    let name = folder.name.clone();
    let count = tu_string!(i18n, archive.letter_count, count = folder.letter_count).to_string();
    view! {
        <li class="folder">
            <p><a href=href>{folder.name}</a> " (" {count} ")"</p>
            <div class="tool-row">
                <ActionForm action=rename attr:class="rename-form">
                    <input type="hidden" name="id" value=id.to_string() />
                    <label for=input_id.clone()>{rename_label}</label>
                    <input id=input_id name="navn" type="text" required maxlength="60" value=name />
                    <button type="submit" class="secondary">{t!(i18n, archive.rename)}</button>
                </ActionForm>
                <ActionForm action=delete>
                    <input type="hidden" name="id" value=id.to_string() />
                    <button type="submit" class="secondary">
                        {t!(i18n, archive.delete_folder)} <span class="visually-hidden">{delete_label}</span>
                    </button>
                </ActionForm>
            </div>
        </li>
    }
}

/// Why an upload was refused, read after "Filen".
fn upload_problem_text(problem: UploadProblem, locale: Locale) -> &'static str {
    match problem {
        UploadProblem::Missing => td_string!(locale, problems.upload_missing),
        UploadProblem::TooLarge => td_string!(locale, problems.upload_too_large),
        UploadProblem::WrongKind => td_string!(locale, problems.upload_wrong_kind),
        UploadProblem::BadName => td_string!(locale, problems.upload_bad_name),
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
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, archive.my_documents) />
        <p class="breadcrumb"><a href="/innboks">{t!(i18n, common.back_to_inbox)}</a></p>
        <h1>{t!(i18n, archive.my_documents)}</h1>
        <p class="lead">{t!(i18n, archive.my_documents_lead)}</p>
        <section aria-labelledby="last-opp-tittel">
            <h2 id="last-opp-tittel">{t!(i18n, archive.upload_a_document)}</h2>
            {move || saved.get().then(|| view! { <p class="saved-note" role="status">{t!(i18n, archive.uploaded)}</p> })}
            <form
                method="post"
                action="/mine-dokumenter/last-opp"
                enctype="multipart/form-data"
                class="settings-form"
            >
                <div class="field">
                    <label for="fil">{t!(i18n, archive.document_label)}</label>
                    <p id="fil-hint" class="hint">{t!(i18n, archive.upload_hint)}</p>
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
                        <p id="fil-feil" class="field-error">{field_problem(
                            i18n.get_locale_untracked(),
                            tu_string!(i18n, problems.the_file),
                            upload_problem_text(problem, i18n.get_locale_untracked()),
                        )}</p>
                    })}
                </div>
                <button type="submit">{t!(i18n, archive.upload)}</button>
            </form>
        </section>
        <section aria-labelledby="opplastet-tittel">
            <h2 id="opplastet-tittel">{t!(i18n, archive.your_documents)}</h2>
            {move || delete_error.get().map(|error| view! {
                <p class="field-error" role="alert">{error_text(&error, tu_string!(i18n, archive.the_document))}</p>
            })}
            <Transition fallback=move || view! { <p>{t!(i18n, archive.loading_documents)}</p> }>
                {move || Suspend::new(async move {
                    listed(uploads.await, tu_string!(i18n, archive.no_uploads), "documents uploads", move |upload| {
                        view! { <UploadItem upload delete /> }
                    })
                })}
            </Transition>
        </section>
    }
}

#[component]
fn UploadItem(upload: UploadView, delete: ServerAction<DeleteUpload>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let href = upload.href();
    let facts = tu_string!(
        i18n,
        archive.upload_facts,
        size = size_text(locale, upload.size_bytes),
        time = local_time(locale, upload.uploaded_at)
    )
    .to_string();
    view! {
        <li>
            <a href=href rel="external">{upload.name.clone()}</a>
            " "
            <span class="file-facts">
                {facts}
            </span>
            <ActionForm action=delete attr:class="inline-form">
                <input type="hidden" name="id" value=upload.id.to_string() />
                <button type="submit" class="secondary">
                    {t!(i18n, archive.delete)} <span class="visually-hidden">{format!(" {}", upload.name)}</span>
                </button>
            </ActionForm>
        </li>
    }
}
