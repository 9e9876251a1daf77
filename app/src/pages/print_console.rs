//! The print service in the operators' console:
//!
//! - `/drift/utskrift`: letters by state, the queue for the next cut-off,
//!   the batches, and letters per day by channel as a chart and a table;
//! - `/drift/utskrift/bunke/{id}`: a batch, its letters, its download, and
//!   sending it to the print house again;
//! - `/drift/utskrift/brev/{id}`: a letter's timeline, as its sender sees it
//!   in its statuses, and who downloaded it.
//!
//! Downloads are plain links and re-sending is an [`ActionForm`], so every
//! page works without JavaScript.

use crate::{
    api::print_console::{
        batch_download_path, batch_path, letter_download_path, letter_path, load_print_batch,
        load_print_letter, load_print_overview, BatchDetail, BatchView, ChartWords, LetterTimeline,
        PrintOverview, ResendPrintBatch,
    },
    components::{error_notice::ErrorNotice, operator_sign_in::OperatorSignInPrompt},
    error::AppError,
    i18n::{t, td_string, tu_string, use_i18n, Locale},
    locale::local_time,
};
use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// A state in words.
fn state_name(locale: Locale, state: &str) -> String {
    match state {
        "waiting" => td_string!(locale, print_console.state_waiting),
        "batched" => td_string!(locale, print_console.state_batched),
        "accepted" => td_string!(locale, print_console.state_accepted),
        "posted" => td_string!(locale, print_console.state_posted),
        "failed" => td_string!(locale, print_console.state_failed),
        "returned" => td_string!(locale, print_console.state_returned),
        other => return other.to_owned(),
    }
    .to_owned()
}

/// Post class and colour in words, e.g. "B-post, svart-hvitt".
fn handling(locale: Locale, post_class: &str, colour: &str) -> String {
    let colour = match colour {
        "FARGE" => td_string!(locale, print_console.colour),
        _ => td_string!(locale, print_console.black_and_white),
    };
    format!("{post_class}-post, {colour}")
}

/// The first eight characters of an id, enough to tell batches apart on a page.
fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// An operator page's content: the view when loaded, the operator sign-in
/// when there is no operator session, the error otherwise.
fn operator_page<T>(
    loaded: Result<T, AppError>,
    title: String,
    view: impl FnOnce(T) -> AnyView,
) -> AnyView {
    match loaded {
        Ok(value) => view(value),
        Err(AppError::Unauthorized) => view! { <OperatorSignInPrompt title /> }.into_any(),
        Err(error) => view! { <ErrorNotice error /> }.into_any(),
    }
}

#[component]
pub fn PrintConsolePage() -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let words = ChartWords {
        digital: td_string!(locale, print_console.channel_digital).to_owned(),
        provider: td_string!(locale, print_console.channel_provider).to_owned(),
        print: td_string!(locale, print_console.channel_print).to_owned(),
        letters: td_string!(locale, print_console.letters).to_owned(),
    };
    let overview = Resource::new(move || (), move |_| load_print_overview(words.clone()));
    view! {
        <Title text=tu_string!(i18n, print_console.title) />
        <Suspense fallback=move || view! { <p>{t!(i18n, print_console.loading)}</p> }>
            {move || Suspend::new(async move {
                let title = tu_string!(i18n, print_console.title).to_owned();
                operator_page(overview.await, title, |overview| view! { <Overview overview /> }.into_any())
            })}
        </Suspense>
    }
}

#[component]
fn Overview(overview: PrintOverview) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let PrintOverview {
        states,
        queue,
        batches,
        c5_letters,
        c4_letters,
        days,
        chart_svg,
    } = overview;
    let queue_limit = PrintOverview::QUEUE_LIMIT;
    view! {
        <h1>{t!(i18n, print_console.title)}</h1>
        <p class="lead">{t!(i18n, print_console.lead)}</p>
        <section aria-labelledby="utskrift-status">
            <h2 id="utskrift-status">{t!(i18n, print_console.by_state)}</h2>
            {if states.is_empty() {
                view! { <p>{t!(i18n, print_console.nothing_yet)}</p> }.into_any()
            } else {
                view! {
                    <dl class="letter-facts">
                        {states.into_iter().map(|count| view! {
                            <dt>{state_name(locale, &count.state)}</dt>
                            <dd>{count.letters}</dd>
                        }).collect_view()}
                        <dt>{t!(i18n, print_console.in_c5)}</dt>
                        <dd>{c5_letters}</dd>
                        <dt>{t!(i18n, print_console.in_c4)}</dt>
                        <dd>{c4_letters}</dd>
                    </dl>
                }
                .into_any()
            }}
        </section>
        <section aria-labelledby="utskrift-ko">
            <h2 id="utskrift-ko">{t!(i18n, print_console.queue)}</h2>
            {if queue.is_empty() {
                view! { <p>{t!(i18n, print_console.queue_empty)}</p> }.into_any()
            } else {
                let shown = queue.len();
                view! {
                    <table>
                        <caption>{tu_string!(i18n, print_console.queue_caption, shown, limit = queue_limit).to_string()}</caption>
                        <thead>
                            <tr>
                                <th scope="col">{t!(i18n, print_console.letter)}</th>
                                <th scope="col">{t!(i18n, print_console.received)}</th>
                                <th scope="col">{t!(i18n, print_console.agency)}</th>
                                <th scope="col">{t!(i18n, print_console.handling)}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {queue.into_iter().map(|letter| view! {
                                <tr>
                                    <td><a href=letter_path(&letter.id)><code>{short(&letter.id).to_owned()}</code></a></td>
                                    <td>{local_time(locale, letter.received_at)}</td>
                                    <td>{letter.agency}</td>
                                    <td>{handling(locale, &letter.post_class, &letter.colour)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
                .into_any()
            }}
        </section>
        <section aria-labelledby="utskrift-bunker">
            <h2 id="utskrift-bunker">{t!(i18n, print_console.batches)}</h2>
            {if batches.is_empty() {
                view! { <p>{t!(i18n, print_console.no_batches)}</p> }.into_any()
            } else {
                view! { <BatchTable batches /> }.into_any()
            }}
        </section>
        <section aria-labelledby="utskrift-dager">
            <h2 id="utskrift-dager">{t!(i18n, print_console.per_day)}</h2>
            <figure class="chart">
                <div role="img" aria-labelledby="utskrift-diagram" inner_html=chart_svg></div>
                <figcaption id="utskrift-diagram">{t!(i18n, print_console.chart_caption)}</figcaption>
            </figure>
            <table class="per-day">
                <caption>{t!(i18n, print_console.per_day_table)}</caption>
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, print_console.day)}</th>
                        <th scope="col">{t!(i18n, print_console.channel_digital)}</th>
                        <th scope="col">{t!(i18n, print_console.channel_provider)}</th>
                        <th scope="col">{t!(i18n, print_console.channel_print)}</th>
                    </tr>
                </thead>
                <tbody>
                    {days.into_iter().map(|day| view! {
                        <tr>
                            <th scope="row">{day.day}</th>
                            <td>{day.digital}</td>
                            <td>{day.provider}</td>
                            <td>{day.print}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn BatchTable(batches: Vec<BatchView>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    view! {
        <table>
            <thead>
                <tr>
                    <th scope="col">{t!(i18n, print_console.batch)}</th>
                    <th scope="col">{t!(i18n, print_console.cut_off)}</th>
                    <th scope="col">{t!(i18n, print_console.handling)}</th>
                    <th scope="col">{t!(i18n, print_console.envelope)}</th>
                    <th scope="col">{t!(i18n, print_console.letters)}</th>
                    <th scope="col">{t!(i18n, print_console.pages)}</th>
                    <th scope="col">{t!(i18n, print_console.sheets)}</th>
                    <th scope="col">{t!(i18n, print_console.handed_over)}</th>
                </tr>
            </thead>
            <tbody>
                {batches.into_iter().map(|batch| {
                    let handed_over = delivery(locale, &batch);
                    view! {
                        <tr>
                            <td><a href=batch_path(&batch.id)><code>{short(&batch.id).to_owned()}</code></a></td>
                            <td>{local_time(locale, batch.cut_off)}</td>
                            <td>{handling(locale, &batch.post_class, &batch.colour)}</td>
                            <td>{batch.envelope}</td>
                            <td>{batch.letters}</td>
                            <td>{batch.pages}</td>
                            <td>{batch.sheets}</td>
                            <td>{handed_over}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Whether the print house has the batch, or how handing it over goes.
fn delivery(locale: Locale, batch: &BatchView) -> String {
    match (&batch.delivered_at, &batch.last_error) {
        (Some(at), _) => local_time(locale, *at),
        (None, Some(error)) => td_string!(
            locale,
            print_console.not_taken,
            attempts = batch.attempts,
            error = error
        )
        .to_string(),
        (None, None) => td_string!(locale, print_console.not_yet).to_owned(),
    }
}

#[component]
pub fn PrintBatchPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|params| params.get("id").unwrap_or_default()));
    let resend = ServerAction::<ResendPrintBatch>::new();
    let detail = Resource::new(
        move || (id.get(), resend.version().get()),
        |(id, _)| load_print_batch(id),
    );
    view! {
        <Title text=tu_string!(i18n, print_console.batch_title) />
        <Suspense fallback=move || view! { <p>{t!(i18n, print_console.loading)}</p> }>
            {move || Suspend::new(async move {
                let title = tu_string!(i18n, print_console.batch_title).to_owned();
                operator_page(detail.await, title, |detail| view! { <Batch detail resend /> }.into_any())
            })}
        </Suspense>
    }
}

#[component]
fn Batch(detail: BatchDetail, resend: ServerAction<ResendPrintBatch>) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let BatchDetail { batch, letters } = detail;
    let handed_over = delivery(locale, &batch);
    let id = batch.id.clone();
    view! {
        <h1>{t!(i18n, print_console.batch_title)}" "<code>{short(&batch.id).to_owned()}</code></h1>
        <p><a href=crate::api::print_console::PRINT_PATH>{t!(i18n, print_console.back)}</a></p>
        <dl class="letter-facts">
            <dt>{t!(i18n, print_console.batch)}</dt>
            <dd><code>{batch.id.clone()}</code></dd>
            <dt>{t!(i18n, print_console.cut_off)}</dt>
            <dd>{local_time(locale, batch.cut_off)}</dd>
            <dt>{t!(i18n, print_console.handling)}</dt>
            <dd>{handling(locale, &batch.post_class, &batch.colour)}</dd>
            <dt>{t!(i18n, print_console.envelope)}</dt>
            <dd>{batch.envelope.clone()}</dd>
            <dt>{t!(i18n, print_console.letters)}</dt>
            <dd>{batch.letters}</dd>
            <dt>{t!(i18n, print_console.pages)}</dt>
            <dd>{batch.pages}</dd>
            <dt>{t!(i18n, print_console.sheets)}</dt>
            <dd>{batch.sheets}</dd>
            <dt>{t!(i18n, print_console.handed_over)}</dt>
            <dd>{handed_over}</dd>
        </dl>
        <p>
            <a class="button" href=batch_download_path(&batch.id) download="" rel="external">
                {t!(i18n, print_console.download_batch)}
            </a>
        </p>
        <ActionForm action=resend>
            <input type="hidden" name="id" value=id />
            <p class="hint" id="send-igjen-hjelp">{t!(i18n, print_console.resend_help)}</p>
            <button type="submit" aria-describedby="send-igjen-hjelp">{t!(i18n, print_console.resend)}</button>
        </ActionForm>
        {move || resend.value().get().map(|done| match done {
            Ok(()) => view! { <p role="status">{t!(i18n, print_console.resent)}</p> }.into_any(),
            Err(error) => view! { <ErrorNotice error /> }.into_any(),
        })}
        <table>
            <caption>{t!(i18n, print_console.letters_in_batch)}</caption>
            <thead>
                <tr>
                    <th scope="col">{t!(i18n, print_console.letter)}</th>
                    <th scope="col">{t!(i18n, print_console.recipient)}</th>
                    <th scope="col">{t!(i18n, print_console.state)}</th>
                    <th scope="col">{t!(i18n, print_console.pages)}</th>
                    <th scope="col">{t!(i18n, print_console.sheets)}</th>
                </tr>
            </thead>
            <tbody>
                {letters.into_iter().map(|letter| view! {
                    <tr>
                        <td><a href=letter_path(&letter.id)><code>{short(&letter.id).to_owned()}</code></a></td>
                        <td>{letter.recipient}</td>
                        <td>{state_name(locale, &letter.state)}</td>
                        <td>{letter.pages}</td>
                        <td>{letter.sheets}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
pub fn PrintLetterPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|params| params.get("id").unwrap_or_default()));
    let timeline = Resource::new(move || id.get(), load_print_letter);
    view! {
        <Title text=tu_string!(i18n, print_console.letter_title) />
        <Suspense fallback=move || view! { <p>{t!(i18n, print_console.loading)}</p> }>
            {move || Suspend::new(async move {
                let title = tu_string!(i18n, print_console.letter_title).to_owned();
                operator_page(timeline.await, title, |timeline| view! { <Timeline timeline /> }.into_any())
            })}
        </Suspense>
    }
}

#[component]
fn Timeline(timeline: LetterTimeline) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let printable = timeline.pages.is_some();
    view! {
        <h1>{t!(i18n, print_console.letter_title)}" "<code>{short(&timeline.id).to_owned()}</code></h1>
        <p><a href=crate::api::print_console::PRINT_PATH>{t!(i18n, print_console.back)}</a></p>
        <dl class="letter-facts">
            <dt>{t!(i18n, print_console.letter)}</dt>
            <dd><code>{timeline.id.clone()}</code></dd>
            <dt>{t!(i18n, print_console.agency)}</dt>
            <dd>{timeline.agency.clone()}</dd>
            <dt>{t!(i18n, print_console.state)}</dt>
            <dd>{state_name(locale, &timeline.state)}</dd>
            {timeline.batch.clone().map(|batch| view! {
                <dt>{t!(i18n, print_console.batch)}</dt>
                <dd><a href=batch_path(&batch)><code>{short(&batch).to_owned()}</code></a></dd>
            })}
            {timeline.pages.map(|pages| view! {
                <dt>{t!(i18n, print_console.pages)}</dt>
                <dd>{pages}</dd>
            })}
            {timeline.sheets.map(|sheets| view! {
                <dt>{t!(i18n, print_console.sheets)}</dt>
                <dd>{sheets}</dd>
            })}
        </dl>
        {printable.then(|| view! {
            <p>
                <a class="button" href=letter_download_path(&timeline.id) download="" rel="external">
                    {t!(i18n, print_console.download_letter)}
                </a>
            </p>
        })}
        <table>
            <caption>{t!(i18n, print_console.timeline)}</caption>
            <thead>
                <tr>
                    <th scope="col">{t!(i18n, common.time)}</th>
                    <th scope="col">{t!(i18n, print_console.status)}</th>
                    <th scope="col">{t!(i18n, print_console.description)}</th>
                </tr>
            </thead>
            <tbody>
                {timeline.steps.into_iter().map(|step| view! {
                    <tr>
                        <td>{local_time(locale, step.at)}</td>
                        <td>{step.status}</td>
                        <td>{step.description}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        <h2>{t!(i18n, print_console.downloads)}</h2>
        {if timeline.downloads.is_empty() {
            view! { <p>{t!(i18n, print_console.no_downloads)}</p> }.into_any()
        } else {
            view! {
                <ul>
                    {timeline.downloads.into_iter().map(|(at, what)| {
                        let what = match what.as_str() {
                            "batch" => td_string!(locale, print_console.downloaded_batch),
                            _ => td_string!(locale, print_console.downloaded_letter),
                        };
                        view! { <li>{local_time(locale, at)}": "{what}</li> }
                    }).collect_view()}
                </ul>
            }
            .into_any()
        }}
    }
}
