//! The demo's pages.

use leptos::prelude::*;

use super::routes::Link;
use crate::auth::browser::location;
use crate::auth::{use_auth, AuthFailure, AuthState};

#[component]
pub fn Home() -> impl IntoView {
    let auth = use_auth();
    move || match auth.state() {
        AuthState::SignedIn(user) => view! {
            <section class="card">
                <h1>"Welcome, " <span class="person-name">{user.display_name().to_owned()}</span></h1>
                <p>"You are signed in. Your access token is held in this page's memory only."</p>
                <p><Link href="/profile">"See your profile"</Link></p>
            </section>
        }
        .into_any(),
        AuthState::Failed(error) => view! { <AuthFailure error/> }.into_any(),
        _ => view! {
            <section class="card hero">
                <h1>"Sign in with your identity provider"</h1>
                <p>"This app signs you in with OpenID Connect, using the authorization code flow with PKCE. "
                   "Your password goes only to the provider; this app keeps its tokens in memory only."</p>
                <SignInButton/>
            </section>
        }
        .into_any(),
    }
}

/// "Sign in", or what is under way instead of it.
#[component]
pub fn SignInButton() -> impl IntoView {
    let auth = use_auth();
    move || match auth.state() {
        AuthState::Redirecting => view! { <button class="primary" disabled>"Redirecting…"</button> }.into_any(),
        AuthState::Exchanging => view! { <button class="primary" disabled>"Signing in…"</button> }.into_any(),
        _ => view! {
            <button class="primary" on:click=move |_| auth.sign_in(&location::path_query_fragment())>"Sign in"</button>
        }
        .into_any(),
    }
}

/// The protected page's content: the person, and an API call made with the token.
#[component]
pub fn Profile() -> impl IntoView {
    let auth = use_auth();
    let call = Action::new_local(move |_: &()| async move { auth.reload_profile().await });
    let user = move || auth.user();
    view! {
        <section class="card">
            <h1>"Your profile"</h1>
            {move || user().map(|user| view! {
                <dl class="profile">
                    <dt>"Name"</dt><dd class="person-name">{user.name.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Email"</dt><dd class="person-email">{user.email.clone().unwrap_or_else(|| "—".into())}</dd>
                    <dt>"Subject"</dt><dd><code>{user.sub.clone()}</code></dd>
                </dl>
                {(!user.profile_loaded).then(|| view! { <p class="status" role="status">"Loading your profile…"</p> })}
            })}
            <button on:click=move |_| { call.dispatch(()); } disabled=move || call.pending().get()>
                "Call the UserInfo API again"
            </button>
            {move || call.value().get().map(|outcome| match outcome {
                Ok(user) => view! { <p class="ok" role="status">"The API answered for " {user.display_name().to_owned()} "."</p> }.into_any(),
                Err(error) => view! { <p class="error-text" role="alert">{error.message()}</p> }.into_any(),
            })}
        </section>
    }
}

/// The redirect URI's page: what the sign-in is doing, or why it stopped.
#[component]
pub fn Callback() -> impl IntoView {
    let auth = use_auth();
    move || match auth.state() {
        AuthState::Failed(error) => view! { <AuthFailure error/> }.into_any(),
        _ => view! { <p class="status" role="status">"Signing you in…"</p> }.into_any(),
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p><Link href="/">"Go to the home page"</Link></p>
        </section>
    }
}
