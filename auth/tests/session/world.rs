//! The outside world of the native session tests: a browser (tabs, each with its address
//! bar and its sessionStorage that survives page loads; localStorage; a clock and timers) and an OpenID provider that answers as a
//! real one does: discovery, ES256-signed ID tokens, PKCE and `redirect_uri` checked,
//! refresh tokens rotated and a spent one taken for theft (the grant ends), revocation
//! ending the grant, UserInfo refusing expired tokens. Faults are scripted per request.
//! Nothing here stands in for the crate's own modules: the session under test runs its
//! real steps against these answers.
//!
//! Answers arrive in a later turn of the executor, as fetch's do; [`World::settle`] runs
//! tasks and delivers answers until neither has anything left. Every scripted fault must be
//! used by the end of a test, or the world panics when dropped.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use futures::FutureExt;
use futures::channel::oneshot;
use futures::executor::{LocalPool, LocalSpawner};
use futures::future::LocalBoxFuture;
use futures::task::LocalSpawnExt;
use leptos_oidc_auth::oauth::dpop::PublicJwk;
use leptos_oidc_auth::oauth::{AuthError, SignatureCheck};
use leptos_oidc_auth::session::ApiRequest;
use leptos_oidc_auth::session::platform::{
    HttpRequest, HttpResponse, InFlight, Platform, REQUEST_TIME_LIMIT_MS, ResolvedUrl,
};
use leptos_oidc_auth::{AuthState, Session};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use sha2::Digest;

pub const ORIGIN: &str = "https://app.example";
pub const ISSUER: &str = "https://id.example";
pub const CLIENT_ID: &str = "spa";
/// A resource server the app's config lists in `api_origins` when a test says so.
pub const API: &str = "https://api.example";
/// The clock at the start of every test.
pub const T0: u64 = 1_800_000_000;
/// How long the provider's access tokens live, unless a test says otherwise.
pub const TTL: u64 = 600;

/// What a request reached: one of the provider's endpoints, or the app's config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Config,
    /// OpenID Connect Discovery §4.
    Discovery,
    /// RFC 8414 §3, tried when the first fails.
    Discovery8414,
    Keys,
    CodeExchange,
    Refresh,
    UserInfo,
    Revocation,
    /// The resource server (on [`API`], or under `/api/` on the app's own origin).
    Api,
    /// A pushed authorization request (RFC 9126).
    Par,
    /// The tab went to the authorization endpoint.
    Authorize,
    /// The tab went to the end-session endpoint.
    Logout,
    Other,
}

/// What happens to the next request to an endpoint instead of its plain answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// This answer instead of the real one; the provider does nothing.
    Answer(u16, &'static str),
    /// The request never reaches the provider: a dead server's failure.
    NetworkDown,
    /// The request never reaches the provider and nothing comes back: the platform gives up
    /// after its time limit.
    NoAnswer,
    /// The provider does its work (a refresh token rotates), but the answer is lost.
    AnswerLost,
    /// The provider does its work and its answer waits for [`World::release`].
    Held,
    /// This answer instead of the real one, waiting for [`World::release`].
    HeldAnswer(u16, &'static str),
    /// A resource server's 401 saying the token is no good (RFC 6750 §3.1), whatever the
    /// token.
    InvalidToken,
    /// This status with this `WWW-Authenticate` challenge, instead of the real answer.
    Challenge(u16, &'static str),
    /// The browser refuses to send the request as built (a header name it will not send):
    /// nothing leaves.
    RefusedBeforeSending,
    /// An authorization server's request for a DPoP nonce (RFC 9449 §8): 400
    /// `use_dpop_nonce` with this `DPoP-Nonce`, whatever the proof.
    UseDpopNonce(&'static str),
    /// An authorization server's refusal of the proof (400 `invalid_dpop_proof`), with this
    /// `DPoP-Nonce` if given, whatever the proof.
    InvalidDpopProof(Option<&'static str>),
}

/// A request as the provider saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub endpoint: Endpoint,
    /// The HTTP method (`GET` for a navigation).
    pub method: String,
    pub url: String,
    /// The form fields of a POST, or the query of a navigation.
    pub form: BTreeMap<String, String>,
    pub bearer: Option<String>,
    /// An API request as the app made it.
    pub api: Option<ApiRequest>,
    /// The DPoP proof it carried (RFC 9449 §4.1); its access token then went as
    /// `Authorization: DPoP`.
    pub proof: Option<String>,
}

/// The authorization server's own state.
struct ProviderState {
    /// Authorization codes not yet used: code → (code_challenge, nonce, redirect_uri).
    codes: BTreeMap<String, (String, String, String)>,
    /// The refresh token that is valid now; any earlier one is spent. None once the grant
    /// ended (revoked, or a spent token presented).
    live_refresh_token: Option<String>,
    /// Access tokens issued, in order, with their expiry; all die with the grant.
    access_tokens: Vec<(String, u64)>,
    id_tokens: Vec<String>,
    /// Refresh tokens revoked while live.
    revoked: Vec<String>,
    issued: u32,
    faults: Vec<(Endpoint, Fault)>,
    /// Whether refreshes bring a new ID token (oidc-provider's do).
    id_token_on_refresh: bool,
    /// Whether refreshes bring a new refresh token.
    rotates: bool,
    /// Whether the answer carries `expires_in`.
    gives_lifetime: bool,
    /// Whether a sign-in brings a refresh token at all.
    issues_refresh_tokens: bool,
    sub: String,
    access_token_ttl: u64,
    /// The `scope` the token answers state, if any (absent: all that was asked).
    granted_scope: Option<&'static str>,
    /// Pushed authorization requests: not offered (None), offered, or required.
    par: Option<bool>,
    /// The pushed requests not yet used, by their `request_uri`.
    pushed: BTreeMap<String, BTreeMap<String, String>>,
    end_session_endpoint: bool,
    /// How far the provider's clock is ahead of the tab's, in seconds.
    clock_ahead: i64,
    /// The person is signed in at the provider (its session cookie in this browser).
    session: bool,
    /// What the provider answers a `prompt=none` request when its session is there; None:
    /// a code.
    silent_error: Option<&'static str>,
    /// It takes ES256 DPoP proofs (RFC 9449 §5.1).
    dpop: bool,
    /// The nonce its proofs must carry (§8), if it asks for one.
    dpop_nonce: Option<String>,
    /// The nonce the resource server's proofs must carry (§9), if it asks for one.
    api_dpop_nonce: Option<String>,
    /// It answers `token_type` Bearer even to a request with a proof.
    dpop_answers_bearer: bool,
    /// It and the resource server refuse a proof whose nonce is not their newest as
    /// `invalid_dpop_proof`, without naming the newest (RFC 9449 §4.3 step 10).
    refuses_stale_nonces: bool,
    /// The thumbprint of the key the grant's tokens are bound to.
    bound_jkt: Option<String>,
    /// Every proof's `jti` seen, for the replay check.
    jtis: Vec<String>,
}

type Answer = Result<HttpResponse, AuthError>;

/// What happens when the clock reaches a time (in ms).
type Timer = (u64, Box<dyn FnOnce()>);

pub struct World {
    pool: RefCell<LocalPool>,
    spawner: LocalSpawner,
    now_ms: Cell<u64>,
    /// The tab pages open in: [`World::new_tab`] opens another.
    current: RefCell<Rc<TabData>>,
    /// localStorage: shared by the app's tabs, survives the browser session.
    pub shared_storage: RefCell<BTreeMap<String, String>>,
    storage_refused: Cell<bool>,
    /// Every page is hidden (a background tab, a closed laptop).
    hidden: Cell<bool>,
    /// More members for config.json, each starting with a comma.
    config_extra: RefCell<String>,
    /// Each policy a page added to its CSP, with the number of requests made before it.
    policies: RefCell<Vec<(usize, String)>>,
    /// Pages cannot add a policy.
    policy_refused: Cell<bool>,
    /// Pages have no WebCrypto (not a secure context): no DPoP key can be made.
    no_webcrypto: Cell<bool>,
    /// The client_id config.json names (the provider knows only [`CLIENT_ID`]).
    config_client_id: RefCell<&'static str>,
    /// Everything that reached the provider (or the app's server), in order, navigations
    /// included.
    pub requests: RefCell<Vec<Seen>>,
    /// Answers on their way back, delivered by `settle`.
    arriving: RefCell<Vec<(oneshot::Sender<Answer>, Answer)>>,
    held: RefCell<Vec<(oneshot::Sender<Answer>, Answer)>>,
    timers: RefCell<Vec<Timer>>,
    provider: RefCell<ProviderState>,
    key: SigningKey,
    random: Cell<u8>,
    /// The states the current page's session went through.
    states: RefCell<Rc<RefCell<Vec<AuthState>>>>,
}

/// One browser tab: its address bar and its sessionStorage, which survives page loads.
#[derive(Default)]
pub struct TabData {
    /// The page's path, query and fragment.
    pub page: RefCell<String>,
    pub storage: RefCell<BTreeMap<String, String>>,
    /// The page now open was reached by the browser's Back (or Forward).
    pub came_back: Cell<bool>,
}

/// The platform a page runs on: the world, seen from one tab.
#[derive(Clone)]
pub struct Tab(pub Rc<World>, Rc<TabData>);

impl World {
    /// A fresh tab and provider, for one test.
    #[allow(clippy::new_ret_no_self)] // the test's guard around the world
    pub fn new() -> TestWorld {
        let pool = LocalPool::new();
        let spawner = pool.spawner();
        TestWorld(Rc::new(World {
            pool: RefCell::new(pool),
            spawner,
            now_ms: Cell::new(T0 * 1000),
            current: RefCell::new(Rc::new(TabData::default())),
            shared_storage: RefCell::default(),
            storage_refused: Cell::new(false),
            hidden: Cell::new(false),
            config_extra: RefCell::default(),
            policies: RefCell::default(),
            policy_refused: Cell::new(false),
            no_webcrypto: Cell::new(false),
            config_client_id: RefCell::new(CLIENT_ID),
            requests: RefCell::default(),
            arriving: RefCell::default(),
            held: RefCell::default(),
            timers: RefCell::default(),
            provider: RefCell::new(ProviderState {
                codes: BTreeMap::new(),
                live_refresh_token: None,
                access_tokens: Vec::new(),
                id_tokens: Vec::new(),
                revoked: Vec::new(),
                issued: 0,
                faults: Vec::new(),
                id_token_on_refresh: true,
                rotates: true,
                gives_lifetime: true,
                issues_refresh_tokens: true,
                sub: "alice".into(),
                access_token_ttl: TTL,
                granted_scope: None,
                par: None,
                pushed: BTreeMap::new(),
                end_session_endpoint: true,
                clock_ahead: 0,
                session: false,
                silent_error: None,
                dpop: false,
                dpop_nonce: None,
                api_dpop_nonce: None,
                dpop_answers_bearer: false,
                refuses_stale_nonces: false,
                bound_jkt: None,
                jtis: Vec::new(),
            }),
            key: SigningKey::from_slice(&[7; 32]).expect("a P-256 scalar"),
            random: Cell::new(0),
            states: RefCell::default(),
        }))
    }

    /// Loads `url` (path and query) in the tab: a new page with a new session, started.
    pub fn open(self: &Rc<Self>, url: &str) -> Session<Tab> {
        self.open_as(url, false)
    }

    /// Opens `url` in the current tab by going Back to it (a history traversal, not a cached page).
    pub fn go_back_to(self: &Rc<Self>, url: &str) -> Session<Tab> {
        self.open_as(url, true)
    }

    fn open_as(self: &Rc<Self>, url: &str, came_back: bool) -> Session<Tab> {
        let tab = self.tab();
        *tab.page.borrow_mut() = url.to_owned();
        tab.came_back.set(came_back);
        let session = Session::new(Tab(Rc::clone(self), tab), "/config.json");
        let states = Rc::new(RefCell::new(Vec::new()));
        *self.states.borrow_mut() = Rc::clone(&states);
        session.set_observer(move |state| states.borrow_mut().push(state.clone()));
        let start = session.clone().start();
        self.spawner.spawn_local(start).expect("spawned");
        self.settle();
        session
    }

    /// The states the page opened last went through.
    pub fn states(&self) -> Vec<AuthState> {
        self.states.borrow().borrow().clone()
    }

    /// Runs tasks and delivers the answers on their way until neither has anything left.
    pub fn settle(&self) {
        loop {
            self.pool.borrow_mut().run_until_stalled();
            let arriving: Vec<_> = self.arriving.borrow_mut().drain(..).collect();
            if arriving.is_empty() {
                return;
            }
            for (answer, response) in arriving {
                let _ = answer.send(response);
            }
        }
    }

    /// Runs `future` with the others until none can go on; its output, if it finished.
    pub fn run<T: 'static>(&self, future: impl Future<Output = T> + 'static) -> Option<T> {
        let out = self.spawn(future);
        self.settle();
        out.take()
    }

    /// Starts `future` beside the others; its output appears in the cell when it finishes.
    pub fn spawn<T: 'static>(&self, future: impl Future<Output = T> + 'static) -> Rc<Cell<Option<T>>> {
        let out = Rc::new(Cell::new(None));
        let put = Rc::clone(&out);
        self.spawner.spawn_local(future.map(move |value| put.set(Some(value)))).expect("spawned");
        out
    }

    pub fn now(&self) -> u64 {
        self.now_ms.get() / 1000
    }

    /// Moves the clock on, firing the timers that fall due, in order, and settling after each.
    pub fn advance_ms(&self, ms: u64) {
        let until = self.now_ms.get() + ms;
        loop {
            let next = {
                let mut timers = self.timers.borrow_mut();
                timers.sort_by_key(|(at, _)| *at);
                if timers.first().is_some_and(|(at, _)| *at <= until) { Some(timers.remove(0)) } else { None }
            };
            let Some((at, fire)) = next else { break };
            self.now_ms.set(at.max(self.now_ms.get()));
            fire();
            self.settle();
        }
        self.now_ms.set(until);
        self.settle();
    }

    pub fn advance(&self, secs: u64) {
        self.advance_ms(secs * 1000);
    }

    /// The address bar of the current tab.
    pub fn page(&self) -> String {
        self.tab().page.borrow().clone()
    }

    /// The tab pages open in now.
    pub fn tab(&self) -> Rc<TabData> {
        Rc::clone(&self.current.borrow())
    }

    /// Opens a new tab of the same browser (its own sessionStorage, the same localStorage
    /// and provider cookies); pages open there from now on. Returns the one before.
    pub fn new_tab(&self) -> Rc<TabData> {
        self.current.replace(Rc::new(TabData::default()))
    }

    /// Goes back to `tab`.
    pub fn switch_to(&self, tab: &Rc<TabData>) {
        *self.current.borrow_mut() = Rc::clone(tab);
    }

    /// A new tab's silent restore, served while the provider's session is still alive, and
    /// `first` (the signed-in tab before it) signing out before the new tab comes back: the
    /// callback to open, with the new tab current.
    pub fn restore_overtaken_by_a_sign_out(self: &Rc<Self>, first: &Session<Tab>) -> String {
        let first_tab = self.tab();
        self.new_tab();
        self.open("/");
        let callback = self.approve();
        let restoring_tab = self.tab();
        self.switch_to(&first_tab);
        first.sign_out();
        self.settle();
        self.switch_to(&restoring_tab);
        callback
    }

    /// The next request to `endpoint` meets `fault`.
    pub fn fault(&self, endpoint: Endpoint, fault: Fault) {
        self.provider.borrow_mut().faults.push((endpoint, fault));
    }

    pub fn set_sub(&self, sub: &str) {
        self.provider.borrow_mut().sub = sub.into();
    }

    /// Has the provider take pushed authorization requests (RFC 9126), and, if `required`,
    /// only those.
    pub fn offer_par(&self, required: bool) {
        self.provider.borrow_mut().par = Some(required);
    }

    /// Has the provider take ES256 DPoP proofs (RFC 9449) and bind its tokens to their key,
    /// requiring `nonce` in them (§8) when given.
    pub fn offer_dpop(&self, nonce: Option<&str>) {
        let mut provider = self.provider.borrow_mut();
        provider.dpop = true;
        provider.dpop_nonce = nonce.map(str::to_owned);
    }

    /// Has the provider require a new nonce from now on (§8: nonces change).
    pub fn rotate_dpop_nonce(&self, nonce: &str) {
        self.provider.borrow_mut().dpop_nonce = Some(nonce.to_owned());
    }

    /// Has the provider and the resource server refuse a nonce that is not their newest as an
    /// invalid proof, without giving the newest (§4.3 step 10), as a server may.
    pub fn refuse_stale_dpop_nonces(&self) {
        self.provider.borrow_mut().refuses_stale_nonces = true;
    }

    /// Has the resource server require `nonce` in its proofs (§9).
    pub fn require_api_dpop_nonce(&self, nonce: &str) {
        self.provider.borrow_mut().api_dpop_nonce = Some(nonce.to_owned());
    }

    /// Has the provider answer Bearer tokens to requests with a proof.
    pub fn answer_bearer_to_proofs(&self) {
        self.provider.borrow_mut().dpop_answers_bearer = true;
    }

    /// Pages have no WebCrypto from now on (a page that is not a secure context).
    pub fn without_webcrypto(&self) {
        self.no_webcrypto.set(true);
    }

    /// The thumbprint of the key the provider bound the grant's tokens to, if it did.
    pub fn bound_jkt(&self) -> Option<String> {
        self.provider.borrow().bound_jkt.clone()
    }

    /// Has the token answers grant `scope` (a consent box left unticked).
    pub fn grant_scope(&self, scope: &'static str) {
        self.provider.borrow_mut().granted_scope = Some(scope);
    }

    pub fn set_ttl(&self, secs: u64) {
        self.provider.borrow_mut().access_token_ttl = secs;
    }

    pub fn without_end_session(&self) {
        self.provider.borrow_mut().end_session_endpoint = false;
    }

    /// Refreshes bring only an access token: no new refresh token, no ID token.
    pub fn plain_refreshes(&self) {
        let mut provider = self.provider.borrow_mut();
        provider.rotates = false;
        provider.id_token_on_refresh = false;
    }

    pub fn without_lifetimes_after_sign_in(&self) {
        self.provider.borrow_mut().gives_lifetime = false;
    }

    pub fn without_refresh_tokens(&self) {
        self.provider.borrow_mut().issues_refresh_tokens = false;
    }

    pub fn set_provider_clock_ahead(&self, secs: i64) {
        self.provider.borrow_mut().clock_ahead = secs;
    }

    /// The provider's session ends (it expired, or the person signed out elsewhere).
    pub fn end_provider_session(&self) {
        self.provider.borrow_mut().session = false;
    }

    /// The provider answers `prompt=none` with this error even with a session.
    pub fn refuse_silent_sign_in(&self, error: &'static str) {
        self.provider.borrow_mut().silent_error = Some(error);
    }

    /// Adds members to the app's config.json, e.g. `,"restore_session":false`.
    pub fn configure(&self, extra: &str) {
        *self.config_extra.borrow_mut() = extra.to_owned();
    }

    /// Has config.json name another client, as a redeployed app's might.
    pub fn configure_client_id(&self, client_id: &'static str) {
        *self.config_client_id.borrow_mut() = client_id;
    }

    /// The session marker as stored, if any.
    pub fn marker(&self) -> Option<String> {
        self.shared_storage.borrow().get("leptos-oidc:session").cloned()
    }

    /// Hides the browser's pages, or shows them again.
    pub fn set_hidden(&self, hidden: bool) {
        self.hidden.set(hidden);
    }

    pub fn refuse_storage(&self) {
        self.storage_refused.set(true);
    }

    /// Answers every held request, then runs what that wakes.
    pub fn release(&self) {
        let held: Vec<_> = self.held.borrow_mut().drain(..).collect();
        assert!(!held.is_empty(), "nothing was held");
        self.arriving.borrow_mut().extend(held);
        self.settle();
    }

    /// The endpoints reached, in order, from `from` on.
    pub fn endpoints(&self, from: usize) -> Vec<Endpoint> {
        self.requests.borrow()[from..].iter().map(|r| r.endpoint).collect()
    }

    /// The `index`th request from `from` on to `endpoint`.
    pub fn request_to(&self, endpoint: Endpoint, from: usize, index: usize) -> Seen {
        let requests = self.requests.borrow();
        let found = requests[from..].iter().filter(|r| r.endpoint == endpoint).nth(index);
        found.cloned().unwrap_or_else(|| panic!("no request {index} to {endpoint:?}"))
    }

    pub fn request_count(&self) -> usize {
        self.requests.borrow().len()
    }

    /// Makes every page unable to add a policy to its CSP.
    pub fn refuse_policies(&self) {
        self.policy_refused.set(true);
    }

    /// Each policy a page added to its CSP, with the number of requests made before it.
    pub fn policies(&self) -> Vec<(usize, String)> {
        self.policies.borrow().clone()
    }

    /// Refresh tokens revoked while they were live.
    pub fn revoked(&self) -> Vec<String> {
        self.provider.borrow().revoked.clone()
    }

    pub fn access_tokens(&self) -> Vec<String> {
        self.provider.borrow().access_tokens.iter().map(|(token, _)| token.clone()).collect()
    }

    pub fn id_tokens(&self) -> Vec<String> {
        self.provider.borrow().id_tokens.clone()
    }

    pub fn live_refresh_token(&self) -> Option<String> {
        self.provider.borrow().live_refresh_token.clone()
    }

    /// The provider's answer to the authorization request the tab was sent with: for a
    /// silent one (`prompt=none`), a code if the person is signed in there, else
    /// `login_required` (OpenID Connect Core §3.1.2.6); otherwise the person signs in and
    /// it is a code. Returns the callback URL (path and query) the tab is sent back to.
    pub fn approve(&self) -> String {
        let authorize = self
            .requests
            .borrow()
            .iter()
            .rev()
            .find(|r| r.endpoint == Endpoint::Authorize)
            .cloned()
            .expect("the tab went to the provider");
        let mut provider = self.provider.borrow_mut();
        // RFC 9126 §4: the browser carries the client and the pushed request's reference,
        // nothing else; the request itself is the one pushed, used once.
        let params = match authorize.form.get("request_uri") {
            Some(uri) => {
                let names: Vec<&String> = authorize.form.keys().collect();
                assert_eq!(names, ["client_id", "request_uri"], "only the reference in the URL");
                assert_eq!(authorize.form["client_id"], CLIENT_ID);
                provider.pushed.remove(uri).expect("a request pushed and not yet used")
            }
            None => {
                assert_ne!(provider.par, Some(true), "a provider that requires PAR got a plain request");
                authorize.form
            }
        };
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["client_id"], CLIENT_ID);
        assert_eq!(params["code_challenge_method"], "S256");
        let back = |query: String| format!("/callback?{query}&state={}&iss={}", params["state"], encode(ISSUER));
        if params.get("prompt").map(String::as_str) == Some("none") {
            let refusal = if provider.session { provider.silent_error } else { Some("login_required") };
            if let Some(error) = refusal {
                return back(format!("error={error}"));
            }
        }
        provider.session = true;
        provider.issued += 1;
        let code = format!("code-{}", provider.issued);
        let grant = (params["code_challenge"].clone(), params["nonce"].clone(), params["redirect_uri"].clone());
        provider.codes.insert(code.clone(), grant);
        back(format!("code={code}"))
    }

    /// Opens the home page, clicks "Sign in" and has the provider answer: the callback URL
    /// the tab is sent back to, not yet opened.
    pub fn callback_of_a_sign_in(self: &Rc<Self>) -> String {
        let home = self.open("/");
        home.sign_in("/");
        self.settle();
        self.approve()
    }

    /// Signs in from a fresh tab: start, "Sign in", approve at the provider, callback.
    pub fn signed_in(self: &Rc<Self>) -> Session<Tab> {
        let home = self.open("/");
        home.sign_in("/orders");
        self.settle();
        let callback = self.approve();
        let session = self.open(&callback);
        assert!(matches!(session.state(), AuthState::SignedIn(_)), "{:?}", session.state());
        session
    }

    fn provider_now(&self, provider: &ProviderState) -> u64 {
        self.now().saturating_add_signed(provider.clock_ahead)
    }

    /// Whether `request` carries an access token the provider issued and that has not
    /// expired (what UserInfo and the resource server accept).
    fn bearer_valid(&self, provider: &ProviderState, request: &Seen) -> bool {
        let now = self.provider_now(provider);
        request.bearer.as_ref().is_some_and(|token| {
            provider.access_tokens.iter().any(|(issued, expires)| issued == token && now < *expires)
        })
    }

    /// The provider's answer to `request`, and whatever it does on its side.
    fn answer(&self, request: &Seen) -> Answer {
        let json = |status: u16, body: String| Ok(HttpResponse::new(status, "application/json", body));
        let error = |status: u16, code: &str| json(status, format!(r#"{{"error":"{code}"}}"#));
        let mut provider = self.provider.borrow_mut();
        let form = &request.form;
        match request.endpoint {
            Endpoint::Config => {
                let (extra, client_id) = (self.config_extra.borrow(), self.config_client_id.borrow());
                json(200, format!(r#"{{"issuer":"{ISSUER}","client_id":"{client_id}"{extra}}}"#))
            }
            Endpoint::Discovery => {
                let mut end_session = if provider.end_session_endpoint {
                    format!(r#""end_session_endpoint":"{ISSUER}/logout","#)
                } else {
                    String::new()
                };
                if provider.dpop {
                    end_session.push_str(r#""dpop_signing_alg_values_supported":["ES256"],"#);
                }
                if let Some(required) = provider.par {
                    end_session.push_str(&format!(
                        r#""pushed_authorization_request_endpoint":"{ISSUER}/par","require_pushed_authorization_requests":{required},"#
                    ));
                }
                json(
                    200,
                    format!(
                        r#"{{"issuer":"{ISSUER}","authorization_endpoint":"{ISSUER}/auth","token_endpoint":"{ISSUER}/token",
                        "jwks_uri":"{ISSUER}/jwks","userinfo_endpoint":"{ISSUER}/me","revocation_endpoint":"{ISSUER}/revoke",
                        {end_session}"code_challenge_methods_supported":["S256"],"authorization_response_iss_parameter_supported":true,
                        "id_token_signing_alg_values_supported":["ES256"]}}"#
                    ),
                )
            }
            Endpoint::Discovery8414 => error(404, "not_found"),
            Endpoint::Keys => {
                let point = VerifyingKey::from(&self.key).to_encoded_point(false);
                let (x, y) = (B64.encode(point.x().expect("x")), B64.encode(point.y().expect("y")));
                json(
                    200,
                    format!(
                        r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"k1","alg":"ES256","x":"{x}","y":"{y}"}}]}}"#
                    ),
                )
            }
            Endpoint::CodeExchange => {
                if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
                    return error(400, "unsupported_grant_type");
                }
                let Some((challenge, nonce, redirect_uri)) =
                    form.get("code").and_then(|code| provider.codes.remove(code))
                else {
                    return error(400, "invalid_grant");
                };
                let verifier = form.get("code_verifier").cloned().unwrap_or_default();
                if B64.encode(sha2::Sha256::digest(verifier.as_bytes())) != challenge
                    || form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
                    || form.get("redirect_uri") != Some(&redirect_uri)
                {
                    return error(400, "invalid_grant");
                }
                // RFC 9449 §5: a proof binds the tokens to its key.
                provider.bound_jkt = None;
                if let Some(proof) = &request.proof {
                    match self.check_proof(&mut provider, request, proof, None, false) {
                        Ok(jkt) => provider.bound_jkt = Some(jkt),
                        Err(refusal) => {
                            // The code is not spent by a refused proof (§8: asked again with a nonce).
                            provider.codes.insert(form["code"].clone(), (challenge, nonce, redirect_uri));
                            return refusal;
                        }
                    }
                }
                json(200, self.issue(&mut provider, Some(&nonce), true))
            }
            Endpoint::Refresh => {
                if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
                    return error(401, "invalid_client");
                }
                let presented = form.get("refresh_token");
                if presented.is_none() || presented != provider.live_refresh_token.as_ref() {
                    // A spent refresh token: theft, by RFC 9700 §4.14.2; the grant ends.
                    end_grant(&mut provider);
                    return error(400, "invalid_grant");
                }
                // §5: a public client's refresh token is bound too; its proof must be of the key.
                if let Some(bound) = provider.bound_jkt.clone() {
                    let Some(proof) = &request.proof else { return error(400, "invalid_grant") };
                    match self.check_proof(&mut provider, request, proof, None, false) {
                        Ok(jkt) if jkt == bound => {}
                        Ok(_) => return error(400, "invalid_grant"),
                        Err(refusal) => return refusal,
                    }
                }
                let (with_id_token, rotates) = (provider.id_token_on_refresh, provider.rotates);
                json(200, self.issue(&mut provider, with_id_token.then_some(""), rotates))
            }
            Endpoint::UserInfo => {
                if !self.bearer_valid(&provider, request) {
                    return error(401, "invalid_token");
                }
                if let Err(refusal) = self.check_binding(&mut provider, request, false) {
                    return refusal;
                }
                let name = full_name(&provider.sub);
                json(
                    200,
                    format!(r#"{{"sub":"{}","name":"{name}","email":"{}@example.com"}}"#, provider.sub, provider.sub),
                )
            }
            Endpoint::Par => {
                // RFC 9126 §2: a public client names itself; the request is kept for its one use.
                if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) || provider.par.is_none() {
                    return error(401, "invalid_client");
                }
                provider.issued += 1;
                let uri = format!("urn:ietf:params:oauth:request_uri:pushed-{}", provider.issued);
                provider.pushed.insert(uri.clone(), form.clone());
                json(201, format!(r#"{{"request_uri":"{uri}","expires_in":60}}"#))
            }
            Endpoint::Revocation => {
                // RFC 7009 §2.1: the client authenticates (a public client names itself);
                // revoking a refresh token ends its grant, access tokens included.
                if form.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
                    return error(401, "invalid_client");
                }
                let token = form.get("token").cloned().unwrap_or_default();
                if provider.live_refresh_token.as_ref() == Some(&token) {
                    provider.revoked.push(token);
                    end_grant(&mut provider);
                }
                json(200, String::new())
            }
            Endpoint::Api => {
                if !self.bearer_valid(&provider, request) {
                    return Ok(invalid_token());
                }
                if let Err(refusal) = self.check_binding(&mut provider, request, true) {
                    return refusal;
                }
                json(200, format!(r#"{{"sub":"{}"}}"#, provider.sub))
            }
            Endpoint::Authorize | Endpoint::Logout | Endpoint::Other => error(404, "not_found"),
        }
    }

    /// New tokens: an ID token when `nonce` is given (empty on a refresh, which repeats
    /// none), a new refresh token when `rotate`.
    fn issue(&self, provider: &mut ProviderState, nonce: Option<&str>, rotate: bool) -> String {
        provider.issued += 1;
        let n = provider.issued;
        let now = self.provider_now(provider);
        let access = format!("at-{n}");
        provider.access_tokens.push((access.clone(), now + provider.access_token_ttl));
        let refresh = (rotate && provider.issues_refresh_tokens).then(|| format!("rt-{n}"));
        if let Some(refresh) = &refresh {
            provider.live_refresh_token = Some(refresh.clone());
        }
        let id_token = nonce.map(|nonce| {
            let nonce = if nonce.is_empty() { String::new() } else { format!(r#","nonce":"{nonce}""#) };
            let claims = format!(
                r#"{{"iss":"{ISSUER}","aud":"{CLIENT_ID}","sub":"{}","name":"{}","iat":{now},"exp":{}{nonce}}}"#,
                provider.sub,
                first_name(&provider.sub),
                now + 300
            );
            let jwt = self.sign(&claims);
            provider.id_tokens.push(jwt.clone());
            jwt
        });
        let bound = provider.bound_jkt.is_some() && !provider.dpop_answers_bearer;
        let token_type = if bound { "DPoP" } else { "Bearer" };
        let mut members = vec![format!(r#""access_token":"{access}","token_type":"{token_type}""#)];
        let first = provider.access_tokens.len() == 1;
        if provider.gives_lifetime || first {
            members.push(format!(r#""expires_in":{}"#, provider.access_token_ttl));
        }
        if let Some(refresh) = refresh {
            members.push(format!(r#""refresh_token":"{refresh}""#));
        }
        // Stated at sign-in only: a refresh answer without `scope` keeps what was granted
        // (RFC 6749 §5.1), as many providers answer.
        if let (Some(scope), true) = (provider.granted_scope, first) {
            members.push(format!(r#""scope":"{scope}""#));
        }
        if let Some(id_token) = id_token {
            members.push(format!(r#""id_token":"{id_token}""#));
        }
        format!("{{{}}}", members.join(","))
    }

    /// A token bound to a key is used with a proof of it (RFC 9449 §7.1): `Authorization:
    /// DPoP`, the proof's `ath` its hash, and the nonce the server asks for (§8, §9).
    fn check_binding(&self, provider: &mut ProviderState, request: &Seen, resource_server: bool) -> Result<(), Answer> {
        let Some(bound) = provider.bound_jkt.clone() else { return Ok(()) };
        let Some(proof) = &request.proof else { return Err(Ok(dpop_challenge("invalid_token", None))) };
        match self.check_proof(provider, request, proof, request.bearer.as_deref(), resource_server) {
            Ok(jkt) if jkt == bound => Ok(()),
            Ok(_) => Err(Ok(dpop_challenge("invalid_token", None))),
            Err(refusal) => Err(refusal),
        }
    }

    /// Checks a proof as RFC 9449 §4.3 has servers do: its header (`typ`, ES256, a public
    /// JWK), its signature, `htm`, `htu`, `iat`, a new `jti`, `ath` for `token`, and the
    /// nonce the server requires. The key's thumbprint (RFC 7638), or the refusal to answer.
    fn check_proof(
        &self,
        provider: &mut ProviderState,
        request: &Seen,
        proof: &str,
        token: Option<&str>,
        resource_server: bool,
    ) -> Result<String, Answer> {
        let invalid = || {
            let answer = if resource_server || token.is_some() {
                dpop_challenge("invalid_dpop_proof", None)
            } else {
                dpop_refusal("invalid_dpop_proof", None)
            };
            Err(Ok(answer))
        };
        let decode = |part: &str| -> Option<serde_json::Value> { serde_json::from_slice(&B64.decode(part).ok()?).ok() };
        let parts: Vec<&str> = proof.split('.').collect();
        let [header, claims, signature] = parts[..] else { return invalid() };
        let signing_input = format!("{header}.{claims}");
        let (Some(header), Some(claims)) = (decode(header), decode(claims)) else { return invalid() };
        let jwk = &header["jwk"];
        if header["typ"] != "dpop+jwt"
            || header["alg"] != "ES256"
            || jwk["kty"] != "EC"
            || jwk["crv"] != "P-256"
            || jwk.get("d").is_some()
        {
            return invalid();
        }
        let (Some(x), Some(y)) = (jwk["x"].as_str(), jwk["y"].as_str()) else { return invalid() };
        let mut point = vec![4u8];
        point.extend(B64.decode(x).unwrap_or_default());
        point.extend(B64.decode(y).unwrap_or_default());
        let verified = VerifyingKey::from_sec1_bytes(&point).ok().zip(B64.decode(signature).ok()).is_some_and(
            |(key, signature)| {
                Signature::from_slice(&signature)
                    .is_ok_and(|signature| key.verify(signing_input.as_bytes(), &signature).is_ok())
            },
        );
        let method = request.method.as_str();
        let htu = request.url.split(['?', '#']).next().unwrap_or_default();
        let now = self.provider_now(provider) as i64;
        let jti = claims["jti"].as_str().unwrap_or_default().to_owned();
        let ath = token.map(|token| B64.encode(sha2::Sha256::digest(token.as_bytes())));
        if !verified
            || claims["htm"] != method
            || claims["htu"] != htu
            || claims["iat"].as_i64().is_none_or(|iat| (iat - now).abs() > 60)
            || jti.is_empty()
            || provider.jtis.contains(&jti)
            || claims["ath"].as_str().map(str::to_owned) != ath
        {
            return invalid();
        }
        provider.jtis.push(jti);
        let required = if resource_server { &provider.api_dpop_nonce } else { &provider.dpop_nonce };
        if provider.refuses_stale_nonces
            && claims.get("nonce").is_some()
            && claims["nonce"].as_str() != required.as_deref()
        {
            return invalid();
        }
        if let Some(required) = required
            && claims["nonce"].as_str() != Some(required)
        {
            let answer = if resource_server || token.is_some() {
                dpop_challenge("use_dpop_nonce", Some(required))
            } else {
                dpop_refusal("use_dpop_nonce", Some(required))
            };
            return Err(Ok(answer));
        }
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        Ok(B64.encode(sha2::Sha256::digest(canonical.as_bytes())))
    }

    fn sign(&self, claims: &str) -> String {
        let input =
            format!("{}.{}", B64.encode(r#"{"alg":"ES256","typ":"JWT","kid":"k1"}"#), B64.encode(claims.as_bytes()));
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("{input}.{}", B64.encode(signature.to_bytes()))
    }

    fn see(&self, request: HttpRequest<'_>) -> Seen {
        let url = request.url().to_owned();
        let (form, bearer) = match request {
            HttpRequest::PostForm { body, .. } => (parse_form(body), None),
            HttpRequest::GetWithToken { token, .. } => (BTreeMap::new(), Some(token.to_owned())),
            HttpRequest::Get { .. } => (BTreeMap::new(), None),
            HttpRequest::Api { token, .. } => (BTreeMap::new(), Some(token.to_owned())),
        };
        let proof = request.proof().map(str::to_owned);
        let api = match request {
            HttpRequest::Api { request, .. } => Some(request.clone()),
            _ => None,
        };
        let endpoint = match url.as_str() {
            "/config.json" => Endpoint::Config,
            u if u == format!("{ISSUER}/.well-known/openid-configuration") => Endpoint::Discovery,
            u if u == format!("{ISSUER}/.well-known/oauth-authorization-server") => Endpoint::Discovery8414,
            u if u == format!("{ISSUER}/jwks") => Endpoint::Keys,
            u if u == format!("{ISSUER}/me") => Endpoint::UserInfo,
            u if u == format!("{ISSUER}/revoke") => Endpoint::Revocation,
            u if u == format!("{ISSUER}/par") => Endpoint::Par,
            u if u == format!("{ISSUER}/token") => match form.get("grant_type").map(String::as_str) {
                Some("refresh_token") => Endpoint::Refresh,
                _ => Endpoint::CodeExchange,
            },
            u if u.starts_with(&format!("{API}/")) || u.starts_with(&format!("{ORIGIN}/api/")) => Endpoint::Api,
            _ => Endpoint::Other,
        };
        Seen { endpoint, method: request.method().to_owned(), url, form, bearer, api, proof }
    }

    /// A navigation away from the app, seen by the provider as a request to that page.
    fn leave_for(&self, url: &str) {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let endpoint = match path {
            p if p == format!("{ISSUER}/auth") => Endpoint::Authorize,
            p if p == format!("{ISSUER}/logout") => Endpoint::Logout,
            _ => Endpoint::Other,
        };
        if endpoint == Endpoint::Logout {
            // RP-Initiated Logout: the provider's session ends.
            self.provider.borrow_mut().session = false;
        }
        let seen = Seen {
            endpoint,
            method: "GET".into(),
            url: url.into(),
            form: parse_form(query),
            bearer: None,
            api: None,
            proof: None,
        };
        self.requests.borrow_mut().push(seen);
    }

    /// Sends `request` with whatever fault is scripted for it; the answer's channel.
    fn send(&self, seen: Seen) -> InFlight {
        self.requests.borrow_mut().push(seen.clone());
        let fault = {
            let mut provider = self.provider.borrow_mut();
            let at = provider.faults.iter().position(|(endpoint, _)| *endpoint == seen.endpoint);
            at.map(|at| provider.faults.remove(at).1)
        };
        let (answer, answered) = oneshot::channel();
        let in_flight = answered.map(|r| r.unwrap_or(Err(AuthError::Network("the request was dropped".into()))));
        match fault {
            None => {
                let response = self.answer(&seen);
                self.arriving.borrow_mut().push((answer, response));
            }
            Some(Fault::Answer(status, body)) => {
                let response = HttpResponse::new(status, "application/json", body);
                self.arriving.borrow_mut().push((answer, Ok(response)));
            }
            Some(Fault::NetworkDown) => {
                self.arriving.borrow_mut().push((answer, Err(AuthError::Network("Failed to fetch".into()))));
            }
            Some(Fault::NoAnswer) => {
                let at = self.now_ms.get() + u64::from(REQUEST_TIME_LIMIT_MS);
                self.timers.borrow_mut().push((
                    at,
                    Box::new(move || {
                        let _ = answer.send(Err(AuthError::Timeout));
                    }),
                ));
            }
            Some(Fault::AnswerLost) => {
                let _ = self.answer(&seen);
                self.arriving.borrow_mut().push((answer, Err(AuthError::Network("Failed to fetch".into()))));
            }
            Some(Fault::Held) => {
                let response = self.answer(&seen);
                self.held.borrow_mut().push((answer, response));
            }
            Some(Fault::RefusedBeforeSending) => unreachable!("taken before sending"),
            Some(Fault::InvalidToken) => {
                self.arriving.borrow_mut().push((answer, Ok(invalid_token())));
            }
            Some(Fault::Challenge(status, challenge)) => {
                let mut response = HttpResponse::new(status, "application/json", "{}");
                response.headers.push(("www-authenticate".into(), challenge.into()));
                self.arriving.borrow_mut().push((answer, Ok(response)));
            }
            Some(Fault::UseDpopNonce(nonce)) => {
                self.arriving.borrow_mut().push((answer, Ok(dpop_refusal("use_dpop_nonce", Some(nonce)))));
            }
            Some(Fault::InvalidDpopProof(nonce)) => {
                self.arriving.borrow_mut().push((answer, Ok(dpop_refusal("invalid_dpop_proof", nonce))));
            }
            Some(Fault::HeldAnswer(status, body)) => {
                let response = HttpResponse::new(status, "application/json", body);
                self.held.borrow_mut().push((answer, Ok(response)));
            }
        }
        in_flight.boxed_local()
    }
}

/// A test's world: when the test ends, every scripted fault must have been used (the
/// world itself may live on, held by tasks that never finished).
pub struct TestWorld(Rc<World>);

impl core::ops::Deref for TestWorld {
    type Target = Rc<World>;
    fn deref(&self) -> &Rc<World> {
        &self.0
    }
}

impl Drop for TestWorld {
    fn drop(&mut self) {
        let unused = &self.0.provider.borrow().faults;
        if !std::thread::panicking() {
            assert!(unused.is_empty(), "scripted faults never used: {unused:?}");
        }
    }
}

/// A resource server's refusal of the token itself (RFC 6750 §3.1).
fn invalid_token() -> HttpResponse {
    let mut response = HttpResponse::new(401, "application/json", r#"{"error":"invalid_token"}"#);
    response.headers.push(("www-authenticate".into(), r#"Bearer realm="api", error="invalid_token""#.into()));
    response
}

/// An authorization server's refusal of a proof (RFC 9449 §5: a 400 with `error`), with the
/// nonce it asks for (§8).
fn dpop_refusal(error: &str, nonce: Option<&str>) -> HttpResponse {
    let mut response = HttpResponse::new(400, "application/json", format!(r#"{{"error":"{error}"}}"#));
    response.headers.extend(nonce.map(|nonce| ("dpop-nonce".into(), nonce.into())));
    response
}

/// A resource server's DPoP challenge (RFC 9449 §7.1), with the nonce it asks for (§9).
fn dpop_challenge(error: &str, nonce: Option<&str>) -> HttpResponse {
    let mut response = HttpResponse::new(401, "application/json", format!(r#"{{"error":"{error}"}}"#));
    response.headers.push(("www-authenticate".into(), format!(r#"DPoP algs="ES256", error="{error}""#)));
    if let Some(nonce) = nonce {
        response.headers.push(("dpop-nonce".into(), nonce.into()));
    }
    response
}

/// The name the provider knows a person by, in the ID token and in UserInfo.
fn first_name(sub: &str) -> &'static str {
    if sub == "bob" { "Bob" } else { "Alice" }
}

fn full_name(sub: &str) -> &'static str {
    if sub == "bob" { "Bob Builder" } else { "Alice Liddell" }
}

fn end_grant(provider: &mut ProviderState) {
    provider.live_refresh_token = None;
    provider.access_tokens.iter_mut().for_each(|(_, expires)| *expires = 0);
}

fn parse_form(body: &str) -> BTreeMap<String, String> {
    form_urlencoded::parse(body.as_bytes()).into_owned().collect()
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl Platform for Tab {
    type ProofKey = SigningKey;

    fn make_proof_key(&self) -> LocalBoxFuture<'static, Option<(SigningKey, PublicJwk)>> {
        // A new key each time, as WebCrypto's: its scalar from the tab's random numbers.
        let mut scalar = [0; 32];
        let made = (!self.0.no_webcrypto.get() && self.fill_random(&mut scalar))
            .then(|| SigningKey::from_slice(&scalar).ok())
            .flatten()
            .map(|key| {
                let point = VerifyingKey::from(&key).to_encoded_point(false);
                let (x, y) = (B64.encode(point.x().expect("x")), B64.encode(point.y().expect("y")));
                (key, PublicJwk::Ec { crv: "P-256".into(), x, y })
            });
        futures::future::ready(made).boxed_local()
    }

    fn sign_proof<'a>(&'a self, key: &'a SigningKey, signing_input: &'a str) -> LocalBoxFuture<'a, Option<Vec<u8>>> {
        let signature: Signature = key.sign(signing_input.as_bytes());
        futures::future::ready(Some(signature.to_bytes().to_vec())).boxed_local()
    }

    fn send(&self, request: HttpRequest<'_>) -> Result<InFlight, AuthError> {
        let seen = self.0.see(request);
        let refused = {
            let mut provider = self.0.provider.borrow_mut();
            let at = provider.faults.iter().position(|(endpoint, fault)| {
                *endpoint == seen.endpoint && matches!(fault, Fault::RefusedBeforeSending)
            });
            at.map(|at| provider.faults.remove(at))
        };
        if refused.is_some() {
            return Err(AuthError::Network("Failed to execute 'fetch': invalid header name".into()));
        }
        Ok(self.0.send(seen))
    }

    fn post_form_and_forget(&self, url: &str, body: &str) {
        let seen = self.0.see(HttpRequest::PostForm { url, body, proof: None });
        drop(self.0.send(seen));
    }

    fn now_secs(&self) -> u64 {
        self.0.now()
    }

    fn sleep(&self, ms: u32) -> LocalBoxFuture<'static, ()> {
        let (fire, fired) = oneshot::channel();
        let at = self.0.now_ms.get() + u64::from(ms);
        self.0.timers.borrow_mut().push((
            at,
            Box::new(move || {
                let _ = fire.send(());
            }),
        ));
        fired.map(drop).boxed_local()
    }

    fn fill_random(&self, bytes: &mut [u8]) -> bool {
        // Distinct values per call: enough for state, nonce and verifier to differ.
        let n = self.0.random.get().wrapping_add(1);
        self.0.random.set(n);
        bytes.iter_mut().enumerate().for_each(|(i, b)| *b = n.wrapping_mul(31).wrapping_add(i as u8));
        true
    }

    fn verify_signature<'a>(&'a self, check: &'a SignatureCheck) -> LocalBoxFuture<'a, Option<bool>> {
        // WebCrypto's part, done by p256: import the JWK, verify R || S over the input.
        let verify = || -> Option<bool> {
            #[derive(serde::Deserialize)]
            struct Jwk {
                x: String,
                y: String,
            }
            let jwk: Jwk = serde_json::from_str(&check.jwk).ok()?;
            let mut point = vec![4u8];
            point.extend(B64.decode(jwk.x).ok()?);
            point.extend(B64.decode(jwk.y).ok()?);
            let key = VerifyingKey::from_sec1_bytes(&point).ok()?;
            let signature = Signature::from_slice(&check.signature).ok()?;
            Some(key.verify(check.signing_input.as_bytes(), &signature).is_ok())
        };
        futures::future::ready(verify()).boxed_local()
    }

    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        self.0.spawner.spawn_local(task).expect("spawned");
    }

    fn storage_get(&self, key: &str) -> Option<String> {
        self.1.storage.borrow().get(key).cloned()
    }
    fn storage_set(&self, key: &str, value: &str) -> bool {
        if self.0.storage_refused.get() {
            return false;
        }
        self.1.storage.borrow_mut().insert(key.into(), value.into());
        true
    }
    fn storage_remove(&self, key: &str) {
        self.1.storage.borrow_mut().remove(key);
    }
    fn storage_keys(&self) -> Vec<String> {
        self.1.storage.borrow().keys().cloned().collect()
    }

    fn shared_storage_get(&self, key: &str) -> Option<String> {
        self.0.shared_storage.borrow().get(key).cloned()
    }
    fn shared_storage_set(&self, key: &str, value: &str) -> bool {
        self.0.shared_storage.borrow_mut().insert(key.into(), value.into());
        true
    }
    fn shared_storage_remove(&self, key: &str) {
        self.0.shared_storage.borrow_mut().remove(key);
    }

    fn page_hidden(&self) -> bool {
        self.0.hidden.get()
    }
    fn came_back(&self) -> bool {
        self.1.came_back.get()
    }

    fn restrict_page(&self, policy: &str) -> bool {
        if self.0.policy_refused.get() {
            return false;
        }
        let at = self.0.requests.borrow().len();
        self.0.policies.borrow_mut().push((at, policy.to_owned()));
        true
    }
    fn origin(&self) -> String {
        ORIGIN.into()
    }
    fn resolve_url(&self, url: &str) -> Option<ResolvedUrl> {
        let page = url::Url::parse(&format!("{ORIGIN}{}", self.1.page.borrow())).ok()?;
        let resolved = page.join(url).ok()?;
        Some(ResolvedUrl { origin: resolved.origin().ascii_serialization(), href: resolved.into() })
    }
    fn path(&self) -> String {
        let page = self.1.page.borrow();
        page.split(['?', '#']).next().unwrap_or("/").to_owned()
    }
    fn query(&self) -> String {
        let page = self.1.page.borrow();
        page.split('#').next().and_then(|p| p.split_once('?')).map(|(_, q)| q.to_owned()).unwrap_or_default()
    }
    fn path_query_fragment(&self) -> String {
        self.1.page.borrow().clone()
    }
    fn replace_path(&self, path: &str) {
        *self.1.page.borrow_mut() = path.to_owned();
    }
    fn navigate(&self, url: &str) {
        self.0.leave_for(url);
    }
    fn navigate_by_post(&self, action: &str, _fields: &[(&str, String)]) -> bool {
        self.0.leave_for(action);
        true
    }
}
