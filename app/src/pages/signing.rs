//! Signing outside a letter: the citizen's list of orders to sign
//! (`/signering`), theirs as a letter's recipient and those where they sign
//! after someone else, and the page where such a later signer reads and
//! signs the document (`/signering/<letter id>`). A later signer sees only
//! the document to sign, never the letter it came with, and only once
//! everyone before them has signed.

use crate::{
    api::signing::{load_signing_task, load_signing_tasks, SigningState, SigningTask},
    components::{
        error_notice::ErrorNotice,
        signing::{Signatures, SigningOrderView},
    },
    domain::LetterId,
    error::AppError,
    i18n::{t, tu_string, use_i18n},
    locale::local_time,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn SigningTasksPage() -> impl IntoView {
    let tasks = Resource::new(|| (), |_| load_signing_tasks());
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, signing.tasks_title) />
        <p class="breadcrumb"><a href="/innboks">{t!(i18n, common.back_to_inbox)}</a></p>
        <Suspense fallback=move || view! { <p>{t!(i18n, letter.loading)}</p> }>
            {move || Suspend::new(async move {
                match tasks.await {
                    Ok(tasks) => view! {
                        <h1>{t!(i18n, signing.tasks_title)}</h1>
                        <p class="lead">{t!(i18n, signing.tasks_lead)}</p>
                        {if tasks.is_empty() {
                            view! { <p>{t!(i18n, signing.tasks_none)}</p> }.into_any()
                        } else {
                            view! { <TaskList tasks /> }.into_any()
                        }}
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TaskList(tasks: Vec<SigningTask>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <ul class="signing-tasks">
            {tasks
                .into_iter()
                .map(|task| {
                    let state = match task.state {
                        SigningState::Open | SigningState::NeedsStepUp => {
                            tu_string!(i18n, signing.task_open).to_owned()
                        }
                        SigningState::Signed { at, .. } => {
                            tu_string!(i18n, signing.signed_at, time = local_time(locale, at))
                        }
                        SigningState::Declined { at } => {
                            tu_string!(i18n, signing.declined_at, time = local_time(locale, at))
                        }
                        SigningState::Expired => tu_string!(
                            i18n,
                            signing.expired,
                            time = local_time(locale, task.deadline)
                        ),
                        SigningState::Cancelled { .. } => {
                            tu_string!(i18n, signing.task_cancelled).to_owned()
                        }
                    };
                    view! {
                        <li class="signing-task">
                            <a href=task.href>{task.title}</a>
                            <p>
                                {task.sender_name} " · "
                                {tu_string!(i18n, signing.task_deadline, time = local_time(locale, task.deadline))}
                                {(task.signers > 1).then(|| view! {
                                    " · "
                                    {tu_string!(i18n, signing.task_turn, turn = task.turn.to_string(), count = task.signers.to_string())}
                                })}
                            </p>
                            <p class="task-state">{state}</p>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
pub fn SigningTaskPage() -> impl IntoView {
    let params = use_params_map();
    let letter_id = move || {
        params
            .read()
            .get("id")
            .and_then(|id| id.parse::<LetterId>().ok())
    };
    let area = Resource::new(letter_id, |id| async move {
        match id {
            Some(id) => load_signing_task(id.to_string()).await,
            None => Err(AppError::NotFound),
        }
    });
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, signing.tasks_title) />
        <p class="breadcrumb"><a href="/signering">{t!(i18n, signing.back_to_tasks)}</a></p>
        <Suspense fallback=move || view! { <p>{t!(i18n, letter.loading)}</p> }>
            {move || Suspend::new(async move {
                match area.await {
                    Ok(area) => match area.order {
                        Some(order) => view! {
                            <Title text=order.title.clone() />
                            <h1>{order.title.clone()}</h1>
                            <p class="lead">
                                {tu_string!(i18n, signing.task_lead, sender = order.sender_name.clone())}
                            </p>
                            <SigningOrderView order />
                            {(!area.signatures.is_empty())
                                .then(|| view! { <Signatures signatures=area.signatures /> })}
                        }
                        .into_any(),
                        None => view! { <ErrorNotice error=AppError::NotFound /> }.into_any(),
                    },
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
