//! A route switch on the path, small enough to read in a minute. A handful of pages do
//! not need a router library, and leptos_router would more than double the bundle.
//! The auth module does not depend on this: it announces URL changes with `popstate`.

use leptos::prelude::*;
use web_sys::MouseEvent;

use crate::auth::browser::location;

/// The current path, kept in step with the History API.
#[derive(Clone, Copy)]
pub struct CurrentPath(pub ReadSignal<String>);

/// Tracks the path and provides it as context.
pub fn provide_current_path() -> CurrentPath {
    let (path, set_path) = signal(location::path());
    let _ = window_event_listener(leptos::ev::popstate, move |_| set_path.set(location::path()));
    let current = CurrentPath(path);
    provide_context(current);
    current
}

/// An in-app link: a real `<a href>` (open in new tab, copy link work), with plain
/// clicks handled without reloading the page.
#[component]
pub fn Link(#[prop(into)] href: String, children: Children) -> impl IntoView {
    let target = href.clone();
    let on_click = move |ev: MouseEvent| {
        if ev.button() == 0 && !(ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key()) {
            ev.prevent_default();
            location::push_path(&target);
        }
    };
    view! { <a href=href on:click=on_click>{children()}</a> }
}
