//! A route switch on the path, small enough to read in a minute. A handful of pages do
//! not need a router library, and leptos_router would more than double the bundle.
//! The auth module does not depend on this: it announces URL changes with `popstate`.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MouseEvent;

use crate::auth::location;

/// The current path, kept in step with the History API, with in-app links handled.
pub fn current_path() -> ReadSignal<String> {
    let (path, set_path) = signal(location::path());
    let _ = window_event_listener(leptos::ev::popstate, move |_| set_path.set(location::path()));
    handle_in_app_links();
    path
}

/// Makes plain `<a href="/...">` links navigate inside the app: one listener on the
/// document instead of a handler per link. Clicks with a modifier key or another button,
/// links with a `target` or `download`, and links to other origins behave as usual.
fn handle_in_app_links() {
    let _ = window_event_listener(leptos::ev::click, move |ev: MouseEvent| {
        if ev.default_prevented()
            || ev.button() != 0
            || ev.ctrl_key()
            || ev.meta_key()
            || ev.shift_key()
            || ev.alt_key()
        {
            return;
        }
        let Some(anchor) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("a[href]").ok().flatten())
        else {
            return;
        };
        if anchor.has_attribute("target") || anchor.has_attribute("download") {
            return;
        }
        let href = anchor.get_attribute("href").unwrap_or_default();
        // Same-origin paths only: "/x", not "//host/x".
        if href.starts_with('/') && !href.starts_with("//") {
            ev.prevent_default();
            location::push_path(&href);
        }
    });
}
