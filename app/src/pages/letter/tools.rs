//! "Ordne brevet" on the letter page: where the letter lies, and the forms
//! that mark it unread, move it to the archive, a folder or the trash, or
//! restore it.

use crate::{
    api::archive::{FolderView, MarkLetter, MoveLetter},
    components::forms::{error_text, form_error},
    domain::{LetterId, Place},
    i18n::{t, tu_string, use_i18n},
    locale::place_name,
};
use leptos::{form::ActionForm, prelude::*};

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
