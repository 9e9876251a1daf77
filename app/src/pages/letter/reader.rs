//! A PDF read inside the letter page. Each page is a picture the server drew
//! (offered at several widths, so the browser takes what the screen needs,
//! and loaded lazily as the reader scrolls), with the page's text beside it
//! for screen readers, copying and finding. Without JavaScript that is the
//! whole reader, page links included; hydrated, it also zooms.

use crate::{
    api::mailbox::{DocumentPages, PageView},
    i18n::{t, tu_string, use_i18n},
};
use leptos::prelude::*;

/// Zoom steps, as a share of the reading column's width.
const ZOOMS: [u32; 5] = [75, 100, 125, 150, 200];
const FULL_WIDTH: usize = 1;

#[component]
pub fn PdfReader(
    /// Tells this document's page anchors from another's on the same page.
    index: usize,
    title: String,
    download: String,
    pages: DocumentPages,
) -> impl IntoView {
    let i18n = use_i18n();
    let zoom = RwSignal::new(FULL_WIDTH);
    // Zoom needs the browser; the server's page shows the pages as they fit.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    let shown = pages.pages.len();
    let total = pages.total;
    let anchor = move |number: u32| format!("dokument-{index}-side-{number}");
    let label = tu_string!(i18n, reader.label, title = title.clone()).to_string();
    let navigation = (shown > 1).then(|| {
        let links = pages
            .pages
            .iter()
            .map(|page| {
                let name = tu_string!(i18n, reader.page_link, number = page.number).to_string();
                view! {
                    <li><a href=format!("#{}", anchor(page.number)) rel="external" aria-label=name>{page.number}</a></li>
                }
            })
            .collect_view();
        view! {
            <nav class="reader-pages-nav" aria-label=tu_string!(i18n, reader.pages_nav).to_string()>
                <ul>{links}</ul>
            </nav>
        }
    });
    let tools = move || {
        hydrated.get().then(|| {
            let percent = move || ZOOMS[zoom.get()];
            view! {
                <div class="reader-tools" role="group" aria-label=tu_string!(i18n, reader.zoom_group).to_string()>
                    <button
                        type="button"
                        on:click=move |_| zoom.update(|step| *step = step.saturating_sub(1))
                        disabled=move || zoom.get() == 0
                        aria-label=tu_string!(i18n, reader.zoom_out).to_string()
                    >
                        "−"
                    </button>
                    <output aria-live="polite">{move || format!("{} %", percent())}</output>
                    <button
                        type="button"
                        on:click=move |_| zoom.update(|step| *step = (*step + 1).min(ZOOMS.len() - 1))
                        disabled=move || zoom.get() == ZOOMS.len() - 1
                        aria-label=tu_string!(i18n, reader.zoom_in).to_string()
                    >
                        "+"
                    </button>
                </div>
            }
        })
    };
    let page_views = pages
        .pages
        .into_iter()
        .map(|page| {
            let anchor = anchor(page.number);
            view! { <ReaderPage page total anchor zoom /> }
        })
        .collect_view();
    let more = (u32::try_from(shown).unwrap_or(u32::MAX) < total).then(|| {
        view! {
            <p class="reader-more">
                {tu_string!(i18n, reader.more_pages, shown = shown, total = total).to_string()}
                " "
                <a href=download rel="external">{t!(i18n, reader.download_all)}</a>
            </p>
        }
    });
    view! {
        <section class="reader" aria-label=label>
            {tools}
            {navigation}
            <ol class="reader-pages">{page_views}</ol>
            {more}
        </section>
    }
}

#[component]
fn ReaderPage(page: PageView, total: u32, anchor: String, zoom: RwSignal<usize>) -> impl IntoView {
    let i18n = use_i18n();
    let number = page.number;
    let alt = tu_string!(i18n, reader.page_alt, number = number, total = total).to_string();
    let text_heading = tu_string!(i18n, reader.page_text, number = number).to_string();
    let percent = move || ZOOMS[zoom.get()];
    // The reading column is at most 48rem; zoomed, the page is wider and
    // the column scrolls sideways.
    let sizes = move || {
        let percent = percent();
        format!("(max-width: 50rem) {percent}vw, {}rem", 48 * percent / 100)
    };
    let text = page.text.clone();
    view! {
        <li class="reader-page" id=anchor>
            <img
                src=page.src_at(PageView::WIDTHS[1])
                srcset=page.srcset()
                sizes=sizes
                width=page.width
                height=page.height
                style=move || format!("width: {}%", percent())
                // The first page is what the reader sees at once.
                loading=if number == 1 { "eager" } else { "lazy" }
                decoding="async"
                alt=alt
            />
            <details class="page-text">
                <summary>{text_heading}</summary>
                {if text.is_empty() {
                    view! { <p>{t!(i18n, reader.no_text)}</p> }.into_any()
                } else {
                    view! { <p class="page-text-body">{text}</p> }.into_any()
                }}
            </details>
        </li>
    }
}
