//! The auth module's Leptos face: one state the UI reads, a handle to act on it, and a
//! guard for protected routes. Router-agnostic: it changes the URL through the History
//! API and announces it with `popstate`, which every router listens to.

use futures::FutureExt;
use futures::future::LocalBoxFuture;
use leptos::either::EitherOf4;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::browser::location;
use super::flow;
use super::oauth::{
    AuthError, ClientConfig, ProviderMetadata, TokenExpectations, TokenRequest, TokenSet, UserInfo, refresh_request,
};
use super::session::{RenewalState, TokenAccess, token_access};

/// Everything the UI needs to know about sign-in.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthState {
    /// At start-up, until the configuration has loaded (or, on the callback route, until
    /// the exchange starts): whether anyone is signed in is not known yet. A protected page
    /// waits; a sign-in started meanwhile waits for the configuration.
    Starting,
    /// Nobody is signed in.
    SignedOut,
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

/// A result that every caller asking for it meanwhile awaits: one request, many waiters.
type SharedResult<T> = futures::future::Shared<LocalBoxFuture<'static, Result<T, AuthError>>>;

/// What lives only in memory: the tokens above all.
#[derive(Default)]
struct Memory {
    /// Loaded once, whoever asks first: a sign-in started while start-up loads them (a
    /// protected page) waits for those loads instead of making its own.
    config: Loadable<ClientConfig>,
    metadata: Loadable<ProviderMetadata>,
    tokens: Option<TokenSet>,
    /// The person signed out in this page's life: a guard then asks before signing in again.
    signed_out_by_user: bool,
    /// The renewal under way, which callers whose token has expired await: a second one
    /// would present a rotated refresh token, which the provider takes for theft and answers
    /// by revoking the grant (RFC 9700 §4.14.2).
    renewal: Option<SharedResult<String>>,
    /// The last renewal failed for a passing reason, at this time: callers in the next
    /// [`super::session::RETRY_AFTER_SECS`] get its error (or the access token, while it is still valid)
    /// instead of asking again.
    renewal_failed: Option<(u64, AuthError)>,
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

/// A handle to sign-in: cheap to copy, available anywhere below [`provide_auth`].
#[derive(Clone, Copy)]
pub struct Auth {
    state: RwSignal<AuthState>,
    /// Local: it holds futures, which stay on the page's one thread.
    memory: StoredValue<Memory, LocalStorage>,
    config_url: StoredValue<String>,
}

/// What [`Auth::access_token`] does next.
#[allow(clippy::large_enum_variant)] // one short-lived value per call, never stored
enum Next {
    Ready(String),
    /// Wait for the renewal under way.
    Await(SharedResult<String>),
    /// Start a renewal; answer the current token, if it is still valid, without waiting.
    Renew((TokenRequest, TokenExpectations, ProviderMetadata), Option<String>),
    Fail(AuthError),
}

/// Sets up sign-in for the app and returns the handle (also provided as context). On
/// the callback route it finishes the sign-in in progress. `config_url` is where the
/// deployed `config.json` is served, usually `"/config.json"`.
pub fn provide_auth(config_url: &str) -> Auth {
    let auth = Auth {
        state: RwSignal::new(AuthState::Starting),
        memory: StoredValue::new_local(Memory::default()),
        config_url: StoredValue::new(config_url.to_owned()),
    };
    provide_context(auth);
    // A page restored from the back-forward cache after leaving for the provider would
    // otherwise keep saying "Redirecting".
    let _ = window_event_listener(leptos::ev::pageshow, move |_| {
        if matches!(auth.state.get_untracked(), AuthState::Redirecting | AuthState::SigningOut) {
            auth.state.set(AuthState::SignedOut);
        }
    });
    start_now(auth.start());
    auth
}

/// Runs `future` up to its first wait at once, then leaves the rest to the executor. On the
/// callback route that first stretch sends the token request, which is then in flight
/// while the page renders, instead of queued behind that first render (measured: it left
/// 20-25 ms later). The wakers of this first poll are dropped; the executor's first poll
/// registers its own before any fetch can answer (answers arrive in later tasks).
fn start_now(future: impl Future<Output = ()> + 'static) {
    let mut future = Box::pin(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    if future.as_mut().poll(&mut context).is_pending() {
        spawn_local(future);
    }
}

/// Provides an [`Auth`] that is already in `state` and starts nothing (no config, no
/// network): for testing components that read the auth context. Only with the
/// `test-hooks` feature, which only tests enable.
#[cfg(feature = "test-hooks")]
pub fn provide_auth_in_state(state: AuthState) -> Auth {
    let auth = Auth {
        state: RwSignal::new(state),
        memory: StoredValue::new_local(Memory::default()),
        config_url: StoredValue::new(String::new()),
    };
    provide_context(auth);
    auth
}

/// The [`Auth`] handle provided by [`provide_auth`].
pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}

impl Auth {
    /// The current state (tracked: reading it in a view re-renders on change).
    pub fn state(&self) -> AuthState {
        self.state.get()
    }

    /// The signed-in person, if any (tracked).
    pub fn user(&self) -> Option<User> {
        self.state.with(|s| match s {
            AuthState::SignedIn(user) => Some(user.clone()),
            _ => None,
        })
    }

    /// Whether the person signed out during this page's life.
    pub fn signed_out_by_user(&self) -> bool {
        self.memory.with_value(|m| m.signed_out_by_user)
    }

    /// A valid access token for an `Authorization: Bearer` header. Use it for the request at
    /// hand; do not keep or store it. Once the token is due (see
    /// [`super::oauth::RENEWAL_MARGIN_SECS`]) a renewal starts; while the token has not
    /// expired, callers get it at once and the renewal runs beside them; once it has, they
    /// wait for that one renewal and get its token. If the provider no longer renews the
    /// session, the person is signed out and this answers [`AuthError::SessionExpired`].
    pub async fn access_token(&self) -> Result<String, AuthError> {
        let now = super::browser::now_secs();
        let next = self
            .memory
            .try_update_value(|m| {
                let Some(tokens) = m.tokens.as_ref() else { return Next::Fail(AuthError::NotSignedIn) };
                let provider = m.config.value.as_ref().zip(m.metadata.value.as_ref());
                let renewal = RenewalState {
                    in_flight: m.renewal.is_some(),
                    last_failure: m.renewal_failed.as_ref().map(|(at, error)| (*at, error)),
                    can_refresh: provider.is_some() && tokens.refresh_token.is_some(),
                };
                let current = || tokens.access_token.expose().to_owned();
                let refresh = || {
                    let (config, metadata) = provider?;
                    refresh_request(metadata, config, tokens).map(|(r, e)| (r, e, metadata.clone()))
                };
                match token_access(tokens, renewal, now) {
                    TokenAccess::Current => Next::Ready(current()),
                    // Decided only when a renewal is in flight (`in_flight` above).
                    TokenAccess::AwaitRenewal => {
                        m.renewal.clone().map_or(Next::Fail(AuthError::SessionExpired), Next::Await)
                    }
                    TokenAccess::CurrentAndRenew => match refresh() {
                        Some(refresh) => Next::Renew(refresh, Some(current())),
                        None => Next::Ready(current()),
                    },
                    TokenAccess::RenewAndWait => match refresh() {
                        Some(refresh) => Next::Renew(refresh, None),
                        None => Next::Fail(AuthError::SessionExpired),
                    },
                    TokenAccess::Fail(error) => Next::Fail(error),
                }
            })
            .unwrap_or(Next::Fail(AuthError::NotSignedIn));
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

    /// Starts the one renewal (RFC 6749 §6) that callers share. It is driven on its own,
    /// so it runs to its end even if no caller waits for it: the old refresh token may be
    /// spent, so the answer must be kept.
    fn renew(
        self,
        request: TokenRequest,
        expect: TokenExpectations,
        metadata: ProviderMetadata,
    ) -> SharedResult<String> {
        let renewal = async move {
            let outcome = flow::request_tokens(&request, &expect, &metadata).await;
            self.adopt_renewal(outcome, &metadata)
        }
        .boxed_local()
        .shared();
        self.memory.update_value(|m| m.renewal = Some(renewal.clone()));
        spawn_local(renewal.clone().map(drop));
        renewal
    }

    /// Takes a renewal's outcome into the session; answers the access token to use.
    fn adopt_renewal(
        &self,
        outcome: Result<TokenSet, AuthError>,
        metadata: &ProviderMetadata,
    ) -> Result<String, AuthError> {
        let now = super::browser::now_secs();
        match outcome {
            Ok(new) => {
                // Signed out meanwhile: the tokens are gone and stay gone, and the refresh
                // token this answer brought is revoked rather than left alive at the
                // provider (RFC 7009).
                let (token, orphan) = self
                    .memory
                    .try_update_value(|m| {
                        m.renewal = None;
                        m.renewal_failed = None;
                        match m.tokens.take() {
                            Some(old) => {
                                let tokens = old.refreshed(new);
                                let token = tokens.access_token.expose().to_owned();
                                m.tokens = Some(tokens);
                                (Ok(token), None)
                            }
                            None => (Err(AuthError::NotSignedIn), m.config.value.clone().map(|config| (config, new))),
                        }
                    })
                    .unwrap_or((Err(AuthError::NotSignedIn), None));
                if let Some((config, orphan)) = orphan {
                    flow::revoke_refresh_token(&config, metadata, &orphan);
                }
                token
            }
            // The provider refused the grant, or its answer failed its checks.
            Err(error) if error.ends_session() => {
                self.memory.update_value(|m| m.renewal = None);
                Err(self.end_session())
            }
            // A passing fault: the session keeps its tokens, and its access token while it
            // is valid; a call after session::RETRY_AFTER_SECS tries again.
            Err(error) => self
                .memory
                .try_update_value(|m| {
                    m.renewal = None;
                    m.renewal_failed = Some((now, error.clone()));
                    match &m.tokens {
                        Some(tokens) if !tokens.is_expired(now) => Ok(tokens.access_token.expose().to_owned()),
                        Some(_) => Err(error),
                        None => Err(AuthError::NotSignedIn),
                    }
                })
                .unwrap_or(Err(AuthError::NotSignedIn)),
        }
    }

    /// The provider will not renew the session: forget the tokens and say so. A failure,
    /// not plain "signed out": a protected page then explains and offers to sign in again,
    /// rather than sending the person off to the provider by itself.
    fn end_session(&self) -> AuthError {
        self.memory.update_value(|m| {
            m.tokens = None;
            m.renewal_failed = None;
        });
        if matches!(self.state.get_untracked(), AuthState::SignedIn(_)) {
            self.state.set(AuthState::Failed(AuthError::SessionExpired));
        }
        AuthError::SessionExpired
    }

    async fn start(self) {
        if let Some(config) = flow::config_for_callback(&location::origin(), &location::path()) {
            self.memory.update_value(|m| m.config.value = Some(config.clone()));
            return self.finish(config).await;
        }
        let config = match self.config().await {
            Ok(config) => config,
            Err(error) => return self.state.set(AuthState::Failed(error)),
        };
        if location::path() == config.callback_path() {
            self.finish(config).await;
        } else {
            // Known now: nobody is signed in (unless a click started a sign-in meanwhile).
            if self.state.get_untracked() == AuthState::Starting {
                self.state.set(AuthState::SignedOut);
            }
            // Warm the metadata now, so that "Sign in" leaves at once when clicked.
            let _ = self.provider().await;
        }
    }

    /// The app's configuration.
    async fn config(&self) -> Result<ClientConfig, AuthError> {
        let url = self.config_url.get_value();
        self.load_once(|m| &mut m.config, async move { flow::load_config(&url, &location::origin()).await }).await
    }

    /// The configuration and the provider's metadata.
    async fn provider(&self) -> Result<(ClientConfig, ProviderMetadata), AuthError> {
        let config = self.config().await?;
        let for_config = config.clone();
        let metadata =
            self.load_once(|m| &mut m.metadata, async move { flow::load_metadata(&for_config).await }).await?;
        Ok((config, metadata))
    }

    /// The value in `slot`; else the load under way for it; else `load`, which is then the
    /// one every caller waits for. A failed load is left to the next caller to try again.
    async fn load_once<T: Clone + 'static>(
        &self,
        slot: fn(&mut Memory) -> &mut Loadable<T>,
        load: impl Future<Output = Result<T, AuthError>> + 'static,
    ) -> Result<T, AuthError> {
        let memory = self.memory;
        let pending = memory.try_update_value(|m| {
            let loadable = slot(m);
            if let Some(value) = &loadable.value {
                return Ok(value.clone());
            }
            let shared = loadable.loading.get_or_insert_with(|| {
                async move {
                    let outcome = load.await;
                    memory.update_value(|m| {
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
            Some(Ok(value)) => Ok(value),
            Some(Err(loading)) => loading.await,
            None => Err(AuthError::NotSignedIn),
        }
    }

    /// Sends the browser to the provider to sign in; afterwards the app comes back to
    /// `return_to` (a same-origin path; anything else means `/`).
    pub fn sign_in(&self, return_to: &str) {
        let auth = *self;
        let return_to = return_to.to_owned();
        self.state.set(AuthState::Redirecting);
        spawn_local(async move {
            let url = match auth.provider().await {
                Ok((config, metadata)) => flow::start_sign_in(&config, &metadata, &return_to),
                Err(error) => Err(error),
            };
            match url {
                Ok(url) => location::go_to(&url),
                Err(error) => auth.state.set(AuthState::Failed(error)),
            }
        });
    }

    async fn finish(self, config: ClientConfig) {
        self.state.set(AuthState::Exchanging);
        let query = location::query();
        // The response is read once; whatever the outcome, its code and state leave the
        // address bar and history now.
        location::replace_path(config.callback_path());
        match flow::finish_sign_in(&config, &query).await {
            Ok(signed_in) => {
                let claims = signed_in.tokens.id_claims.clone();
                // The profile request leaves first, with the token fresh from the exchange
                // (no renewal check needed): the signed-in page then paints while it is in
                // flight, instead of delaying it (measured: 3-50 ms on the callback).
                let profile = flow::request_user(&signed_in.metadata, signed_in.tokens.access_token.expose());
                let user = User {
                    sub: claims.as_ref().map(|c| c.sub.clone()).unwrap_or_default(),
                    name: claims.as_ref().and_then(|c| c.name.clone()),
                    email: claims.as_ref().and_then(|c| c.email.clone()),
                    profile_loaded: signed_in.metadata.userinfo_endpoint.is_none(),
                };
                self.memory.update_value(|m| {
                    m.metadata.value = Some(signed_in.metadata);
                    m.tokens = Some(signed_in.tokens);
                    m.signed_out_by_user = false;
                });
                location::replace_path(&signed_in.return_to);
                self.state.set(AuthState::SignedIn(user));
                let sub = claims.map(|c| c.sub);
                let outcome = match profile {
                    Ok(request) => flow::user_info(request, sub.as_deref()).await.map(User::from_userinfo),
                    Err(error) => Err(error),
                };
                self.show_profile(&outcome);
            }
            Err(error) => self.state.set(AuthState::Failed(error)),
        }
    }

    /// Asks the UserInfo endpoint for the person again (an API call with the access
    /// token) and updates the state with the answer.
    pub async fn reload_profile(&self) -> Result<User, AuthError> {
        let outcome = async {
            let (_, metadata) = self.provider().await?;
            let token = self.access_token().await?;
            let sub =
                self.memory.with_value(|m| m.tokens.as_ref().and_then(|t| t.id_claims.as_ref()).map(|c| c.sub.clone()));
            flow::load_user(&metadata, &token, sub.as_deref()).await.map(User::from_userinfo)
        }
        .await;
        self.show_profile(&outcome);
        outcome
    }

    /// Shows a UserInfo outcome, if still signed in (the person may have signed out
    /// meanwhile). On failure the person stays signed in as the ID token says, and
    /// nothing keeps saying "loading".
    fn show_profile(&self, outcome: &Result<User, AuthError>) {
        if !matches!(self.state.get_untracked(), AuthState::SignedIn(_)) {
            return;
        }
        self.state.update(|state| {
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
    /// A renewal under way is waited for first, up to 5 s (`SIGN_OUT_WAITS_MS`): leaving the
    /// page would drop its answer, and with it a rotated refresh token that then stays
    /// alive at the provider; once it arrives, it is revoked too.
    pub fn sign_out(&self) {
        if self.state.get_untracked() == AuthState::SigningOut {
            return; // already on the way (a second click)
        }
        let (tokens, config, metadata, renewal) = self
            .memory
            .try_update_value(|m| {
                m.signed_out_by_user = true;
                m.renewal_failed = None;
                (m.tokens.take(), m.config.value.clone(), m.metadata.value.clone(), m.renewal.clone())
            })
            .unwrap_or_default();
        // The state first: the page shows "Signing out" while the browser leaves.
        self.state.set(AuthState::SigningOut);
        if let (Some(config), Some(metadata), Some(tokens)) = (&config, &metadata, &tokens) {
            flow::revoke_refresh_token(config, metadata, tokens);
        }
        let state = self.state;
        let leave = move || {
            let left = match (&config, &metadata) {
                (Some(config), Some(metadata)) => flow::sign_out_at_provider(config, metadata, tokens.as_ref()),
                _ => false,
            };
            if !left {
                location::replace_path("/");
                state.set(AuthState::SignedOut);
            }
        };
        match renewal {
            Some(renewal) => spawn_local(async move {
                futures::future::select(renewal, Box::pin(super::browser::sleep(SIGN_OUT_WAITS_MS))).await;
                leave();
            }),
            None => leave(),
        }
    }
}

/// How long signing out waits for a renewal under way before leaving for the provider.
const SIGN_OUT_WAITS_MS: u32 = 5_000;

/// Shows `children` only to a signed-in person. Signed out, it starts sign-in and comes
/// back to this page afterwards; if the person signed out themselves, it asks first.
#[component]
pub fn RequireAuth(children: ChildrenFn) -> impl IntoView {
    let auth = use_auth();
    // What the guard shows changes only with this, not with every state change: a
    // profile update must not rebuild the protected page (and lose its own state).
    let gate = Memo::new(move |_| match auth.state() {
        AuthState::SignedIn(_) => Gate::Open,
        AuthState::Failed(error) => Gate::Failed(error),
        AuthState::SignedOut if auth.signed_out_by_user() => Gate::AskToSignIn,
        AuthState::SignedOut => Gate::SignInNow,
        _ => Gate::Waiting,
    });
    Effect::new(move |_| {
        if gate.get() == Gate::SignInNow {
            auth.sign_in(&location::path_query_fragment());
        }
    });
    move || match gate.get() {
        Gate::Open => EitherOf4::A(children()),
        Gate::Failed(error) => EitherOf4::B(view! { <AuthFailure error/> }),
        Gate::AskToSignIn => EitherOf4::C(view! {
            <section class="card">
                <p>"You are signed out. Sign in to see this page."</p>
                <button class="primary" on:click=move |_| auth.sign_in(&location::path_query_fragment())>"Sign in"</button>
            </section>
        }),
        Gate::SignInNow | Gate::Waiting => {
            EitherOf4::D(view! { <p class="status" role="status">"Taking you to sign in…"</p> })
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Gate {
    Open,
    Failed(AuthError),
    AskToSignIn,
    SignInNow,
    Waiting,
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
            <p class="message">{error.message()}</p>
            <button class="primary" on:click=move |_| auth.sign_in(&return_to)>{action}</button>
        </section>
    }
}
