//! What the letter page shows about signing: the sender's order to sign the
//! letter's document with the sign and decline forms or how it ended, and
//! every signature in the letter's PDFs, checked
//! ([`crate::components::signing`]).

use crate::{
    api::signing::load_signing_area,
    components::signing::{Signatures, SigningOrderView},
    domain::LetterId,
};
use leptos::prelude::*;

#[component]
pub fn SigningSection(letter: LetterId) -> impl IntoView {
    let area = Resource::new(|| (), move |_| load_signing_area(letter.to_string()));
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                area.await
                    .ok()
                    .map(|area| {
                        view! {
                            {area.order.map(|order| view! { <SigningOrderView order /> })}
                            {(!area.signatures.is_empty())
                                .then(|| view! { <Signatures signatures=area.signatures /> })}
                        }
                    })
            })}
        </Suspense>
    }
}
