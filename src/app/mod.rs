//! The demo app around the auth module: a header, a home page, two protected pages (the
//! profile, and a call to the demo API) and the callback page.

mod pages;
mod routes;

use leptos::either::{EitherOf3, EitherOf5};
use leptos::prelude::*;

use crate::auth::{AuthState, RequireAuth, provide_auth, use_auth};
use pages::{ApiPage, Callback, Home, NotFound, Profile, SignInButton};
use routes::current_path;

#[component]
pub fn App() -> impl IntoView {
    // index.html preloads the same path: change both.
    provide_auth("/config.json");
    let path = current_path();
    view! {
        <Header/>
        <main>
            {move || match path.get().as_str() {
                "/" => EitherOf5::A(view! { <Home/> }),
                "/profile" => EitherOf5::B(view! { <RequireAuth><Profile/></RequireAuth> }),
                "/api" => EitherOf5::C(view! { <RequireAuth><ApiPage/></RequireAuth> }),
                "/callback" => EitherOf5::D(view! { <Callback/> }),
                _ => EitherOf5::E(view! { <NotFound/> }),
            }}
        </main>
    }
}

#[component]
fn Header() -> impl IntoView {
    let auth = use_auth();
    view! {
        <header class="bar">
            <a href="/"><span class="brand">"Leptos " <b>"OIDC"</b></span></a>
            <nav>
                <a href="/">"Home"</a>
                <a href="/profile">"Profile"</a>
                <a href="/api">"API"</a>
            </nav>
            <div class="account">
                {move || match auth.state() {
                    AuthState::SignedIn(user) => EitherOf3::A(view! {
                        <span class="who">
                            <span class="header-name">
                                {if user.name.is_some() || user.profile_loaded { user.display_name().to_owned() } else { "Signed in".to_owned() }}
                            </span>
                            {user.email.clone().map(|email| view! { <span class="header-email">{email}</span> })}
                        </span>
                        <button on:click=move |_| auth.sign_out()>"Sign out"</button>
                    }),
                    AuthState::SigningOut => EitherOf3::B(view! { <span class="status">"Signing out…"</span> }),
                    _ => EitherOf3::C(view! { <SignInButton/> }),
                }}
            </div>
        </header>
    }
}
