//! The demo app's pages with the sign-in taken out: a "Sign in" button that just shows a
//! fixed person. The benchmark subtracts this build's bytes from the real app's to tell
//! what the auth module costs.

use leptos::prelude::*;
use wasm_bindgen::JsValue;

fn path() -> String {
    web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_else(|| "/".into())
}

#[component]
fn Link(#[prop(into)] href: String, children: Children) -> impl IntoView {
    let (_, set_path) = expect_context::<(ReadSignal<String>, WriteSignal<String>)>();
    let target = href.clone();
    let on_click = move |ev: web_sys::MouseEvent| {
        ev.prevent_default();
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = history.push_state_with_url(&JsValue::NULL, "", Some(&target));
        }
        set_path.set(target.clone());
    };
    view! { <a href=href on:click=on_click>{children()}</a> }
}

#[component]
fn App() -> impl IntoView {
    let (path, set_path) = signal(path());
    provide_context((path, set_path));
    let _ = window_event_listener(leptos::ev::popstate, move |_| set_path.set(self::path()));
    let (person, set_person) = signal(None::<(String, String)>);
    let sign_in = move |_| set_person.set(Some(("Alice Liddell".into(), "alice@example.test".into())));
    view! {
        <header class="bar">
            <Link href="/"><span class="brand">"Leptos " <b>"OIDC"</b></span></Link>
            <nav><Link href="/">"Home"</Link><Link href="/profile">"Profile"</Link></nav>
            <div class="account">
                {move || match person.get() {
                    Some((name, email)) => view! {
                        <span class="who"><span class="header-name">{name}</span><span class="header-email">{email}</span></span>
                        <button on:click=move |_| set_person.set(None)>"Sign out"</button>
                    }.into_any(),
                    None => view! { <button class="primary" on:click=sign_in>"Sign in"</button> }.into_any(),
                }}
            </div>
        </header>
        <main>
            {move || match (path.get().as_str(), person.get()) {
                ("/profile", Some((name, email))) => view! {
                    <section class="card"><h1>"Your profile"</h1>
                        <dl class="profile"><dt>"Name"</dt><dd>{name}</dd><dt>"Email"</dt><dd>{email}</dd></dl>
                    </section>
                }.into_any(),
                (_, Some((name, _))) => view! {
                    <section class="card"><h1>"Welcome, " {name}</h1><p><Link href="/profile">"See your profile"</Link></p></section>
                }.into_any(),
                _ => view! {
                    <section class="card hero"><h1>"Sign in with your identity provider"</h1>
                        <button class="primary" on:click=sign_in>"Sign in"</button>
                    </section>
                }.into_any(),
            }}
        </main>
    }
}

fn main() {
    leptos::mount::mount_to_body(App);
}
