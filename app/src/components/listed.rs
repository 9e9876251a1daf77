//! A list loaded from a server function, shown as a list, a sentence when it
//! is empty, or the error.

use crate::{components::error_notice::ErrorNotice, error::AppError};
use leptos::prelude::*;

/// A loaded list as a `<ul>` of `item`s, a sentence when it is empty, or the error.
pub fn listed<T, V>(
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
