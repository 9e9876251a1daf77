//! The operators' pages: signing in with the code `postkasse operator
//! login-link` prints, and the development sink's notices.
//!
//! Both forms are plain posts to server routes (`/drift/logg-inn`,
//! `/drift/logg-ut`), so they work without JavaScript; a refused code sends
//! the browser back here with `?feil=kode`.

use crate::{
    api::operator::{
        sink_notices, ChannelRoute, SinkNoticeView, SinkPage, SIGN_IN_PATH, SIGN_OUT_PATH,
    },
    components::{error_notice::ErrorNotice, operator_sign_in::OperatorSignInPrompt},
    domain::NoticeChannel,
    error::AppError,
    i18n::{t, tu_string, use_i18n},
    locale::local_time,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn OperatorSignInPage() -> impl IntoView {
    let query = use_query_map();
    let code = Memo::new(move |_| query.with(|query| query.get("kode").unwrap_or_default()));
    let refused =
        Memo::new(move |_| query.with(|query| query.get("feil").as_deref() == Some("kode")));
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, operator.sign_in_title) />
        <h1>{t!(i18n, operator.sign_in_title)}</h1>
        <p class="lead">{t!(i18n, operator.sign_in_lead)}</p>
        <pre class="command"><code>"postkasse operator login-link"</code></pre>
        <form method="post" action=SIGN_IN_PATH class="settings-form">
            <div class="field">
                <label for="kode">{t!(i18n, operator.code_label)}</label>
                <p id="kode-hint" class="hint">{t!(i18n, operator.code_hint)}</p>
                <input
                    id="kode"
                    name="kode"
                    type="text"
                    required
                    autocomplete="off"
                    spellcheck="false"
                    value=code
                    aria-invalid=move || refused.get().then_some("true")
                    aria-describedby=move || if refused.get() { "kode-hint kode-feil" } else { "kode-hint" }
                />
                {move || refused.get().then(|| view! {
                    <p id="kode-feil" class="field-error">{t!(i18n, operator.code_refused)}</p>
                })}
            </div>
            <button type="submit">{t!(i18n, operator.sign_in)}</button>
        </form>
    }
}

#[component]
pub fn SinkNoticesPage() -> impl IntoView {
    let sink = Resource::new(|| (), |_| sink_notices());
    let i18n = use_i18n();
    view! {
        <Title text=tu_string!(i18n, operator.sink_title) />
        <Suspense fallback=move || view! { <p>{t!(i18n, operator.loading)}</p> }>
            {move || Suspend::new(async move {
                match sink.await {
                    Ok(page) => view! { <SinkNotices page /> }.into_any(),
                    Err(AppError::Unauthorized) => view! {
                        <OperatorSignInPrompt title=tu_string!(i18n, operator.sink_title).to_owned() />
                    }
                    .into_any(),
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SinkNotices(page: SinkPage) -> impl IntoView {
    let i18n = use_i18n();
    let route = move |route: ChannelRoute| match route {
        ChannelRoute::Sink => tu_string!(i18n, operator.route_sink),
        ChannelRoute::Sent => tu_string!(i18n, operator.route_sent),
    };
    let limit = SinkPage::LIMIT;
    view! {
        <h1>{t!(i18n, operator.sink_title)}</h1>
        <p class="lead">{t!(i18n, operator.sink_lead)}</p>
        <dl class="letter-facts">
            <dt>{t!(i18n, operator.email)}</dt>
            <dd>{route(page.email)}</dd>
            <dt>{t!(i18n, operator.sms)}</dt>
            <dd>{route(page.sms)}</dd>
        </dl>
        {if page.notices.is_empty() {
            view! { <p>{t!(i18n, operator.empty)}</p> }.into_any()
        } else {
            let shown = page.notices.len();
            view! {
                <table class="sink-notices">
                    <caption>{tu_string!(i18n, operator.caption, shown, limit).to_string()}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, common.time)}</th>
                            <th scope="col">{t!(i18n, operator.channel)}</th>
                            <th scope="col">{t!(i18n, operator.recipient)}</th>
                            <th scope="col">{t!(i18n, operator.text)}</th>
                            <th scope="col">{t!(i18n, operator.key)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {page.notices.into_iter().map(|notice| view! { <SinkNoticeRow notice /> }).collect_view()}
                    </tbody>
                </table>
            }
            .into_any()
        }}
        <form method="post" action=SIGN_OUT_PATH class="logout">
            <button type="submit">{t!(i18n, operator.sign_out)}</button>
        </form>
    }
}

#[component]
fn SinkNoticeRow(notice: SinkNoticeView) -> impl IntoView {
    let i18n = use_i18n();
    let channel = match notice.channel {
        NoticeChannel::Email => tu_string!(i18n, operator.email),
        NoticeChannel::Sms => tu_string!(i18n, operator.sms),
    };
    view! {
        <tr>
            <td>{local_time(i18n.get_locale_untracked(), notice.sent_at)}</td>
            <td>{channel}</td>
            <td>{notice.address}</td>
            <td>{notice.text}</td>
            <td><code>{notice.key}</code></td>
        </tr>
    }
}
