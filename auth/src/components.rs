//! The Leptos components: a guard for protected pages and an explanation of a failure.
//! What they show is decided by the session core ([`Guard`]); the sentences are
//! [`crate::messages`]'.

use leptos::either::EitherOf4;
use leptos::prelude::*;

use crate::browser::location;
use crate::context::use_auth;
use crate::messages::error_message;
use crate::oauth::AuthError;
use crate::session::Guard;

/// Shows `children` only to a signed-in person. Signed out, it starts sign-in and comes
/// back to this page afterwards; if the person signed out themselves, it asks first.
#[component]
pub fn RequireAuth(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    // What the guard shows changes only with this, not with every state change: a
    // profile update must not rebuild the protected page (and lose its own state).
    let gate = Memo::new(move |_| Guard::of(&auth.state(), auth.signed_out_by_user()));
    Effect::new(move |_| {
        if gate.get() == Guard::SignInNow {
            auth.sign_in(&location::path_query_fragment());
        }
    });
    move || match gate.get() {
        Guard::Open => EitherOf4::A(children()),
        Guard::Failed(error) => EitherOf4::B(view! { <AuthFailure error/> }),
        Guard::AskToSignIn => EitherOf4::C(view! {
            <section class="card">
                <p>"You are signed out. Sign in to see this page."</p>
                <button class="primary" on:click=move |_| auth.sign_in(&location::path_query_fragment())>"Sign in"</button>
            </section>
        }),
        Guard::SignInNow | Guard::Waiting => {
            EitherOf4::D(view! { <p class="status" role="status">"Taking you to sign in…"</p> })
        }
    }
}

/// What went wrong, as text (never markup), with a way forward.
#[component]
pub fn AuthFailure(
    /// The failure to explain.
    error: AuthError,
) -> impl IntoView {
    let auth = use_auth();
    // Finding no sign-in in progress (a reload, a replayed link) and a session that ended
    // are news, not errors.
    let (heading, action, class) = match &error {
        AuthError::NoSignInInProgress => ("No sign-in in progress", "Sign in", "card notice"),
        AuthError::SessionExpired => ("Your session has ended", "Sign in", "card notice"),
        _ => ("Sign-in did not work", "Try again", "card error"),
    };
    // After a session ended, signing in again comes back to the page the person is on.
    let return_to = if error == AuthError::SessionExpired { location::path_query_fragment() } else { "/".to_owned() };
    view! {
        <section class=class role="alert" data-error-code=error.code()>
            <h2>{heading}</h2>
            <p class="message">{error_message(&error)}</p>
            <button class="primary" on:click=move |_| auth.sign_in(&return_to)>{action}</button>
        </section>
    }
}
