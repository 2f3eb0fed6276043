//! The demo's pages.

use leptos::either::{Either, EitherOf3, EitherOf4};
use leptos::prelude::*;

use crate::auth::{ApiRequest, AuthFailure, AuthState, use_auth};

#[component]
pub fn Home() -> impl IntoView {
    let auth = use_auth();
    move || match auth.state() {
        AuthState::SignedIn(user) => EitherOf4::A(view! {
            <section class="card">
                <h1>"Welcome, " <span class="person-name">{user.display_name().to_owned()}</span></h1>
                <p>"You are signed in. Your access token is held in this page's memory only."</p>
                <p><a href="/profile">"See your profile"</a></p>
            </section>
        }),
        AuthState::Failed(error) => EitherOf4::B(view! { <AuthFailure error/> }),
        AuthState::Restoring => EitherOf4::D(view! {
            <section class="card"><p class="status" role="status">{crate::auth::messages::RESTORING_YOUR_SESSION}</p></section>
        }),
        _ => EitherOf4::C(view! {
            <section class="card hero">
                {auth.signed_out_by_user().then(|| view! {
                    <p class="status" role="status">{crate::auth::messages::YOU_HAVE_SIGNED_OUT}</p>
                })}
                <h1>"Sign in with your identity provider"</h1>
                <p>"This app signs you in with OpenID Connect, using the authorization code flow with PKCE. "
                   "Your password goes only to the provider; this app keeps its tokens in memory only."</p>
                <SignInButton/>
            </section>
        }),
    }
}

/// "Sign in", or what is under way instead of it.
#[component]
pub fn SignInButton() -> impl IntoView {
    let auth = use_auth();
    move || match auth.state() {
        AuthState::Redirecting => EitherOf3::A(view! { <button class="primary" disabled>"Redirecting…"</button> }),
        AuthState::Exchanging | AuthState::Restoring => {
            EitherOf3::B(view! { <button class="primary" disabled>"Signing in…"</button> })
        }
        _ => EitherOf3::C(view! {
            <button class="primary" on:click=move |_| auth.sign_in_here()>"Sign in"</button>
        }),
    }
}

/// The protected page's content: the person, and an API call made with the token.
#[component]
pub fn Profile() -> impl IntoView {
    let auth = use_auth();
    // The last API call: None while none has answered; then its outcome. Two signals and
    // spawn_local rather than `Action::new_local`, which costs 4.1 KB gzip of .wasm
    // (measured: 136.6 against 140.7 KB) for the same behaviour.
    let (outcome, set_outcome) = signal(None::<Result<crate::auth::User, crate::auth::AuthError>>);
    let (calling, set_calling) = signal(false);
    let call = move |_| {
        // The last answer goes at once: what shows next is this call's.
        set_outcome.set(None);
        set_calling.set(true);
        leptos::task::spawn_local(async move {
            set_outcome.set(Some(auth.reload_profile().await));
            set_calling.set(false);
        });
    };
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
                {crate::auth::messages::withheld_scopes_note(&auth.withheld_scopes()).map(|note| view! {
                    <p class="status withheld">{note}</p>
                })}
            })}
            <button on:click=call disabled=calling>
                "Call the UserInfo API again"
            </button>
            {move || outcome.get().map(|outcome| match outcome {
                Ok(user) => Either::Left(view! { <p class="ok" role="status">"The API answered for " {user.display_name().to_owned()} "."</p> }),
                Err(error) => Either::Right(view! { <p class="error-text" role="alert">{crate::auth::error_message(&error)}</p> }),
            })}
        </section>
    }
}

/// What the demo API sends back: the person's own data.
#[derive(serde::Deserialize)]
struct DemoApiAnswer {
    sub: String,
    note: Option<String>,
    calls: u32,
}

/// The API page: the demo API called through the auth module's helper, which adds the
/// token, renews it when due and sends it nowhere but the config's `api_origins`.
#[component]
pub fn ApiPage() -> impl IntoView {
    let auth = use_auth();
    let (outcome, set_outcome) = signal(None::<Result<String, String>>);
    let (calling, set_calling) = signal(false);
    let call = move |_| {
        set_outcome.set(None);
        set_calling.set(true);
        leptos::task::spawn_local(async move {
            set_outcome.set(Some(call_demo_api(auth).await));
            set_calling.set(false);
        });
    };
    view! {
        <section class="card">
            <h1>"Your data from the demo API"</h1>
            <p>"The demo API is a separate server. It checks your access token with the sign-in service, "
               "then answers with what it keeps for you."</p>
            <button class="primary" on:click=call disabled=calling>"Call the demo API"</button>
            {move || outcome.get().map(|outcome| match outcome {
                Ok(text) => Either::Left(view! { <p class="ok api-answer" role="status">{text}</p> }),
                Err(text) => Either::Right(view! { <p class="error-text api-answer" role="alert">{text}</p> }),
            })}
        </section>
    }
}

/// One call to the demo API, as a sentence for the page.
async fn call_demo_api(auth: crate::auth::Auth) -> Result<String, String> {
    let url =
        auth.app_setting("demo_api").await.ok_or("This app has no demo API set up (config.json: app.demo_api).")?;
    let response = auth.fetch(ApiRequest::get(&url)).await.map_err(|error| crate::auth::error_message(&error))?;
    if !response.ok() {
        let reason = response.token_error().map(|error| format!(": {error}")).unwrap_or_default();
        return Err(format!("The demo API refused the request (HTTP {}{reason}).", response.status));
    }
    let answer: DemoApiAnswer =
        response.json().map_err(|_| "The demo API sent an answer this page cannot read.".to_owned())?;
    let note = answer.note.map(|note| format!(" Your note: “{note}”")).unwrap_or_default();
    Ok(format!("The demo API knows you as {}.{note} Calls so far: {}.", answer.sub, answer.calls))
}

/// The redirect URI's page: what the sign-in is doing, or why it stopped.
#[component]
pub fn Callback() -> impl IntoView {
    let auth = use_auth();
    move || match auth.state() {
        AuthState::Failed(error) => Either::Left(view! { <AuthFailure error/> }),
        _ => Either::Right(view! { <p class="status" role="status">"Signing you in…"</p> }),
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p><a href="/">"Go to the home page"</a></p>
        </section>
    }
}
