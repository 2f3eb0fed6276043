//! The Leptos components: a guard for protected pages and an explanation of a failure.
//! What they show is decided by the session core ([`Guard`]); what they say is
//! [`crate::messages`]'.

use leptos::either::EitherOf4;
use leptos::prelude::*;

use crate::context::use_auth;
use crate::messages::{
    RESTORING_YOUR_SESSION, SIGN_IN, SIGNED_OUT_SIGN_IN_TO_SEE, TAKING_YOU_TO_SIGN_IN, error_message, failure_heading,
};
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
            auth.sign_in_here();
        }
    });
    move || match gate.get() {
        Guard::Open => EitherOf4::A(children()),
        Guard::Failed(error) => EitherOf4::B(view! { <AuthFailure error/> }),
        Guard::AskToSignIn => EitherOf4::C(view! {
            <section class="card">
                <p>{SIGNED_OUT_SIGN_IN_TO_SEE}</p>
                <button class="primary" on:click=move |_| auth.sign_in_here()>{SIGN_IN}</button>
            </section>
        }),
        Guard::SignInNow | Guard::Waiting => {
            EitherOf4::D(view! { <p class="status" role="status">{TAKING_YOU_TO_SIGN_IN}</p> })
        }
        Guard::Restoring => EitherOf4::D(view! { <p class="status" role="status">{RESTORING_YOUR_SESSION}</p> }),
    }
}

/// What went wrong, as text (never markup), with a way forward.
#[component]
pub fn AuthFailure(
    /// The failure to explain.
    error: AuthError,
) -> impl IntoView {
    let auth = use_auth();
    let (heading, action) = failure_heading(&error);
    let class = match &error {
        AuthError::NoSignInInProgress | AuthError::SessionExpired => "card notice",
        _ => "card error",
    };
    let message = error_message(&error);
    let code = error.code();
    view! {
        <section class=class role="alert" data-error-code=code>
            <h2>{heading}</h2>
            <p class="message">{message}</p>
            <button class="primary" on:click=move |_| auth.sign_in_again(&error)>{action}</button>
        </section>
    }
}
