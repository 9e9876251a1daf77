//! What a letter asks of the citizen: the sender's link out, and the reply
//! form with its draft, review and sent answer.
//!
//! The form is a plain multipart form posted to `/brev/{id}/svar`, the same
//! with and without JavaScript; the server sends the browser back with
//! `?utkast=<draft>`. A draft with problems fills the form in again, each
//! problem beside its question and listed at the top; a draft without is
//! shown for review, and sent with a server-function form.

use crate::{
    api::replies::{
        load_reply_area, AnswerProblem, MessageProblem, ReplyArea, ReplyView, SendReply,
        ThreadEntry, MESSAGE_MAX_CHARS,
    },
    components::forms::{error_text, form_error},
    domain::{
        reply_form::{Question, QuestionKind, NO, YES},
        LetterId, LetterLink,
    },
    i18n::{t, td_string, tu_string, use_i18n, Locale},
    locale::local_time,
};
use chrono::{DateTime, Utc};
use leptos::{form::ActionForm, prelude::*};
use leptos_router::hooks::use_query_map;

/// The sender's link to their own service; after its deadline, a note.
#[component]
pub fn LinkOut(link: LetterLink, open: bool) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let description = link
        .description
        .clone()
        .unwrap_or_else(|| td_string!(locale, reply.link_default_description).to_owned());
    let button = link
        .button_text
        .clone()
        .unwrap_or_else(|| td_string!(locale, reply.link_default_button).to_owned());
    let deadline = link.deadline.map(|at| local_time(locale, at));
    view! {
        <section class="link-out" aria-labelledby="lenke-tittel">
            <h2 id="lenke-tittel">{description}</h2>
            {if open {
                view! {
                    <p>
                        <a class="button" href=link.url rel="external noopener noreferrer">{button}</a>
                    </p>
                    {deadline.map(|time| view! { <p class="hint">{tu_string!(i18n, reply.link_deadline, time)}</p> })}
                }
                .into_any()
            } else {
                view! {
                    <p class="closed-note">
                        {tu_string!(i18n, reply.link_closed, time = deadline.unwrap_or_default())}
                    </p>
                }
                .into_any()
            }}
        </section>
    }
}

/// The reply form of the letter, if it has one.
#[component]
pub fn ReplySection(letter: LetterId, sender: String) -> impl IntoView {
    let query = use_query_map();
    let send = ServerAction::<SendReply>::new();
    let area = Resource::new(
        move || {
            (
                query.with(|query| query.get("utkast")),
                send.version().get(),
            )
        },
        move |(draft, _)| load_reply_area(letter.to_string(), draft),
    );
    let editing = Memo::new(move |_| query.with(|query| query.get("endre").is_some()));
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let sender = sender.clone();
                Suspend::new(async move {
                    area.await
                        .ok()
                        .flatten()
                        .map(|area| view! { <ReplyForm area sender send editing=editing.get() /> })
                })
            }}
        </Suspense>
    }
}

#[component]
fn ReplyForm(
    area: ReplyArea,
    sender: String,
    send: ServerAction<SendReply>,
    editing: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let ReplyArea {
        letter,
        form,
        open,
        sent,
        draft,
        thread,
        message_key,
    } = area;
    let conversation = form.free_text.then(|| {
        view! { <Conversation letter thread message_key sender=sender.clone() /> }
    });
    let deadline = local_time(locale, form.deadline);
    let step = match (sent, draft) {
        (Some(sent), _) => {
            view! { <SentReply questions=form.questions.clone() reply=sent /> }.into_any()
        }
        (None, _) if !open => view! {
            <p class="closed-note">{tu_string!(i18n, reply.closed, time = deadline.clone())}</p>
        }
        .into_any(),
        (None, Some(draft)) if draft.is_valid() && !editing => view! {
            <Review letter questions=form.questions.clone() draft sender send />
        }
        .into_any(),
        (None, draft) => {
            view! { <Questions letter questions=form.questions.clone() draft /> }.into_any()
        }
    };
    view! {
        <section id="svar" class="reply" aria-labelledby="svar-tittel">
            <h2 id="svar-tittel">{form.title.clone()}</h2>
            <p class="deadline">
                <strong>{tu_string!(i18n, reply.answer_by, time = deadline.clone())}</strong>
            </p>
            {form.intro.clone().map(|intro| view! { <p>{intro}</p> })}
            {step}
        </section>
        {conversation}
    }
}

/// The letter's conversation with its sender, and the form to write to them.
#[component]
fn Conversation(
    letter: LetterId,
    thread: Vec<ThreadEntry>,
    message_key: uuid::Uuid,
    sender: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let query = use_query_map();
    // Only a known code from the address is shown, never its text.
    let problem = query.with_untracked(|query| {
        query
            .get("meldingfeil")
            .and_then(|code| MessageProblem::from_code(&code))
    });
    let sent = query.with_untracked(|query| query.get("melding").is_some());
    let text_problem = problem.and_then(|problem| match problem {
        MessageProblem::Empty => Some(td_string!(locale, reply.message_empty).to_owned()),
        MessageProblem::TooLong => {
            Some(td_string!(locale, reply.message_too_long, max = MESSAGE_MAX_CHARS).to_string())
        }
        _ => None,
    });
    let file_problem = problem.and_then(|problem| match problem {
        MessageProblem::FileWrongKind => {
            Some(td_string!(locale, reply.answer_file_wrong_kind).to_owned())
        }
        MessageProblem::FileTooLarge => {
            Some(td_string!(locale, reply.answer_file_too_large).to_owned())
        }
        _ => None,
    });
    let entries = thread
        .into_iter()
        .map(|entry| match entry {
            ThreadEntry::Letter { id, title, at, current } => view! {
                <li>
                    <time datetime=at.to_rfc3339()>{local_time(locale, at)}</time>
                    " "
                    {t!(i18n, reply.thread_letter)}
                    " "
                    <a href=format!("/brev/{id}")>{title}</a>
                    {current.then(|| view! { " " {t!(i18n, reply.this_letter)} })}
                </li>
            }
            .into_any(),
            ThreadEntry::Reply { at } => view! {
                <li>
                    <time datetime=at.to_rfc3339()>{local_time(locale, at)}</time>
                    " "
                    {t!(i18n, reply.thread_reply)}
                </li>
            }
            .into_any(),
            ThreadEntry::Message { text, file_name, at } => view! {
                <li>
                    <time datetime=at.to_rfc3339()>{local_time(locale, at)}</time>
                    " "
                    {t!(i18n, reply.thread_message)}
                    <p class="message-text">{text}</p>
                    {file_name.map(|name| view! { <p class="file-facts">{tu_string!(i18n, reply.thread_file, name)}</p> })}
                </li>
            }
            .into_any(),
        })
        .collect_view();
    let text_described = if text_problem.is_some() {
        "melding-hint melding-feil"
    } else {
        "melding-hint"
    };
    view! {
        <section id="samtale" class="reply conversation" aria-labelledby="samtale-tittel">
            <h2 id="samtale-tittel">{t!(i18n, reply.conversation_heading)}</h2>
            <ol class="thread">{entries}</ol>
            {sent.then(|| view! { <p class="saved-note" role="status">{t!(i18n, reply.message_sent)}</p> })}
            <form
                method="post"
                action=format!("/brev/{letter}/melding")
                enctype="multipart/form-data"
                class="reply-form"
                novalidate
            >
                <input type="hidden" name="nokkel" value=message_key.to_string() />
                <div class="field">
                    <label for="melding-tekst">{tu_string!(i18n, reply.write_label, sender)}</label>
                    <p id="melding-hint" class="hint">{t!(i18n, reply.write_hint)}</p>
                    {text_problem.clone().map(|problem| view! { <p id="melding-feil" class="field-error">{problem}</p> })}
                    <textarea
                        id="melding-tekst"
                        name="tekst"
                        rows="5"
                        aria-describedby=text_described
                        aria-invalid=text_problem.is_some().then_some("true")
                    ></textarea>
                </div>
                <div class="field">
                    <label for="melding-vedlegg">{t!(i18n, reply.file_label)}</label>
                    {file_problem.clone().map(|problem| view! { <p id="vedlegg-feil" class="field-error">{problem}</p> })}
                    <input
                        id="melding-vedlegg"
                        name="vedlegg"
                        type="file"
                        accept="application/pdf,image/png,image/jpeg"
                        aria-describedby=file_problem.is_some().then_some("vedlegg-feil")
                        aria-invalid=file_problem.is_some().then_some("true")
                    />
                </div>
                <button type="submit">{t!(i18n, reply.send_message)}</button>
            </form>
        </section>
    }
}

fn problem_text(locale: Locale, problem: AnswerProblem) -> String {
    match problem {
        AnswerProblem::Missing => td_string!(locale, reply.answer_missing).to_owned(),
        AnswerProblem::NotAChoice => td_string!(locale, reply.answer_not_a_choice).to_owned(),
        AnswerProblem::TooLong { max } => {
            td_string!(locale, reply.answer_too_long, max).to_string()
        }
        AnswerProblem::NotANumber => td_string!(locale, reply.answer_not_a_number).to_owned(),
        AnswerProblem::BelowMin { min } => {
            td_string!(locale, reply.answer_below_min, min).to_string()
        }
        AnswerProblem::AboveMax { max } => {
            td_string!(locale, reply.answer_above_max, max).to_string()
        }
        AnswerProblem::NotADate => td_string!(locale, reply.answer_not_a_date).to_owned(),
        AnswerProblem::FileWrongKind => td_string!(locale, reply.answer_file_wrong_kind).to_owned(),
        AnswerProblem::FileTooLarge => td_string!(locale, reply.answer_file_too_large).to_owned(),
    }
}

/// A control's id: `svar-<question id>` (question ids are a-z, 0-9, _ and -).
fn control_id(question: &Question) -> String {
    format!("svar-{}", question.id)
}

/// The form itself, filled in from the draft when there is one.
#[component]
fn Questions(
    letter: LetterId,
    questions: Vec<Question>,
    draft: Option<ReplyView>,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let problems = draft
        .as_ref()
        .map(|draft| draft.problems.clone())
        .unwrap_or_default();
    let summary = (!problems.is_empty()).then(|| {
        let items = questions
            .iter()
            .filter_map(|question| {
                let problem = problems.get(&question.id)?;
                Some(view! {
                    <li>
                        <a href=format!("#{}", control_id(question))>
                            {format!("{}: {}", question.text, problem_text(locale, *problem))}
                        </a>
                    </li>
                })
            })
            .collect_view();
        view! {
            <div class="error-summary" role="alert" tabindex="-1">
                <h3>{t!(i18n, reply.problems_heading)}</h3>
                <ul>{items}</ul>
            </div>
        }
    });
    let fields = questions
        .into_iter()
        .map(|question| {
            let values = draft
                .as_ref()
                .and_then(|draft| draft.values.get(&question.id).cloned())
                .unwrap_or_default();
            let kept_file = draft
                .as_ref()
                .and_then(|draft| draft.files.get(&question.id))
                .map(|file| file.file_name.clone());
            let problem = problems
                .get(&question.id)
                .map(|problem| problem_text(locale, *problem));
            view! { <QuestionField question values kept_file problem /> }
        })
        .collect_view();
    view! {
        {summary}
        <form
            method="post"
            action=format!("/brev/{letter}/svar")
            enctype="multipart/form-data"
            class="reply-form"
            novalidate
        >
            {draft.map(|draft| view! { <input type="hidden" name="utkast" value=draft.id.to_string() /> })}
            {fields}
            <button type="submit">{t!(i18n, reply.check_answers)}</button>
        </form>
    }
}

/// One question: a fieldset for choices, a label for the others; its help
/// and its problem are tied to the control with `aria-describedby`.
#[component]
fn QuestionField(
    question: Question,
    values: Vec<String>,
    kept_file: Option<String>,
    problem: Option<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let id = control_id(&question);
    let name = format!("q.{}", question.id);
    let help_id = format!("{id}-hjelp");
    let error_id = format!("{id}-feil");
    let hint = match &question.kind {
        QuestionKind::Date => Some(td_string!(locale, reply.date_hint).to_owned()),
        QuestionKind::Number {
            min: Some(min),
            max: Some(max),
        } => Some(td_string!(locale, reply.number_range, min = *min, max = *max).to_string()),
        QuestionKind::Number { .. } => Some(td_string!(locale, reply.number_hint).to_owned()),
        QuestionKind::Attachment => Some(td_string!(locale, reply.attachment_hint).to_owned()),
        _ => None,
    };
    let help: Vec<String> = question.help.iter().cloned().chain(hint).collect();
    let described_by = {
        let mut ids = Vec::new();
        if !help.is_empty() {
            ids.push(help_id.clone());
        }
        if problem.is_some() {
            ids.push(error_id.clone());
        }
        (!ids.is_empty()).then(|| ids.join(" "))
    };
    let invalid = problem.is_some().then_some("true");
    let marker = if question.required {
        td_string!(locale, reply.required)
    } else {
        td_string!(locale, reply.optional)
    };
    let help_view = (!help.is_empty())
        .then(|| view! { <p id=help_id.clone() class="hint">{help.join(" ")}</p> });
    let error_view =
        problem.map(|problem| view! { <p id=error_id.clone() class="field-error">{problem}</p> });
    let first = values.first().cloned().unwrap_or_default();
    let choices: Option<(Vec<(String, String)>, &'static str)> = match &question.kind {
        QuestionKind::YesNo => Some((
            vec![
                (YES.to_owned(), td_string!(locale, reply.yes).to_owned()),
                (NO.to_owned(), td_string!(locale, reply.no).to_owned()),
            ],
            "radio",
        )),
        QuestionKind::OneChoice(choices) => Some((
            choices
                .iter()
                .map(|choice| (choice.value.clone(), choice.text.clone()))
                .collect(),
            "radio",
        )),
        QuestionKind::SeveralChoices(choices) => Some((
            choices
                .iter()
                .map(|choice| (choice.value.clone(), choice.text.clone()))
                .collect(),
            "checkbox",
        )),
        _ => None,
    };
    if let Some((choices, kind)) = choices {
        let options = choices
            .into_iter()
            .enumerate()
            .map(|(index, (value, text))| {
                // The first option carries the question's id, so the error
                // summary's link lands in the group.
                let option_id = if index == 0 { id.clone() } else { format!("{id}-{index}") };
                let checked = values.contains(&value);
                view! {
                    <div class="choice">
                        <input type=kind id=option_id.clone() name=name.clone() value=value checked=checked />
                        <label for=option_id>{text}</label>
                    </div>
                }
            })
            .collect_view();
        return view! {
            <fieldset class="field question" aria-describedby=described_by aria-invalid=invalid>
                <legend>{question.text} " " <span class="marker">{marker}</span></legend>
                {help_view}
                {error_view}
                {options}
            </fieldset>
        }
        .into_any();
    }
    let control = match &question.kind {
        QuestionKind::LongText => view! {
            <textarea id=id.clone() name=name rows="6" aria-describedby=described_by aria-invalid=invalid>{first}</textarea>
        }
        .into_any(),
        QuestionKind::Attachment => view! {
            <input
                id=id.clone()
                name=name
                type="file"
                accept="application/pdf,image/png,image/jpeg"
                aria-describedby=described_by
                aria-invalid=invalid
            />
            {kept_file.map(|file| view! { <p class="hint">{tu_string!(i18n, reply.kept_file, name = file)}</p> })}
        }
        .into_any(),
        kind => {
            let (input_type, mode) = match kind {
                QuestionKind::Date => ("date", None),
                QuestionKind::Number { .. } => ("text", Some("numeric")),
                _ => ("text", None),
            };
            view! {
                <input
                    id=id.clone()
                    name=name
                    type=input_type
                    inputmode=mode
                    value=first
                    aria-describedby=described_by
                    aria-invalid=invalid
                />
            }
            .into_any()
        }
    };
    view! {
        <div class="field question">
            <label for=id>{question.text} " " <span class="marker">{marker}</span></label>
            {help_view}
            {error_view}
            {control}
        </div>
    }
    .into_any()
}

/// The answers on the citizen's path, as a definition list.
fn answer_list(locale: Locale, questions: &[Question], reply: &ReplyView) -> impl IntoView {
    reply
        .path
        .iter()
        .filter_map(|id| questions.iter().find(|question| &question.id == id))
        .map(|question| {
            let shown = match (reply.values.get(&question.id), &question.kind) {
                (None, _) => td_string!(locale, reply.no_answer).to_owned(),
                (Some(values), QuestionKind::YesNo) => values
                    .iter()
                    .map(|value| {
                        if value == YES {
                            td_string!(locale, reply.yes)
                        } else {
                            td_string!(locale, reply.no)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                (
                    Some(values),
                    QuestionKind::OneChoice(choices) | QuestionKind::SeveralChoices(choices),
                ) => values
                    .iter()
                    .map(|value| {
                        choices
                            .iter()
                            .find(|choice| &choice.value == value)
                            .map_or(value.as_str(), |choice| choice.text.as_str())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                (Some(values), _) => values.join(", "),
            };
            view! {
                <dt>{question.text.clone()}</dt>
                <dd class="answer">{shown}</dd>
            }
        })
        .collect_view()
}

#[component]
fn Review(
    letter: LetterId,
    questions: Vec<Question>,
    draft: ReplyView,
    sender: String,
    send: ServerAction<SendReply>,
) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let refusal = form_error(send);
    let change = format!("/brev/{letter}?utkast={}&endre=1#svar", draft.id);
    view! {
        <h3>{t!(i18n, reply.review_heading)}</h3>
        <p>{tu_string!(i18n, reply.review_lead, sender)}</p>
        <dl class="answers">{answer_list(locale, &questions, &draft)}</dl>
        {move || refusal.get().map(|error| view! {
            <p class="field-error" role="alert">{error_text(&error, td_string!(locale, reply.heading))}</p>
        })}
        <ActionForm action=send>
            <input type="hidden" name="id" value=letter.to_string() />
            <input type="hidden" name="utkast" value=draft.id.to_string() />
            <button type="submit">{t!(i18n, reply.send)}</button>
        </ActionForm>
        <p><a href=change>{t!(i18n, reply.change)}</a></p>
    }
}

#[component]
fn SentReply(questions: Vec<Question>, reply: ReplyView) -> impl IntoView {
    let i18n = use_i18n();
    let locale = i18n.get_locale_untracked();
    let sent_at: Option<DateTime<Utc>> = reply.sent_at;
    view! {
        <h3>{t!(i18n, reply.sent_heading)}</h3>
        <p class="saved-note" role="status">
            {sent_at.map(|at| tu_string!(i18n, reply.sent_at, time = local_time(locale, at)).to_string())}
        </p>
        <dl class="answers">{answer_list(locale, &questions, &reply)}</dl>
        {reply.receipt_href.clone().map(|href| view! {
            <p><a href=href rel="external">{t!(i18n, reply.receipt)}</a></p>
        })}
    }
}
