//! Mounts the app; everything else lives in the library.

fn main() {
    // The page's shell (index.html) shows until now; the app takes its place, in the same
    // task, so no frame shows both or neither.
    if let Some(shell) = leptos::prelude::document().get_element_by_id("app-shell") {
        shell.remove();
    }
    leptos::mount::mount_to_body(leptos_oidc_spa::app::App);
}
