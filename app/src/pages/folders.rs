//! The citizen's folders ("Mapper", `/mapper`): make, rename and delete
//! them. Deleting a folder sends its letters back to the inbox.

use crate::{
    api::archive::{list_folders, CreateFolder, DeleteFolder, FolderView, RenameFolder},
    components::{
        forms::{error_text, form_error},
        listed::listed,
    },
    i18n::{t, tu_string, use_i18n},
};
use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;

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
