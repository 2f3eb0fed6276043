//! The demo app's pages with the sign-in taken out: a "Sign in" button that just shows a
//! fixed person. Same view techniques as the app (static Either views, one delegated
//! listener for in-app links), so that the benchmark's "ours minus this" is what the auth
//! module costs.

use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

fn path() -> String {
    web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_else(|| "/".into())
}

#[component]
fn App() -> impl IntoView {
    let (path, set_path) = signal(path());
    let _ = window_event_listener(leptos::ev::popstate, move |_| set_path.set(self::path()));
    let _ = window_event_listener(leptos::ev::click, move |ev: web_sys::MouseEvent| {
        if ev.button() != 0 || ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key() {
            return;
        }
        let href = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("a[href]").ok().flatten())
            .and_then(|a| a.get_attribute("href"));
        if let Some(href) = href.filter(|h| h.starts_with('/') && !h.starts_with("//")) {
            ev.prevent_default();
            if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                let _ = history.push_state_with_url(&JsValue::NULL, "", Some(&href));
            }
            set_path.set(href);
        }
    });
    let (person, set_person) = signal(None::<(String, String)>);
    let sign_in = move |_| set_person.set(Some(("Alice Liddell".into(), "alice@example.test".into())));
    view! {
        <header class="bar">
            <a href="/"><span class="brand">"Leptos " <b>"OIDC"</b></span></a>
            <nav><a href="/">"Home"</a><a href="/profile">"Profile"</a></nav>
            <div class="account">
                {move || match person.get() {
                    Some((name, email)) => Either::Left(view! {
                        <span class="who"><span class="header-name">{name}</span><span class="header-email">{email}</span></span>
                        <button on:click=move |_| set_person.set(None)>"Sign out"</button>
                    }),
                    None => Either::Right(view! { <button class="primary" on:click=sign_in>"Sign in"</button> }),
                }}
            </div>
        </header>
        <main>
            {move || match (path.get().as_str(), person.get()) {
                ("/profile", Some((name, email))) => EitherOf3::A(view! {
                    <section class="card"><h1>"Your profile"</h1>
                        <dl class="profile"><dt>"Name"</dt><dd>{name}</dd><dt>"Email"</dt><dd>{email}</dd></dl>
                    </section>
                }),
                (_, Some((name, _))) => EitherOf3::B(view! {
                    <section class="card"><h1>"Welcome, " {name}</h1><p><a href="/profile">"See your profile"</a></p></section>
                }),
                _ => EitherOf3::C(view! {
                    <section class="card hero"><h1>"Sign in with your identity provider"</h1>
                        <button class="primary" on:click=sign_in>"Sign in"</button>
                    </section>
                }),
            }}
        </main>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
