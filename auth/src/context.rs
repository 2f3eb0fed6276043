//! The Leptos adapter over the session core: a signal that mirrors [`Session`]'s state, and
//! a `Copy` handle whose methods hand straight to the session. Nothing here decides
//! anything about the protocol or the session.

use leptos::prelude::*;

use crate::browser::Browser;
use crate::oauth::AuthError;
use crate::session::platform::HttpResponse;
use crate::session::{ApiRequest, AuthState, Platform, Session, User};

/// A handle to sign-in: cheap to copy, available anywhere below [`provide_auth`].
#[derive(Clone, Copy)]
pub struct Auth {
    state: ReadSignal<AuthState>,
    /// Change only when the person does, not at every state change.
    user: Memo<Option<User>>,
    signed_in: Memo<bool>,
    /// Local: the session holds futures, which stay on the page's one thread.
    session: StoredValue<Session<Browser>, LocalStorage>,
}

/// Sets up sign-in for the app and returns the handle (also provided as context). On
/// the callback route it finishes the sign-in in progress. `config_url` is where the
/// deployed `config.json` is served, usually `"/config.json"`. Call it first, at the root
/// of the app: it enforces the page's built Content-Security-Policy before anything else.
pub fn provide_auth(config_url: &str) -> Auth {
    crate::browser::enforce_built_policy();
    let session = Session::new(Browser, config_url);
    let auth = adapt(session.clone());
    // A page back from the back-forward cache (not a first load, which also fires it).
    let shown = window_event_listener(leptos::ev::pageshow, move |event| {
        if event.persisted() {
            auth.with_session(Session::page_shown);
        }
    });
    // Another tab signed out or in: the browser tells the others through `storage`.
    let shared = window_event_listener(leptos::ev::storage, move |event| {
        auth.with_session(|session| session.shared_storage_changed(event.key().as_deref()));
    });
    let visibility = leptos::ev::Custom::<web_sys::Event>::new("visibilitychange");
    let visible = window_event_listener(visibility, move |_| {
        auth.with_session(Session::visibility_changed);
    });
    on_cleanup(move || {
        shown.remove();
        shared.remove();
        visible.remove();
    });
    start_now(&session);
    auth
}

/// The handle over `session`, its state mirrored into a signal, provided as context.
fn adapt(session: Session<Browser>) -> Auth {
    let (state, set_state) = signal(session.state());
    session.set_observer(move |new| set_state.set(new.clone()));
    let user = Memo::new(move |_| {
        state.with(|s| match s {
            AuthState::SignedIn(user) => Some(user.clone()),
            _ => None,
        })
    });
    let signed_in = Memo::new(move |_| state.with(|s| matches!(s, AuthState::SignedIn(_))));
    let auth = Auth { state, user, signed_in, session: StoredValue::new_local(session) };
    provide_context(auth);
    auth
}

/// Runs the session's start-up up to its first wait at once, then leaves the rest to the
/// executor. On the callback route that first stretch sends the token request, which is
/// then in flight while the page renders, instead of queued behind that first render
/// (measured: it left 20-25 ms later). The wakers of this first poll are dropped; the
/// executor's first poll registers its own before any fetch can answer (answers arrive in
/// later tasks).
fn start_now(session: &Session<Browser>) {
    let mut future = Box::pin(session.clone().start());
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    if future.as_mut().poll(&mut context).is_pending() {
        session.platform().spawn(future);
    }
}

/// Provides an [`Auth`] that is already in `state` and starts nothing (no config, no
/// network): for testing components that read the auth context. Only with the
/// `test-hooks` feature, which only tests enable.
#[cfg(feature = "test-hooks")]
pub fn provide_auth_in_state(state: AuthState) -> Auth {
    adapt(Session::in_state(Browser, "", state))
}

/// The [`Auth`] handle provided by [`provide_auth`].
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

impl core::fmt::Debug for Auth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Auth").field("state", &self.state.get_untracked()).finish_non_exhaustive()
    }
}

impl Auth {
    /// Runs `f` on the session; `None` once the owner that provided it is gone (the app
    /// unmounted), which must not abort the page.
    fn with_session<T>(&self, f: impl FnOnce(&Session<Browser>) -> T) -> Option<T> {
        self.session.try_with_value(f)
    }

    fn session(&self) -> Option<Session<Browser>> {
        self.session.try_get_value()
    }

    /// The current state (tracked: reading it in a view re-renders on change).
    pub fn state(&self) -> AuthState {
        self.state.get()
    }

    /// The state as a signal, to pass to components or derive from.
    pub fn state_signal(&self) -> Signal<AuthState> {
        self.state.into()
    }

    /// The signed-in person, if any (tracked: re-renders only when the person changes).
    pub fn user(&self) -> Option<User> {
        self.user.get()
    }

    /// Whether someone is signed in (tracked: re-renders only when that changes).
    pub fn is_signed_in(&self) -> bool {
        self.signed_in.get()
    }

    /// Whether the person signed out during this page's life.
    pub fn signed_out_by_user(&self) -> bool {
        self.with_session(Session::signed_out_by_user).unwrap_or(false)
    }

    /// The scopes this app asked for that the provider did not grant (a box left unticked
    /// on its consent page): the app works with what it got, and can say what is missing.
    pub fn withheld_scopes(&self) -> Vec<String> {
        self.with_session(Session::withheld_scopes).unwrap_or_default()
    }

    /// Whether the session's tokens are bound to this page's DPoP key (RFC 9449): a server
    /// that checks binding then takes the token only with a proof, which [`Auth::fetch`]
    /// adds and [`Auth::access_token`] alone cannot.
    pub fn tokens_bound_to_key(&self) -> bool {
        self.with_session(Session::tokens_bound_to_key).unwrap_or_default()
    }

    /// A valid access token for an `Authorization: Bearer` header. Use it for the request at
    /// hand; do not keep or store it. When [`Auth::tokens_bound_to_key`], send requests
    /// through [`Auth::fetch`] instead: the token alone is refused by servers that check the
    /// binding. See [`Session::access_token`] for when it is renewed
    /// and who waits; if the provider no longer renews the session, the state becomes
    /// `Failed(SessionExpired)` and this answers [`AuthError::SessionExpired`].
    pub async fn access_token(&self) -> Result<String, AuthError> {
        match self.session() {
            Some(session) => session.access_token().await,
            None => Err(AuthError::NotSignedIn),
        }
    }

    /// Sends `request` to an API with the access token, renewed first when due, and answers
    /// the response whatever its status. Only to the app's origin and the config's
    /// `api_origins` (else [`AuthError::ApiOriginNotAllowed`], and nothing is sent); a 401
    /// `invalid_token` gets one renewal and one retry. See [`Session::fetch`].
    pub async fn fetch(&self, request: ApiRequest) -> Result<HttpResponse, AuthError> {
        match self.session() {
            Some(session) => session.fetch(&request).await,
            None => Err(AuthError::NotSignedIn),
        }
    }

    /// A setting of the app's own from `config.json`'s `app` object (an API's URL, say).
    pub async fn app_setting(&self, name: &str) -> Option<String> {
        self.session()?.app_setting(name).await
    }

    /// Sends the browser to the provider to sign in; afterwards the app comes back to
    /// `return_to` (a same-origin path; anything else means `/`).
    pub fn sign_in(&self, return_to: &str) {
        self.with_session(|s| s.sign_in(return_to));
    }

    /// Signs in and comes back to the page the person is on.
    pub fn sign_in_here(&self) {
        self.with_session(Session::sign_in_here);
    }

    /// Signs in again after `failure` (see [`Session::sign_in_again`]).
    pub fn sign_in_again(&self, failure: &AuthError) {
        self.with_session(|s| s.sign_in_again(failure));
    }

    /// Asks the UserInfo endpoint for the person again (an API call with the access
    /// token) and updates the state with the answer.
    pub async fn reload_profile(&self) -> Result<User, AuthError> {
        match self.session() {
            Some(session) => session.reload_profile().await,
            None => Err(AuthError::NotSignedIn),
        }
    }

    /// Signs out: forgets the tokens, revokes the refresh token, and ends the provider's
    /// session too when it supports that (see [`Session::sign_out`]).
    pub fn sign_out(&self) {
        self.with_session(Session::sign_out);
    }
}
