//! The address bar and navigation.

use wasm_bindgen::{JsCast, JsValue};

use crate::session::platform::ResolvedUrl;

fn location() -> Option<web_sys::Location> {
    web_sys::window().map(|w| w.location())
}

/// `scheme://host:port` of the page.
pub fn origin() -> String {
    location().and_then(|l| l.origin().ok()).unwrap_or_default()
}

/// `url` read relative to the page's base URL by the browser's URL parser, the one fetch
/// uses; `None` if it is not a URL.
pub fn resolve(url: &str) -> Option<ResolvedUrl> {
    let base = web_sys::window()?.document()?.base_uri().ok()??;
    let parsed = web_sys::Url::new_with_base(url, &base).ok()?;
    Some(ResolvedUrl { href: parsed.href(), origin: parsed.origin() })
}

/// Whether this page was reached by Back or Forward: its Navigation Timing entry's `type`
/// is `back_forward`. (Read through `Reflect`: web-sys's typed Performance bindings cost
/// more than this one property.)
pub fn came_back() -> bool {
    let read = || -> Option<bool> {
        let window: JsValue = web_sys::window()?.into();
        let performance = js_sys::Reflect::get(&window, &"performance".into()).ok()?;
        let entries: js_sys::Function =
            js_sys::Reflect::get(&performance, &"getEntriesByType".into()).ok()?.dyn_into().ok()?;
        let list: js_sys::Array = entries.call1(&performance, &"navigation".into()).ok()?.dyn_into().ok()?;
        let kind = js_sys::Reflect::get(&list.get(0), &"type".into()).ok()?;
        Some(kind.as_string().as_deref() == Some("back_forward"))
    };
    read().unwrap_or(false)
}

/// The path of the page, e.g. `/profile`.
pub fn path() -> String {
    location().and_then(|l| l.pathname().ok()).unwrap_or_else(|| "/".into())
}

/// Path, query and fragment: what a return-to value records.
pub fn path_query_fragment() -> String {
    let Some(l) = location() else { return "/".into() };
    let part = |value: Result<String, JsValue>| value.unwrap_or_default();
    format!("{}{}{}", part(l.pathname()), part(l.search()), part(l.hash()))
}

/// The query without its leading `?`.
pub fn query() -> String {
    let search = location().and_then(|l| l.search().ok()).unwrap_or_default();
    search.strip_prefix('?').unwrap_or(&search).to_owned()
}

/// Leaves the app for `url` (the provider's pages).
pub fn go_to(url: &str) {
    if let Some(l) = location() {
        let _ = l.assign(url);
    }
}

/// Leaves the app by submitting `fields` as a form POST to `action` (the provider's logout
/// endpoint), so that they travel in the request body rather than in a URL. False if the
/// page could not make the form (nothing was sent).
pub fn post_form(action: &str, fields: &[(&str, String)]) -> bool {
    use wasm_bindgen::JsCast;
    let make = || -> Option<()> {
        let document = web_sys::window()?.document()?;
        let form: web_sys::HtmlFormElement = document.create_element("form").ok()?.dyn_into().ok()?;
        form.set_method("post");
        form.set_action(action);
        form.set_hidden(true);
        for (name, value) in fields {
            let input = document.create_element("input").ok()?;
            input.set_attribute("type", "hidden").ok()?;
            input.set_attribute("name", name).ok()?;
            input.set_attribute("value", value).ok()?;
            form.append_child(&input).ok()?;
        }
        document.body()?.append_child(&form).ok()?;
        form.submit().ok()
    };
    make().is_some()
}

/// Replaces the current history entry's URL with the same-origin `path` without
/// loading anything, so that the callback's `code`, `state` and `iss` leave the address
/// bar and the history; then announces it (see `set_path`).
pub fn replace_path(path: &str) {
    set_path(path, false);
}

/// Adds a history entry for the same-origin `path` and announces it.
pub fn push_path(path: &str) {
    set_path(path, true);
}

/// Changes the URL through the History API, then dispatches a `popstate` event so that
/// whatever router the app uses (its own, or leptos_router) renders the new path: the
/// auth module needs no router of its own.
fn set_path(path: &str, push: bool) {
    let Some(window) = web_sys::window() else { return };
    if let Ok(history) = window.history() {
        let _ = if push {
            history.push_state_with_url(&JsValue::NULL, "", Some(path))
        } else {
            history.replace_state_with_url(&JsValue::NULL, "", Some(path))
        };
    }
    if let Ok(event) = web_sys::PopStateEvent::new("popstate") {
        let _ = window.dispatch_event(&event);
    }
}
