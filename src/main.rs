//! Mounts the app in the place of the page's shell; everything else lives in the library.

use wasm_bindgen::JsCast;

fn main() {
    let document = leptos::prelude::document();
    let shell = document.get_element_by_id("app-shell");
    // A keyboard user on one of the shell's links stays on the same link in the app's header.
    let focused = document.active_element().and_then(|active| {
        let links = document.query_selector_all("#app-shell header a").ok()?;
        (0..links.length()).find(|&i| links.item(i).as_ref() == Some(active.as_ref()))
    });
    leptos::mount::mount_to_body(leptos_oidc_spa::app::App);
    // In the same task as the mount, so no frame shows both or neither; after it, so a
    // mount that fails leaves the shell (and its advice) on the page.
    if let Some(shell) = shell {
        shell.remove();
    }
    let link = focused.and_then(|i| document.query_selector_all("header a").ok()?.item(i));
    if let Some(link) = link.and_then(|link| link.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = link.focus();
    }
}
