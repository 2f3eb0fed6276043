//! The demo app around the auth module: a header, a home page, a protected profile page
//! and the callback page.

mod pages;
mod routes;

use leptos::either::{EitherOf3, EitherOf4};
use leptos::prelude::*;

use crate::auth::{AuthState, RequireAuth, provide_auth, use_auth};
use pages::{Callback, Home, NotFound, Profile, SignInButton};
use routes::current_path;

#[component]
pub fn App() -> impl IntoView {
    provide_auth("/config.json");
    let path = current_path();
    view! {
        <Header/>
        <main>
            {move || match path.get().as_str() {
                "/" => EitherOf4::A(view! { <Home/> }),
                "/profile" => EitherOf4::B(view! { <RequireAuth><Profile/></RequireAuth> }),
                "/callback" => EitherOf4::C(view! { <Callback/> }),
                _ => EitherOf4::D(view! { <NotFound/> }),
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
