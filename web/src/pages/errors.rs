//! The screens for addresses that lead nowhere: an unknown path, and an admin
//! screen opened by someone who is not staff (shown instead of it, so that no
//! admin data is ever asked for).

use crate::dom;
use crate::routes::Screen;
use leptos::prelude::*;

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn NotFound() -> impl IntoView {
    view! {
        <section class="card narrow" id="not-found">
            <h1 class="page-title" tabindex="-1">"Page not found"</h1>
            <p>"There is nothing at this address."</p>
            <p><a href="/">"Go to the start page"</a></p>
        </section>
    }
}

#[expect(unreachable_pub, reason = "#[component] re-emits the fn as `pub`")]
#[component]
pub(crate) fn NotAllowed() -> impl IntoView {
    dom::set_title("Not allowed");
    view! {
        <section id="not-allowed">
            <h1 class="page-title" tabindex="-1">"Not allowed"</h1>
            <p>"This screen is for admins and moderators. Your account cannot open it."</p>
            <p><a href=Screen::Profile.path()>"Back to your profile"</a></p>
        </section>
    }
}
