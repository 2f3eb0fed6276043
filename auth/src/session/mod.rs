//! The session core: one [`Session`] owns the session's state machine, the tokens, the one
//! renewal in flight, start-up sequencing and the sign-out order. It is framework-neutral
//! (no Leptos, no web APIs) and talks to the world only through a [`Platform`], so that
//! every behaviour here is tested natively against a scripted provider (`tests/session/`).
//!
//! - `renewal`: when a token is renewed and who waits (pure decisions);
//! - `steps`: the sign-in steps, the protocol core's functions joined to the platform's I/O;
//! - `store`: what the session keeps in the tab's storage and in the storage its tabs share;
//! - [`platform`]: the seam.

mod api;
mod dpop;
pub mod platform;
mod renewal;
// The steps and the storage layout are the session's own; the crate's browser tests reach
// them through `test-hooks`.
#[cfg(feature = "test-hooks")]
pub mod steps;
#[cfg(not(feature = "test-hooks"))]
mod steps;
#[cfg(feature = "test-hooks")]
pub mod store;
#[cfg(not(feature = "test-hooks"))]
mod store;

use core::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};

use crate::oauth::bearer::token_rejected;
use crate::oauth::{
    AuthError, ClientConfig, ProviderMetadata, TokenExpectations, TokenRequest, TokenSet, UserInfo, refresh_request,
};
pub use api::ApiRequest;
use dpop::Dpop;
pub use platform::Platform;
use platform::{HttpRequest, HttpResponse};
pub use renewal::RETRY_AFTER_SECS;
use renewal::{RenewalState, TokenAccess, token_access};
use steps::NotSignedIn;

/// Where the session is.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AuthState {
    /// At start-up, until the configuration has loaded (or, on the callback route, until
    /// the exchange starts): whether anyone is signed in is not known yet. A protected page
    /// waits; a sign-in started meanwhile waits for the configuration.
    Starting,
    /// Nobody is signed in.
    SignedOut,
    /// This browser was signed in: a silent sign-in (`prompt=none`) is bringing the session
    /// back after a reload or in a new tab. Ends signed in, or quietly signed out.
    Restoring,
    /// On the way to the provider's sign-in page.
    Redirecting,
    /// Back from the provider, checking the response and exchanging the code.
    Exchanging,
    /// Signed in as this person.
    SignedIn(User),
    /// On the way to the provider's sign-out page.
    SigningOut,
    /// Sign-in failed with this error, or the session ended ([`AuthError::SessionExpired`]).
    Failed(AuthError),
}

/// The signed-in person. Starts from the ID token and is completed from UserInfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The provider's identifier for the person, `sub` (OpenID Connect Core §2); empty when
    /// neither an ID token nor UserInfo gave one.
    pub sub: String,
    /// The name to show, if the provider gave one: the `name` claim, or UserInfo's
    /// `preferred_username`.
    pub name: Option<String>,
    /// The person's email address (the `email` claim), if given; not necessarily verified.
    pub email: Option<String>,
    /// True once the UserInfo endpoint has answered (or there is none to ask).
    pub profile_loaded: bool,
}

impl User {
    /// The name to show: the person's name, else their email, else their subject id.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().or(self.email.as_deref()).unwrap_or(&self.sub)
    }

    fn from_userinfo(info: UserInfo) -> User {
        User { name: info.name.or(info.preferred_username), email: info.email, sub: info.sub, profile_loaded: true }
    }
}

/// What a protected page shows, decided from the state alone.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Guard {
    /// The page itself: someone is signed in.
    Open,
    /// An explanation of this failure, with a way to sign in again.
    Failed(AuthError),
    /// A question before signing in: the person signed out themselves in this page's life.
    AskToSignIn,
    /// Start sign-in now, coming back to this page.
    SignInNow,
    /// A status while the session is being restored.
    Restoring,
    /// A status while the state is on its way somewhere.
    Waiting,
}

impl Guard {
    /// The guard for `state`; `signed_out_by_user` as [`Session::signed_out_by_user`].
    pub fn of(state: &AuthState, signed_out_by_user: bool) -> Guard {
        match state {
            AuthState::SignedIn(_) => Guard::Open,
            AuthState::Failed(error) => Guard::Failed(error.clone()),
            AuthState::SignedOut if signed_out_by_user => Guard::AskToSignIn,
            AuthState::SignedOut => Guard::SignInNow,
            AuthState::Restoring => Guard::Restoring,
            AuthState::Starting | AuthState::Redirecting | AuthState::Exchanging | AuthState::SigningOut => {
                Guard::Waiting
            }
        }
    }
}

/// How long signing out waits for a renewal under way before leaving for the provider.
pub const SIGN_OUT_WAITS_MS: u32 = 5_000;

/// How long after a sign-in a reload or a new tab still tries to restore the session
/// silently. The provider's own session decides whether that works; this only bounds how
/// long a browser that was signed in keeps asking (one silent round trip when it no
/// longer works). 14 days: oidc-provider's default session lifetime.
pub const MARKER_LIFETIME_SECS: u64 = 14 * 24 * 3600;

/// Told of every state change.
type Observer = Rc<dyn Fn(&AuthState)>;

/// A result that every caller asking for it meanwhile awaits: one request, many waiters.
type SharedResult<T> = Shared<LocalBoxFuture<'static, Result<T, AuthError>>>;

/// What lives only in memory: the tokens above all.
#[derive(Default)]
struct Memory {
    /// Loaded once, whoever asks first: a sign-in started while start-up loads them (a
    /// protected page) waits for those loads instead of making its own.
    config: Loadable<ClientConfig>,
    metadata: Loadable<ProviderMetadata>,
    tokens: Option<TokenSet>,
    /// A silent restore in this page could not start its sign-in (a push refused or not
    /// answered): the page tries no second one.
    restore_failed: bool,
    /// The person signed out in this page's life (here or in another tab): a guard then
    /// asks before signing in again.
    signed_out_by_user: bool,
    /// The sign-out signal as this page last saw it (see `store::sign_out_signal`).
    sign_out_seen: Option<String>,
    /// Counts the renewal timers set: a timer acts only if no later one was set since.
    timer: u64,
    /// The renewal under way, which callers whose token has expired await: a second one
    /// would present a rotated refresh token, which the provider takes for theft and answers
    /// by revoking the grant (RFC 9700 §4.14.2).
    renewal: Option<SharedResult<String>>,
    /// The last renewal failed for a passing reason, at this time: callers in the next
    /// [`RETRY_AFTER_SECS`] get its error (or the access token, while it is still
    /// valid) instead of asking again.
    renewal_failed: Option<(u64, AuthError)>,
    /// How many renewals have brought tokens in this page's life.
    renewals: u64,
    /// When an API's `invalid_token` last made the session renew a token that was not due,
    /// and the count of renewals that renewal was to make (whether its token is current).
    renewed_for_a_rejection: Option<(u64, u64)>,
}

impl Memory {
    /// The refresh request (RFC 6749 §6) for the tokens held, with what its answer must
    /// satisfy and the metadata it goes with; `None` without tokens, a refresh token, or
    /// the provider's config and metadata.
    fn refresh_request(&self) -> Option<(TokenRequest, TokenExpectations, ProviderMetadata)> {
        let (config, metadata) = self.config.value.as_ref().zip(self.metadata.value.as_ref())?;
        let (request, expect) = refresh_request(metadata, config, self.tokens.as_ref()?)?;
        Some((request, expect, metadata.clone()))
    }
}

/// A value that is loaded once: the value, or its load while under way.
struct Loadable<T> {
    value: Option<T>,
    loading: Option<SharedResult<T>>,
}

impl<T> Default for Loadable<T> {
    fn default() -> Self {
        Loadable { value: None, loading: None }
    }
}

/// What [`Session::access_token`] does next.
#[allow(clippy::large_enum_variant)] // one short-lived value per call, never stored
enum Next {
    Ready(String),
    /// Wait for the renewal under way.
    Await(SharedResult<String>),
    /// Start a renewal; answer the current token, if it is still valid, without waiting.
    Renew((TokenRequest, TokenExpectations, ProviderMetadata), Option<String>),
    Fail(AuthError),
}

/// One tab's sign-in session. Cheap to clone: clones share the session. A load or renewal
/// under way holds a clone until it ends (it is stored in the session, so the two keep
/// each other alive that long); a page's session lives as long as the page anyway.
pub struct Session<P: Platform> {
    inner: Rc<Inner<P>>,
}

impl<P: Platform> core::fmt::Debug for Session<P> {
    /// The state only: the memory holds tokens.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session").field("state", &*self.inner.state.borrow()).finish_non_exhaustive()
    }
}

impl<P: Platform> Clone for Session<P> {
    fn clone(&self) -> Self {
        Session { inner: Rc::clone(&self.inner) }
    }
}

struct Inner<P: Platform> {
    platform: P,
    /// The key the tokens are bound to (RFC 9449), while the session holds DPoP-bound tokens.
    dpop: RefCell<Option<Rc<Dpop<P::ProofKey>>>>,
    config_url: String,
    /// [`Session::start`] has run: it runs once per page.
    started: Cell<bool>,
    state: RefCell<AuthState>,
    memory: RefCell<Memory>,
    /// Told of every state change (the UI's signal).
    observer: RefCell<Option<Observer>>,
}

impl<P: Platform> Session<P> {
    /// A session in [`AuthState::Starting`] that reads its configuration from
    /// `config_url` when [`Session::start`] runs.
    pub fn new(platform: P, config_url: &str) -> Self {
        Self::in_state(platform, config_url, AuthState::Starting)
    }

    /// A session already in `state`, which starts nothing: for tests of what reads it.
    pub(crate) fn in_state(platform: P, config_url: &str, state: AuthState) -> Self {
        Session {
            inner: Rc::new(Inner {
                platform,
                dpop: RefCell::new(None),
                config_url: config_url.to_owned(),
                started: Cell::new(false),
                state: RefCell::new(state),
                memory: RefCell::new(Memory::default()),
                observer: RefCell::new(None),
            }),
        }
    }

    /// The platform this session runs on.
    pub(crate) fn platform(&self) -> &P {
        &self.inner.platform
    }

    /// Calls `observer` with the new state after every change, in place of any observer
    /// set before. It runs synchronously inside the change: it must not call back into the
    /// session (a UI framework's signal set, which defers its effects, is what it is for).
    pub fn set_observer(&self, observer: impl Fn(&AuthState) + 'static) {
        *self.inner.observer.borrow_mut() = Some(Rc::new(observer));
    }

    /// The current state.
    pub fn state(&self) -> AuthState {
        self.inner.state.borrow().clone()
    }

    /// Whether the person signed out during this page's life, or this page is the
    /// provider's verified answer to this tab's sign-out.
    pub fn signed_out_by_user(&self) -> bool {
        self.memory(|m| m.signed_out_by_user)
    }

    /// The scopes this app asked for that the provider did not grant to the signed-in
    /// person's tokens (see [`TokenSet::withheld_scopes`]); empty when nobody is signed in.
    pub fn withheld_scopes(&self) -> Vec<String> {
        self.memory(|m| match (&m.tokens, &m.config.value) {
            (Some(tokens), Some(config)) => {
                tokens.withheld_scopes(&config.scope).into_iter().map(str::to_owned).collect()
            }
            _ => Vec::new(),
        })
    }

    /// Whether the tokens held are bound to this page's DPoP key (RFC 9449 §5): servers that
    /// check binding take them only with a proof, as [`Session::fetch`] sends.
    pub fn tokens_bound_to_key(&self) -> bool {
        self.memory(|m| m.tokens.as_ref().is_some_and(|tokens| tokens.dpop_bound))
    }

    fn memory<T>(&self, f: impl FnOnce(&mut Memory) -> T) -> T {
        f(&mut self.inner.memory.borrow_mut())
    }

    fn set_state(&self, state: AuthState) {
        self.update_state(|current| *current = state);
    }

    /// Changes the state, then tells the observer, with no borrow of the session held
    /// while it runs.
    fn update_state(&self, change: impl FnOnce(&mut AuthState)) {
        let state = {
            let mut current = self.inner.state.borrow_mut();
            change(&mut current);
            current.clone()
        };
        let observer = self.inner.observer.borrow().clone();
        if let Some(observer) = observer {
            observer(&state);
        }
    }

    /// Start-up: on the callback route, finishes the sign-in in progress; elsewhere, loads
    /// the configuration, restores the session if this browser was signed in (a silent
    /// sign-in, once per tab), and otherwise says nobody is signed in and warms the
    /// provider's metadata so that "Sign in" leaves at once when clicked. It runs once per
    /// page: a second call does nothing.
    pub async fn start(self) {
        if self.inner.started.replace(true) {
            return;
        }
        let platform = self.platform();
        self.memory(|m| m.sign_out_seen = store::sign_out_signal(platform));
        // The state of this tab's last sign-out at the provider is for this page only,
        // whatever this page is: it is checked below, or forgotten.
        let sign_out_state = store::take_sign_out_state(platform);
        // The tab's copy goes to the exchange; config.json is read beside it (`finish`).
        if let Some(config) = steps::config_for_callback(platform) {
            return self.finish(config).await;
        }
        // Known before the config loads, so the page never flashes "signed out" first.
        if self.may_restore() {
            self.set_state(AuthState::Restoring);
            // A reload: the config this tab signed in with (if the marker is its sign-in's)
            // sends the browser on at once, a round trip sooner than config.json would. The
            // callback takes in any change to config.json for the next reload.
            // Only a copy the marker fits: the copy never judges (and drops) a marker. Not
            // on the way back from a sign-out (another tab signed in meanwhile): that return
            // is checked, and its address cleaned, first.
            let cached = steps::cached_config(platform)
                .filter(|config| sign_out_state.is_none() && self.restorable_with(config));
            if let Some(config) = cached
                && self.restore(&config).await
            {
                return;
            }
        }
        let config = match self.config().await {
            Ok(config) => config,
            Err(error) => return self.set_state(AuthState::Failed(error)),
        };
        if platform.path() == config.callback_path() {
            return self.finish(config).await;
        }
        if let Some(state) = sign_out_state
            && steps::back_from_sign_out(platform, &config, &state)
        {
            self.memory(|m| m.signed_out_by_user = true);
        }
        self.forget_unreturned_restore(platform.came_back());
        if *self.inner.state.borrow() == AuthState::Restoring {
            if !self.memory(|m| m.restore_failed) {
                // config.json judges the marker: one it cannot restore with (another issuer
                // or client, expired, restoring off) goes.
                if !self.restorable_with(&config) {
                    store::forget_marker(platform);
                } else if self.restore(&config).await {
                    return;
                }
            }
            self.set_state(AuthState::SignedOut);
        }
        // Known now: nobody is signed in (unless a click started a sign-in meanwhile).
        if *self.inner.state.borrow() == AuthState::Starting {
            self.set_state(AuthState::SignedOut);
        }
        let _ = self.provider().await;
    }

    /// Back (by the browser's Back) off the callback route, with the marker this tab last
    /// left to restore with: that restore never came back (a provider that showed its login
    /// page instead of answering `prompt=none`). This browser's session cannot be restored
    /// silently, so the marker goes, and no other tab is sent to that page.
    fn forget_unreturned_restore(&self, came_back: bool) {
        let platform = self.platform();
        let left = store::restore_left(platform);
        if left.is_none() {
            return;
        }
        store::set_restore_left(platform, None);
        // A reload or a link while the restore was on its way is no verdict on it.
        if came_back && left == store::marker_text(platform) {
            store::forget_marker(platform);
        }
    }

    /// Whether there is a marker this tab has not yet tried to restore with.
    fn may_restore(&self) -> bool {
        let platform = self.platform();
        store::marker_text(platform).is_some_and(|marker| store::restore_tried(platform).as_ref() != Some(&marker))
    }

    /// The page was shown (it had been hidden): if nobody is signed in here but a sign-in in
    /// another tab left a new marker, this tab restores that session too.
    pub fn page_visible(&self) {
        if matches!(*self.inner.state.borrow(), AuthState::SignedIn(_)) {
            // Back from a long pause (a closed laptop): renew now if due, before a call needs it.
            return self.renew_if_due();
        }
        let signed_out =
            matches!(*self.inner.state.borrow(), AuthState::SignedOut | AuthState::Failed(AuthError::SessionExpired));
        if !signed_out || !self.may_restore() {
            return;
        }
        self.set_state(AuthState::Restoring);
        let session = self.clone();
        self.platform().spawn(Box::pin(async move {
            let restored = match session.config().await {
                Ok(config) => session.restore(&config).await,
                Err(_) => false,
            };
            if !restored && *session.inner.state.borrow() == AuthState::Restoring {
                session.set_state(AuthState::SignedOut);
            }
        }));
    }

    /// The page was hidden or shown (the browser's `visibilitychange`).
    pub fn visibility_changed(&self) {
        if !self.platform().page_hidden() {
            self.page_visible();
        }
    }

    /// Something in the storage the app's tabs share changed (the browser's `storage`
    /// event, which only other tabs get). A sign-out in another tab signs this one out too:
    /// its tokens are forgotten and its own refresh token revoked, and it stays here, signed
    /// out (only the tab that signed out goes to the provider's logout). A sign-in in another
    /// tab signs this one in at once if it is shown (else when it is). `key` is the key that
    /// changed (`None`: all of the storage was cleared); the app's own keys, and another tab
    /// keeping a DPoP nonce, change nothing here.
    pub fn shared_storage_changed(&self, key: Option<&str>) {
        if key.is_some_and(|key| !key.starts_with(store::NAMESPACE) || store::is_dpop_nonces_key(key)) {
            return;
        }
        self.check_sign_out_signal();
        self.visibility_changed();
    }

    /// Signs this page out if another tab signed out since it last looked.
    fn check_sign_out_signal(&self) {
        let platform = self.platform();
        let signal = store::sign_out_signal(platform);
        let changed = self.memory(|m| {
            let changed = m.sign_out_seen != signal;
            m.sign_out_seen = signal;
            changed
        });
        if !changed {
            return;
        }
        let signed_in = matches!(*self.inner.state.borrow(), AuthState::SignedIn(_));
        let (tokens, config, metadata) = self.memory(|m| {
            m.renewal_failed = None;
            m.signed_out_by_user |= signed_in;
            (m.tokens.take(), m.config.value.clone(), m.metadata.value.clone())
        });
        self.forget_dpop_key();
        if let (Some(config), Some(metadata), Some(tokens)) = (&config, &metadata, &tokens) {
            steps::revoke_refresh_token(platform, config, metadata, tokens);
        }
        if signed_in {
            self.set_state(AuthState::SignedOut);
        }
    }

    /// Restores the session with a silent sign-in (OpenID Connect Core §3.1.2.1,
    /// `prompt=none`), by a top-level redirect: no iframe, no third-party cookie. It comes
    /// back to this very page. False if there is nothing to restore or it could not start.
    /// It never drops a marker it cannot use: only config.json judges one (see `start`); a
    /// page may hold an older copy (see `finish`), and another tab's marker newer than it.
    async fn restore(&self, config: &ClientConfig) -> bool {
        let platform = self.platform();
        if !self.restorable_with(config) {
            return false;
        }
        let text = store::marker_text(platform);
        let Ok(metadata) = self.metadata(config).await else { return false };
        let return_to = platform.path_query_fragment();
        let url = match steps::start_sign_in(platform, config, &metadata, &return_to, true).await {
            Ok(url) => url,
            Err(error) => {
                self.memory(|m| m.restore_failed = true);
                // A verdict before the redirect (a pushed request refused, RFC 9126 §2.3), as
                // a refusal on the callback would be: this browser stops trying. A passing
                // fault (no answer) leaves the marker for a later page.
                if !error.is_transient() {
                    store::set_restore_tried(platform, text.as_deref());
                    store::forget_tried_marker(platform);
                }
                return false;
            }
        };
        // Once per tab and marker, whatever happens next: no answer from the provider can start
        // a loop (a new marker comes only from a sign-in that worked). Recorded as the tab
        // leaves, so that a restore that could not start counts as none.
        store::set_restore_tried(platform, text.as_deref());
        store::set_restore_left(platform, text.as_deref());
        store::set_restore_signal(platform, store::sign_out_signal(platform).as_deref());
        platform.navigate(&url);
        true
    }

    /// Whether two configs are for the same client at the same provider, coming back to the
    /// same place.
    fn same_client(a: &ClientConfig, b: &ClientConfig) -> bool {
        a.issuer == b.issuer && a.client_id == b.client_id && a.redirect_uri == b.redirect_uri
    }

    /// Whether the marker in shared storage is one `config` restores with: written for its
    /// issuer and client, not expired, and restoring is on.
    fn restorable_with(&self, config: &ClientConfig) -> bool {
        let now = self.platform().now_secs();
        config.restore_session
            && store::marker(self.platform()).is_some_and(|marker| {
                marker.issuer == config.issuer
                    && marker.client_id == config.client_id
                    && now < marker.expires_at
                    // No marker this app wrote lasts longer (a planted one might).
                    && marker.expires_at <= now.saturating_add(MARKER_LIFETIME_SECS + 60)
            })
    }

    /// The page came back from the back-forward cache (a persisted `pageshow`; not a first
    /// load). If it had left for the provider (to sign in, restore or sign out), it is not
    /// there, so it must not keep saying so. And it heard nothing while cached: a sign-out
    /// or a sign-in in another tab meanwhile is taken in now.
    pub fn page_shown(&self) {
        if *self.inner.state.borrow() == AuthState::Restoring {
            // A page from the back-forward cache was reached by Back or Forward.
            self.forget_unreturned_restore(true);
        }
        if matches!(*self.inner.state.borrow(), AuthState::Redirecting | AuthState::SigningOut | AuthState::Restoring) {
            self.set_state(AuthState::SignedOut);
        }
        self.shared_storage_changed(None);
    }

    /// The app's configuration.
    async fn config(&self) -> Result<ClientConfig, AuthError> {
        let session = self.clone();
        self.load_once(|m| &mut m.config, async move {
            steps::load_config(session.platform(), &session.inner.config_url).await
        })
        .await
    }

    /// The configuration and the provider's metadata.
    async fn provider(&self) -> Result<(ClientConfig, ProviderMetadata), AuthError> {
        let config = self.config().await?;
        let metadata = self.metadata(&config).await?;
        Ok((config, metadata))
    }

    /// The metadata of `config`'s provider.
    async fn metadata(&self, config: &ClientConfig) -> Result<ProviderMetadata, AuthError> {
        // Loaded for another issuer (a restore with an older copy of the config): not this one's.
        self.memory(|m| {
            if m.metadata.value.as_ref().is_some_and(|metadata| metadata.issuer != config.issuer) {
                m.metadata.value = None;
            }
        });
        let (session, config) = (self.clone(), config.clone());
        self.load_once(|m| &mut m.metadata, async move { steps::load_metadata(session.platform(), &config).await })
            .await
    }

    /// The value in `slot`; else the load under way for it; else `load`, which is then the
    /// one every caller waits for. A failed load is left to the next caller to try again.
    async fn load_once<T: Clone + 'static>(
        &self,
        slot: fn(&mut Memory) -> &mut Loadable<T>,
        load: impl Future<Output = Result<T, AuthError>> + 'static,
    ) -> Result<T, AuthError> {
        let session = self.clone();
        let pending = self.memory(|m| {
            let loadable = slot(m);
            if let Some(value) = &loadable.value {
                return Ok(value.clone());
            }
            let shared = loadable.loading.get_or_insert_with(|| {
                async move {
                    let outcome = load.await;
                    session.memory(|m| {
                        let loadable = slot(m);
                        loadable.loading = None;
                        if let Ok(value) = &outcome {
                            loadable.value = Some(value.clone());
                        }
                    });
                    outcome
                }
                .boxed_local()
                .shared()
            });
            Err(shared.clone())
        });
        match pending {
            Ok(value) => Ok(value),
            Err(loading) => loading.await,
        }
    }

    /// Signs in and comes back to the page the person is on (a protected page).
    pub fn sign_in_here(&self) {
        self.sign_in(&self.platform().path_query_fragment());
    }

    /// Signs in again after `failure`: after a session that ended, back to the page the
    /// person is on; after a sign-in that failed (on the callback route), home.
    pub fn sign_in_again(&self, failure: &AuthError) {
        match failure {
            AuthError::SessionExpired => self.sign_in_here(),
            _ => self.sign_in("/"),
        }
    }

    /// Sends the browser to the provider to sign in; afterwards the app comes back to
    /// `return_to` (a same-origin path; anything else means `/`).
    pub fn sign_in(&self, return_to: &str) {
        let session = self.clone();
        let return_to = return_to.to_owned();
        self.set_state(AuthState::Redirecting);
        self.platform().spawn(Box::pin(async move {
            let url = match session.provider().await {
                Ok((config, metadata)) => {
                    steps::start_sign_in(session.platform(), &config, &metadata, &return_to, false).await
                }
                Err(error) => Err(error),
            };
            match url {
                Ok(url) => session.platform().navigate(&url),
                Err(error) => session.set_state(AuthState::Failed(error)),
            }
        }));
    }

    /// On the callback route: checks the response, exchanges the code, shows the person
    /// from the ID token, then completes them from UserInfo.
    async fn finish(&self, config: ClientConfig) {
        let platform = self.platform();
        self.set_state(AuthState::Exchanging);
        let query = platform.query();
        // The response is read once; whatever the outcome, its code and state leave the
        // address bar and history now.
        platform.replace_path(config.callback_path());
        // The exchange goes by the tab's copy of the config, the one the authorization
        // request was made with; config.json is read beside it (index.html has preloaded it;
        // not read again if start-up had no copy and read it). Back from a silent restore,
        // which may have gone out with that copy (see `start`), it has the last word before
        // the session is taken up.
        let restoring = store::restore_left(platform).is_some();
        store::set_restore_left(platform, None);
        let (outcome, current_config) =
            futures::future::join(steps::finish_sign_in(platform, &config, &query), self.config()).await;
        // The app was redeployed for another provider or client, or restoring was turned off,
        // since this tab kept its copy (known if config.json could be read).
        let same_client = current_config.as_ref().is_ok_and(|current| Self::same_client(current, &config));
        let changed = current_config.as_ref().is_ok_and(|current| !same_client || !current.restore_session);
        // What serves this page from here on, whatever the outcome: config.json's config where
        // it names the same client and API origins as the copy the exchange went by (once the
        // callback has narrowed it, the page's policy allows only the copy's); otherwise the
        // copy (config.json unreadable, another client since the person clicked "Sign in",
        // other origins), and the next page load goes by config.json.
        let copy = config;
        let config = match current_config {
            Ok(current)
                if same_client
                    && current.api_origins == copy.api_origins
                    && current.extra_origins == copy.extra_origins =>
            {
                current
            }
            _ => copy.clone(),
        };
        self.memory(|m| m.config.value = Some(config.clone()));
        let signed_in = match outcome {
            Ok(signed_in) => signed_in,
            // A restore that did not work (the provider's session ended, or it would not
            // answer without a page: `login_required` and the like) is no error to show:
            // the person is back where they were, signed out, and this browser stops trying.
            Err(NotSignedIn { silent_return_to: Some(return_to), .. }) => {
                store::forget_restore_signal(platform);
                store::forget_tried_marker(platform);
                platform.replace_path(&return_to);
                return self.set_state(AuthState::SignedOut);
            }
            Err(failure) => return self.set_state(AuthState::Failed(failure.error)),
        };
        // Signed out in another tab while this one was away restoring: that sign-out stands.
        let signal_then = if signed_in.silent { store::restore_signal(platform) } else { None };
        store::forget_restore_signal(platform);
        if signed_in.silent && store::sign_out_signal(platform) != signal_then {
            steps::revoke_refresh_token(platform, &copy, &signed_in.metadata, &signed_in.tokens);
            store::forget_dpop_nonces(platform);
            platform.replace_path(&signed_in.return_to);
            return self.set_state(AuthState::SignedOut);
        }
        // A restore under a changed config.json is not taken up. A sign-in the person asked
        // for stands: its tokens are good for the client they were made for.
        if restoring && changed {
            steps::revoke_refresh_token(platform, &copy, &signed_in.metadata, &signed_in.tokens);
            store::forget_marker(platform);
            store::set_restore_tried(platform, None);
            platform.replace_path(&signed_in.return_to);
            return self.set_state(AuthState::SignedOut);
        }
        if config.restore_session {
            store::put_marker(
                platform,
                &store::SessionMarker {
                    issuer: config.issuer.clone(),
                    client_id: config.client_id.clone(),
                    expires_at: platform.now_secs().saturating_add(MARKER_LIFETIME_SECS),
                },
            );
        }
        store::set_restore_tried(platform, None);
        let claims = signed_in.tokens.id_claims.clone();
        let dpop = signed_in.dpop.map(Rc::new);
        *self.inner.dpop.borrow_mut() = dpop.clone();
        // The profile request leaves first (with DPoP, once its proof is signed, after the
        // paint), with the token fresh from the exchange (no renewal check needed): the
        // signed-in page then paints while it is in flight, instead of delaying it
        // (measured: 3-50 ms on the callback).
        let profile = steps::request_user(platform, &signed_in.metadata, signed_in.tokens.access_token.expose(), dpop);
        let user = User {
            sub: claims.as_ref().map(|c| c.sub.clone()).unwrap_or_default(),
            name: claims.as_ref().and_then(|c| c.name.clone()),
            email: claims.as_ref().and_then(|c| c.email.clone()),
            profile_loaded: signed_in.metadata.userinfo_endpoint.is_none(),
        };
        self.memory(|m| {
            m.metadata.value = Some(signed_in.metadata);
            m.tokens = Some(signed_in.tokens);
            m.signed_out_by_user = false;
        });
        platform.replace_path(&signed_in.return_to);
        self.set_state(AuthState::SignedIn(user));
        self.schedule_renewal();
        let sub = claims.map(|c| c.sub);
        let outcome = match profile {
            Ok(request) => steps::user_info(request, sub.as_deref()).await.map(User::from_userinfo),
            Err(error) => Err(error),
        };
        self.show_profile(&outcome);
    }

    /// A valid access token for the request at hand; never keep or store it. Once the
    /// token is due (see [`crate::oauth::RENEWAL_MARGIN_SECS`]) a renewal starts; while the
    /// token has not expired, callers get it at once and the renewal runs beside them; once
    /// it has, they wait for that one renewal and get its token. If the provider no longer
    /// renews the session, the tokens are forgotten, the state becomes
    /// `Failed(SessionExpired)` and this answers [`AuthError::SessionExpired`].
    pub async fn access_token(&self) -> Result<String, AuthError> {
        let now = self.platform().now_secs();
        let next = self.memory(|m| {
            let Some(tokens) = m.tokens.as_ref() else { return Next::Fail(AuthError::NotSignedIn) };
            let provider = m.config.value.as_ref().zip(m.metadata.value.as_ref());
            let renewal = RenewalState {
                in_flight: m.renewal.is_some(),
                last_failure: m.renewal_failed.as_ref().map(|(at, error)| (*at, error)),
                can_refresh: provider.is_some() && tokens.refresh_token.is_some(),
            };
            let current = || tokens.access_token.expose().to_owned();
            match token_access(tokens, renewal, now) {
                TokenAccess::Current => Next::Ready(current()),
                // Decided only when a renewal is in flight (`in_flight` above).
                TokenAccess::AwaitRenewal => {
                    m.renewal.clone().map_or(Next::Fail(AuthError::SessionExpired), Next::Await)
                }
                TokenAccess::CurrentAndRenew => match m.refresh_request() {
                    Some(refresh) => Next::Renew(refresh, Some(current())),
                    None => Next::Ready(current()),
                },
                TokenAccess::RenewAndWait => match m.refresh_request() {
                    Some(refresh) => Next::Renew(refresh, None),
                    None => Next::Fail(AuthError::SessionExpired),
                },
                TokenAccess::Fail(error) => Next::Fail(error),
            }
        });
        match next {
            Next::Ready(token) => Ok(token),
            Next::Await(renewal) => renewal.await,
            Next::Renew((request, expect, metadata), current) => {
                let renewal = self.renew(request, expect, metadata);
                match current {
                    Some(token) => Ok(token),
                    None => renewal.await,
                }
            }
            Next::Fail(AuthError::SessionExpired) => Err(self.end_session()),
            Next::Fail(error) => Err(error),
        }
    }

    /// Sends `request` to an API with the access token (RFC 6750 §2.1) and answers what came
    /// back, whatever its status. The token goes only to the app's own origin and to the
    /// config's `api_origins`: a request for anywhere else is not sent at all
    /// ([`AuthError::ApiOriginNotAllowed`]). The token is renewed first when due, as for
    /// [`Session::access_token`]. An answer saying the token itself is no good (401 with a
    /// `Bearer` or `DPoP` challenge `error="invalid_token"`, RFC 6750 §3.1, RFC 9449 §7.1:
    /// revoked, or expired early)
    /// gets one renewal and the request is sent once more with the new token. That 401 is
    /// answered as it came when no new token can be had: no refresh token, a renewal that
    /// failed for a passing reason (or failed within the last [`RETRY_AFTER_SECS`]), or a
    /// token that such a renewal brought within the last [`RETRY_AFTER_SECS`] (an API that
    /// refuses every token costs the provider one renewal per that time, not one per call).
    /// A refused renewal ends the session: [`AuthError::SessionExpired`]. An API on another
    /// origin must expose `WWW-Authenticate` to the page (`Access-Control-Expose-Headers`).
    /// No answer from the API is [`AuthError::ApiUnreachable`].
    pub async fn fetch(&self, request: &ApiRequest) -> Result<HttpResponse, AuthError> {
        let url = self.api_url(request.url()).await?;
        let token = self.access_token().await?;
        let response = self.send_to_api(request, &url, &token).await?;
        if !token_rejected(response.status, response.header("www-authenticate")) {
            return Ok(response);
        }
        match self.replace_rejected(&token).await {
            Ok(Some(renewed)) if renewed != token => self.send_to_api(request, &url, &renewed).await,
            Err(error @ (AuthError::SessionExpired | AuthError::NotSignedIn)) => Err(error),
            // No new token to be had: the API's answer stands.
            _ => Ok(response),
        }
    }

    async fn send_to_api(&self, request: &ApiRequest, url: &str, token: &str) -> Result<HttpResponse, AuthError> {
        let dpop = self.dpop_key();
        // Signed out meanwhile (a renewal or a retry was awaited): nothing is sent, and a
        // bound token never goes without its key.
        match self.memory(|m| m.tokens.as_ref().map(|tokens| tokens.dpop_bound)) {
            None => return Err(AuthError::NotSignedIn),
            Some(true) if dpop.is_none() => return Err(AuthError::NotSignedIn),
            Some(_) => {}
        }
        let api = HttpRequest::Api { request, url, token, proof: None };
        // (A request the browser refused to send is `ApiRequestInvalid` already.)
        dpop::send(self.platform(), dpop.as_deref(), api).await.map_err(|error| match error {
            AuthError::Network(detail) => AuthError::ApiUnreachable(detail),
            AuthError::Timeout => AuthError::ApiUnreachable("no answer in time".into()),
            other => other,
        })
    }

    /// `url` resolved against the page, if the access token may go there (RFC 9700 §4.10:
    /// a token only to the servers meant to get it).
    async fn api_url(&self, url: &str) -> Result<String, AuthError> {
        let config = self.config().await?;
        let platform = self.platform();
        let resolved = platform.resolve_url(url).ok_or_else(|| AuthError::ApiOriginNotAllowed(url.to_owned()))?;
        // `null`: a URL without an origin (data:, about:), even on a page whose own origin is null.
        let allowed = resolved.origin != "null"
            && (resolved.origin == platform.origin() || config.api_origins.contains(&resolved.origin));
        if allowed { Ok(resolved.href) } else { Err(AuthError::ApiOriginNotAllowed(resolved.origin)) }
    }

    /// A token in place of `rejected`, which an API refused: the one that replaced it
    /// meanwhile, else the renewal under way's, else a new renewal's, due or not. `None`
    /// when there is no way to renew, or no new renewal is to be asked for yet (see
    /// [`Session::fetch`]).
    async fn replace_rejected(&self, rejected: &str) -> Result<Option<String>, AuthError> {
        #[allow(clippy::large_enum_variant)] // one short-lived value per call, never stored
        enum Replacement {
            Ready(String),
            Await(SharedResult<String>),
            Renew(TokenRequest, TokenExpectations, ProviderMetadata),
            None,
        }
        let now = self.platform().now_secs();
        // (A clock set back since counts as long ago.)
        let recently = |at: u64| at <= now && now < at.saturating_add(RETRY_AFTER_SECS);
        let replacement = self.memory(|m| {
            let Some(tokens) = m.tokens.as_ref() else { return Err(AuthError::NotSignedIn) };
            if tokens.access_token.expose() != rejected {
                return Ok(Replacement::Ready(tokens.access_token.expose().to_owned()));
            }
            if let Some(renewal) = &m.renewal {
                return Ok(Replacement::Await(renewal.clone()));
            }
            let backing_off = m.renewal_failed.as_ref().is_some_and(|(at, _)| recently(*at));
            // The current token came from such a renewal moments ago: the API refuses them all.
            let just_forced = m.renewed_for_a_rejection.is_some_and(|(at, made)| recently(at) && made == m.renewals);
            if backing_off || just_forced {
                return Ok(Replacement::None);
            }
            let Some((request, expect, metadata)) = m.refresh_request() else {
                return Ok(Replacement::None);
            };
            m.renewed_for_a_rejection = Some((now, m.renewals + 1));
            Ok(Replacement::Renew(request, expect, metadata))
        })?;
        match replacement {
            Replacement::Ready(token) => Ok(Some(token)),
            Replacement::Await(renewal) => renewal.await.map(Some),
            Replacement::Renew(request, expect, metadata) => self.renew(request, expect, metadata).await.map(Some),
            Replacement::None => Ok(None),
        }
    }

    /// A setting of the app's own, from `config.json`'s `app` object; `None` if it has
    /// none by that name or the configuration did not load.
    pub async fn app_setting(&self, name: &str) -> Option<String> {
        self.config().await.ok()?.app.get(name).cloned()
    }

    /// Starts the one renewal (RFC 6749 §6) that callers share. It is driven on its own,
    /// so it runs to its end even if no caller waits for it: the old refresh token may be
    /// spent, so the answer must be kept.
    fn renew(
        &self,
        request: TokenRequest,
        expect: TokenExpectations,
        metadata: ProviderMetadata,
    ) -> SharedResult<String> {
        let session = self.clone();
        // A bound refresh token is presented with a proof of the same key (RFC 9449 §5),
        // taken now, with the decision to renew.
        let dpop = if expect.dpop { self.dpop_key() } else { None };
        let renewal = async move {
            let outcome =
                steps::request_tokens(session.platform(), &request, &expect, &metadata, dpop.as_deref()).await;
            let token = session.adopt_renewal(outcome, &metadata);
            session.schedule_renewal();
            token
        }
        .boxed_local()
        .shared();
        self.memory(|m| m.renewal = Some(renewal.clone()));
        self.platform().spawn(Box::pin(renewal.clone().map(drop)));
        renewal
    }

    /// Sets the renewal timer: the access token is renewed when due while the page is
    /// shown, so that an API call does not wait for a renewal in the common case. Without a
    /// way to renew, the timer ends the session when the token expires, rather than leave a
    /// signed-in page that no API accepts. After a passing failure, it tries again once the
    /// back-off is over.
    fn schedule_renewal(&self) {
        let platform = self.platform();
        let now = platform.now_secs();
        let Some((generation, at)) = self.memory(|m| {
            let tokens = m.tokens.as_ref()?;
            let at = if tokens.refresh_token.is_some() { tokens.renewal_due_at() } else { tokens.expires_at }?;
            let at = match &m.renewal_failed {
                Some((failed_at, _)) => at.max(failed_at.saturating_add(RETRY_AFTER_SECS)),
                None => at,
            };
            m.timer += 1;
            Some((m.timer, at))
        }) else {
            return;
        };
        // At least a second, so that a timer that finds nothing due cannot spin; at most what
        // setTimeout takes (2^31 - 1 ms, 24.8 days: it runs a longer wait at once).
        let wait_ms = at.saturating_sub(now).saturating_mul(1000).clamp(1000, i32::MAX as u64);
        let sleep = platform.sleep(wait_ms as u32);
        let session = self.clone();
        platform.spawn(Box::pin(async move {
            sleep.await;
            if session.memory(|m| m.timer) != generation || session.platform().page_hidden() {
                return;
            }
            let _ = session.access_token().await;
            // Nothing was due after all (the clock moved, a wait was capped), or nothing could
            // renew: set the timer again. A renewal under way sets it when it ends.
            if session.memory(|m| m.timer == generation && m.renewal.is_none()) {
                session.schedule_renewal();
            }
        }));
    }

    /// Renews the access token now if it is due (or ends the session if it has expired and
    /// cannot be renewed), in the background.
    fn renew_if_due(&self) {
        let session = self.clone();
        self.platform().spawn(Box::pin(async move {
            let _ = session.access_token().await;
        }));
    }

    /// Takes a renewal's outcome into the session; answers the access token to use.
    fn adopt_renewal(
        &self,
        outcome: Result<TokenSet, AuthError>,
        metadata: &ProviderMetadata,
    ) -> Result<String, AuthError> {
        let now = self.platform().now_secs();
        match outcome {
            Ok(new) => {
                // Signed out meanwhile: the tokens are gone and stay gone, and the refresh
                // token this answer brought is revoked rather than left alive at the
                // provider (RFC 7009).
                let (token, orphan) = self.memory(|m| {
                    m.renewal = None;
                    m.renewal_failed = None;
                    match m.tokens.take() {
                        Some(old) => {
                            m.renewals += 1;
                            let tokens = old.refreshed(new);
                            let token = tokens.access_token.expose().to_owned();
                            m.tokens = Some(tokens);
                            (Ok(token), None)
                        }
                        None => (Err(AuthError::NotSignedIn), m.config.value.clone().map(|config| (config, new))),
                    }
                });
                if let Some((config, orphan)) = orphan {
                    steps::revoke_refresh_token(self.platform(), &config, metadata, &orphan);
                }
                token
            }
            // The provider refused the grant, or its answer failed its checks.
            Err(error) if error.ends_session() => {
                self.memory(|m| m.renewal = None);
                Err(self.end_session())
            }
            // A passing fault: the session keeps its tokens, and its access token while it
            // is valid; a call after RETRY_AFTER_SECS tries again.
            Err(error) => self.memory(|m| {
                m.renewal = None;
                m.renewal_failed = Some((now, error.clone()));
                match &m.tokens {
                    Some(tokens) if !tokens.is_expired(now) => Ok(tokens.access_token.expose().to_owned()),
                    Some(_) => Err(error),
                    None => Err(AuthError::NotSignedIn),
                }
            }),
        }
    }

    /// The provider will not renew the session: forget the tokens and say so. A failure,
    /// not plain "signed out": a protected page then explains and offers to sign in again,
    /// rather than sending the person off to the provider by itself.
    fn end_session(&self) -> AuthError {
        self.memory(|m| {
            m.tokens = None;
            m.renewal_failed = None;
        });
        self.forget_dpop_key();
        if matches!(*self.inner.state.borrow(), AuthState::SignedIn(_)) {
            self.set_state(AuthState::Failed(AuthError::SessionExpired));
        }
        AuthError::SessionExpired
    }

    /// The key this session's tokens are bound to, if they are (RFC 9449).
    fn dpop_key(&self) -> Option<Rc<Dpop<P::ProofKey>>> {
        self.inner.dpop.borrow().clone()
    }

    /// Drops the key with the tokens it bound: nothing in this page can prove it any more.
    /// (A renewal under way keeps its own reference until it ends.) The kept nonces
    /// go with it.
    fn forget_dpop_key(&self) {
        match self.inner.dpop.borrow_mut().take() {
            Some(dpop) => dpop.retire(self.platform()),
            None => store::forget_dpop_nonces(self.platform()),
        }
    }

    /// Asks the UserInfo endpoint for the person again (an API call with the access
    /// token) and updates the state with the answer.
    pub async fn reload_profile(&self) -> Result<User, AuthError> {
        let outcome = async {
            let (_, metadata) = self.provider().await?;
            let token = self.access_token().await?;
            let sub = self.memory(|m| m.tokens.as_ref().and_then(|t| t.id_claims.as_ref()).map(|c| c.sub.clone()));
            let dpop = self.dpop_key();
            steps::load_user(self.platform(), &metadata, &token, dpop, sub.as_deref()).await.map(User::from_userinfo)
        }
        .await;
        self.show_profile(&outcome);
        outcome
    }

    /// Shows a UserInfo outcome, if still signed in (the person may have signed out
    /// meanwhile). On failure the person stays signed in as the ID token says, and
    /// nothing keeps saying "loading".
    fn show_profile(&self, outcome: &Result<User, AuthError>) {
        if !matches!(*self.inner.state.borrow(), AuthState::SignedIn(_)) {
            return;
        }
        self.update_state(|state| {
            if let AuthState::SignedIn(user) = state {
                match outcome {
                    Ok(loaded) => *user = loaded.clone(),
                    Err(_) => user.profile_loaded = true,
                }
            }
        });
    }

    /// Forgets the tokens, revokes the refresh token (RFC 7009) when the provider can, and,
    /// when the provider supports it, ends the provider's session too (RP-Initiated
    /// Logout), which comes back to the app's signed-out home page.
    ///
    /// A renewal under way is waited for first, up to [`SIGN_OUT_WAITS_MS`]: leaving the
    /// page would drop its answer, and with it a rotated refresh token that then stays
    /// alive at the provider; once it arrives, it is revoked too.
    pub fn sign_out(&self) {
        if *self.inner.state.borrow() == AuthState::SigningOut {
            return; // already on the way (a second click)
        }
        let platform = self.platform();
        // The marker goes before the signal changes: another tab hearing the signal must find
        // no marker to restore from.
        store::forget_marker(platform);
        let signal = store::signal_sign_out(platform);
        let (tokens, config, metadata, renewal) = self.memory(|m| {
            m.sign_out_seen = Some(signal);
            m.signed_out_by_user = true;
            m.renewal_failed = None;
            (m.tokens.take(), m.config.value.clone(), m.metadata.value.clone(), m.renewal.clone())
        });
        self.forget_dpop_key();
        // The state first: the page shows "Signing out" while the browser leaves.
        self.set_state(AuthState::SigningOut);
        let platform = self.platform();
        if let (Some(config), Some(metadata), Some(tokens)) = (&config, &metadata, &tokens) {
            steps::revoke_refresh_token(platform, config, metadata, tokens);
        }
        let session = self.clone();
        let leave = move || {
            let platform = session.platform();
            let left = match (&config, &metadata) {
                (Some(config), Some(metadata)) => {
                    steps::sign_out_at_provider(platform, config, metadata, tokens.as_ref())
                }
                _ => false,
            };
            if !left {
                platform.replace_path("/");
                session.set_state(AuthState::SignedOut);
            }
        };
        match renewal {
            Some(renewal) => {
                let wait = platform.sleep(SIGN_OUT_WAITS_MS);
                platform.spawn(Box::pin(async move {
                    futures::future::select(renewal, wait).await;
                    leave();
                }));
            }
            None => leave(),
        }
    }
}
