//! The outside world of the native session tests: one browser tab (its storage survives
//! page loads, its address bar, its clock and timers) and an OpenID provider that answers
//! as a real one does (discovery, ES256-signed ID tokens, PKCE checked, refresh tokens
//! rotated and spent ones refused, revocation, UserInfo), with faults scripted per request.
//! Nothing here stands in for the crate's own modules: the session under test runs its
//! real steps against these answers.

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
use leptos_oidc_auth::oauth::{AuthError, SignatureCheck};
use leptos_oidc_auth::session::platform::{HttpRequest, HttpResponse, InFlight, Platform};
use leptos_oidc_auth::{AuthState, Session};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use sha2::Digest;

pub const ORIGIN: &str = "https://app.example";
pub const ISSUER: &str = "https://id.example";
pub const CLIENT_ID: &str = "spa";
/// The clock at the start of every test.
pub const T0: u64 = 1_800_000_000;
/// How long the provider's access tokens live, unless a test says otherwise.
pub const TTL: u64 = 600;

/// Which of the provider's endpoints a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Config,
    Discovery,
    Keys,
    CodeExchange,
    Refresh,
    UserInfo,
    Other,
}

/// What the provider does with the next request to an endpoint, instead of answering it.
#[derive(Debug, Clone)]
pub enum Fault {
    /// This answer instead of the real one.
    Answer(u16, &'static str),
    /// No answer: the request fails as a dead server's does.
    NetworkDown,
    /// No answer in time.
    Timeout,
    /// The real answer, held back until [`World::release`].
    Hold,
}

/// A request as the provider saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub endpoint: Endpoint,
    pub url: String,
    /// The form fields of a POST.
    pub form: BTreeMap<String, String>,
    pub bearer: Option<String>,
}

/// The authorization server's own state.
#[derive(Default)]
struct ProviderState {
    /// Authorization codes not yet used: code → (code_challenge, nonce).
    codes: BTreeMap<String, (String, String)>,
    /// The refresh token that is valid now; any earlier one is spent.
    live_refresh_token: Option<String>,
    /// Access tokens issued, in order.
    access_tokens: Vec<String>,
    revoked: Vec<String>,
    issued: u32,
    /// Next requests' faults, per endpoint, in order.
    faults: Vec<(Endpoint, Fault)>,
    /// Whether refreshes bring a new ID token (oidc-provider's do).
    id_token_on_refresh: bool,
    /// The `sub` the ID tokens name.
    sub: String,
    access_token_ttl: u64,
    end_session_endpoint: bool,
}

/// A request held back: its answer channel, and the answer it will get.
type Held = (Seen, oneshot::Sender<Result<HttpResponse, AuthError>>, Result<HttpResponse, AuthError>);

pub struct World {
    pub pool: RefCell<LocalPool>,
    spawner: LocalSpawner,
    now_ms: Cell<u64>,
    /// sessionStorage: survives page loads in this tab.
    pub storage: RefCell<BTreeMap<String, String>>,
    /// The page's path, query and fragment.
    page: RefCell<String>,
    /// Where the tab was sent (`go_to`, form posts), in order.
    pub left_for: RefCell<Vec<String>>,
    pub requests: RefCell<Vec<Seen>>,
    held: RefCell<Vec<Held>>,
    timers: RefCell<Vec<(u64, oneshot::Sender<()>)>>,
    provider: RefCell<ProviderState>,
    key: SigningKey,
    random: Cell<u8>,
    pub states: Rc<RefCell<Vec<AuthState>>>,
}

/// The platform a page in the world's tab runs on.
#[derive(Clone)]
pub struct Tab(pub Rc<World>);

impl World {
    pub fn new() -> Rc<World> {
        let pool = LocalPool::new();
        let spawner = pool.spawner();
        Rc::new(World {
            pool: RefCell::new(pool),
            spawner,
            now_ms: Cell::new(T0 * 1000),
            storage: RefCell::default(),
            page: RefCell::new("/".into()),
            left_for: RefCell::default(),
            requests: RefCell::default(),
            held: RefCell::default(),
            timers: RefCell::default(),
            provider: RefCell::new(ProviderState {
                id_token_on_refresh: true,
                sub: "alice".into(),
                access_token_ttl: TTL,
                end_session_endpoint: true,
                ..ProviderState::default()
            }),
            key: SigningKey::from_slice(&[7; 32]).expect("a P-256 scalar"),
            random: Cell::new(0),
            states: Rc::default(),
        })
    }

    /// Loads `url` (path and query) in the tab: a new page with a new session, started.
    pub fn open(self: &Rc<Self>, url: &str) -> Session<Tab> {
        *self.page.borrow_mut() = url.to_owned();
        let session = Session::new(Tab(Rc::clone(self)), "/config.json");
        let states = Rc::clone(&self.states);
        states.borrow_mut().clear();
        session.observe(move |state| states.borrow_mut().push(state.clone()));
        let start = session.clone().start();
        self.spawner.spawn_local(start).expect("spawned");
        self.settle();
        session
    }

    /// Runs every task until none can go on.
    pub fn settle(&self) {
        self.pool.borrow_mut().run_until_stalled();
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

    /// Moves the clock on and fires the timers that are due.
    pub fn advance_ms(&self, ms: u64) {
        self.now_ms.set(self.now_ms.get() + ms);
        let now = self.now_ms.get();
        let due: Vec<_> = {
            let mut timers = self.timers.borrow_mut();
            let (due, later) = timers.drain(..).partition(|(at, _)| *at <= now);
            *timers = later;
            due
        };
        for (_, fire) in due {
            let _ = fire.send(());
        }
        self.settle();
    }

    pub fn advance(&self, secs: u64) {
        self.advance_ms(secs * 1000);
    }

    pub fn page(&self) -> String {
        self.page.borrow().clone()
    }

    /// The next request to `endpoint` meets `fault`.
    pub fn fault(&self, endpoint: Endpoint, fault: Fault) {
        self.provider.borrow_mut().faults.push((endpoint, fault));
    }

    pub fn set_sub(&self, sub: &str) {
        self.provider.borrow_mut().sub = sub.into();
    }

    pub fn set_ttl(&self, secs: u64) {
        self.provider.borrow_mut().access_token_ttl = secs;
    }

    pub fn without_end_session(&self) {
        self.provider.borrow_mut().end_session_endpoint = false;
    }

    /// Answers every held request, then runs what that wakes.
    pub fn release(&self) {
        let held: Vec<_> = self.held.borrow_mut().drain(..).collect();
        for (_, answer, response) in held {
            let _ = answer.send(response);
        }
        self.settle();
    }

    /// The endpoints reached, in order, from `from` on.
    pub fn endpoints(&self, from: usize) -> Vec<Endpoint> {
        self.requests.borrow()[from..].iter().map(|r| r.endpoint).collect()
    }

    pub fn request_count(&self) -> usize {
        self.requests.borrow().len()
    }

    pub fn revoked(&self) -> Vec<String> {
        self.provider.borrow().revoked.clone()
    }

    pub fn access_tokens(&self) -> Vec<String> {
        self.provider.borrow().access_tokens.clone()
    }

    pub fn live_refresh_token(&self) -> Option<String> {
        self.provider.borrow().live_refresh_token.clone()
    }

    /// The person at the provider's sign-in page, signing in: the provider checks the
    /// authorization request the tab was sent with and sends the tab back to the callback
    /// with a code. Returns that callback URL (path and query).
    pub fn approve(&self) -> String {
        let url = self.left_for.borrow().last().cloned().expect("the tab went to the provider");
        let query = url.split_once('?').map(|(_, q)| q).expect("a query");
        let params: BTreeMap<String, String> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["client_id"], CLIENT_ID);
        assert_eq!(params["code_challenge_method"], "S256");
        assert_eq!(params["redirect_uri"], format!("{ORIGIN}/callback"));
        let mut provider = self.provider.borrow_mut();
        provider.issued += 1;
        let code = format!("code-{}", provider.issued);
        provider.codes.insert(code.clone(), (params["code_challenge"].clone(), params["nonce"].clone()));
        format!("/callback?code={code}&state={}&iss={}", params["state"], encode(ISSUER))
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

    fn answer(&self, request: &Seen) -> Result<HttpResponse, AuthError> {
        let json =
            |status: u16, body: String| Ok(HttpResponse { status, content_type: "application/json".into(), body });
        let error = |status: u16, code: &str| json(status, format!(r#"{{"error":"{code}"}}"#));
        let mut provider = self.provider.borrow_mut();
        match request.endpoint {
            Endpoint::Config => json(200, format!(r#"{{"issuer":"{ISSUER}","client_id":"{CLIENT_ID}"}}"#)),
            Endpoint::Discovery => {
                let end_session = if provider.end_session_endpoint {
                    format!(r#""end_session_endpoint":"{ISSUER}/logout","#)
                } else {
                    String::new()
                };
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
                let form = &request.form;
                let Some((challenge, nonce)) = form.get("code").and_then(|code| provider.codes.remove(code)) else {
                    return error(400, "invalid_grant");
                };
                let verifier = form.get("code_verifier").cloned().unwrap_or_default();
                if B64.encode(sha2::Sha256::digest(verifier.as_bytes())) != challenge
                    || form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
                {
                    return error(400, "invalid_grant");
                }
                json(200, self.issue(&mut provider, Some(&nonce)))
            }
            Endpoint::Refresh => {
                let presented = request.form.get("refresh_token");
                if presented.is_none() || presented != provider.live_refresh_token.as_ref() {
                    // A spent refresh token: theft, by RFC 9700 §4.14.2; the grant ends.
                    provider.live_refresh_token = None;
                    return error(400, "invalid_grant");
                }
                let with_id_token = provider.id_token_on_refresh;
                json(200, self.issue(&mut provider, with_id_token.then_some("")))
            }
            Endpoint::UserInfo => {
                let valid = request.bearer.as_ref().is_some_and(|token| provider.access_tokens.contains(token));
                if !valid {
                    return error(401, "invalid_token");
                }
                json(200, format!(r#"{{"sub":"{}","name":"Alice Liddell","email":"alice@example.com"}}"#, provider.sub))
            }
            Endpoint::Other => error(404, "not_found"),
        }
    }

    /// New tokens, the refresh token rotated; an ID token when `nonce` is given (empty on
    /// a refresh, which repeats none).
    fn issue(&self, provider: &mut ProviderState, nonce: Option<&str>) -> String {
        provider.issued += 1;
        let n = provider.issued;
        let (access, refresh) = (format!("at-{n}"), format!("rt-{n}"));
        provider.access_tokens.push(access.clone());
        provider.live_refresh_token = Some(refresh.clone());
        let id_token = nonce.map(|nonce| {
            let now = self.now();
            let nonce = if nonce.is_empty() { String::new() } else { format!(r#","nonce":"{nonce}""#) };
            let claims = format!(
                r#"{{"iss":"{ISSUER}","aud":"{CLIENT_ID}","sub":"{}","name":"Alice","iat":{now},"exp":{}{nonce}}}"#,
                provider.sub,
                now + 300
            );
            format!(r#","id_token":"{}""#, self.sign(&claims))
        });
        format!(
            r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":{},"refresh_token":"{refresh}"{}}}"#,
            provider.access_token_ttl,
            id_token.unwrap_or_default()
        )
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
            HttpRequest::PostForm { body, .. } => {
                (form_urlencoded::parse(body.as_bytes()).into_owned().collect::<BTreeMap<_, _>>(), None)
            }
            HttpRequest::GetWithBearer { token, .. } => (BTreeMap::new(), Some(token.to_owned())),
            HttpRequest::Get { .. } => (BTreeMap::new(), None),
        };
        let endpoint = match url.as_str() {
            u if u == format!("{ORIGIN}/config.json") || u == "/config.json" => Endpoint::Config,
            u if u == format!("{ISSUER}/.well-known/openid-configuration") => Endpoint::Discovery,
            u if u == format!("{ISSUER}/jwks") => Endpoint::Keys,
            u if u == format!("{ISSUER}/me") => Endpoint::UserInfo,
            u if u == format!("{ISSUER}/token") => match form.get("grant_type").map(String::as_str) {
                Some("refresh_token") => Endpoint::Refresh,
                _ => Endpoint::CodeExchange,
            },
            _ => Endpoint::Other,
        };
        Seen { endpoint, url, form, bearer }
    }
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl Platform for Tab {
    fn start(&self, request: HttpRequest<'_>) -> Result<InFlight, AuthError> {
        let world = &self.0;
        let seen = world.see(request);
        world.requests.borrow_mut().push(seen.clone());
        let fault = {
            let mut provider = world.provider.borrow_mut();
            let at = provider.faults.iter().position(|(endpoint, _)| *endpoint == seen.endpoint);
            at.map(|at| provider.faults.remove(at).1)
        };
        let response = match fault {
            None => world.answer(&seen),
            Some(Fault::Answer(status, body)) => {
                Ok(HttpResponse { status, content_type: "application/json".into(), body: body.into() })
            }
            Some(Fault::NetworkDown) => Err(AuthError::Network("Failed to fetch".into())),
            Some(Fault::Timeout) => Err(AuthError::Timeout),
            Some(Fault::Hold) => {
                let response = world.answer(&seen);
                let (answer, answered) = oneshot::channel();
                world.held.borrow_mut().push((seen, answer, response));
                return Ok(answered.map(|r| r.unwrap_or(Err(AuthError::Network("dropped".into())))).boxed_local());
            }
        };
        // Answers arrive in a later task, as fetch's do.
        let (answer, answered) = oneshot::channel();
        let _ = answer.send(response);
        Ok(answered.map(|r| r.unwrap_or(Err(AuthError::Network("dropped".into())))).boxed_local())
    }

    fn post_form_and_forget(&self, url: &str, body: &str) {
        let world = &self.0;
        let seen = world.see(HttpRequest::PostForm { url, body });
        if url == format!("{ISSUER}/revoke") {
            let token = seen.form.get("token").cloned().unwrap_or_default();
            let mut provider = world.provider.borrow_mut();
            if provider.live_refresh_token.as_ref() == Some(&token) {
                provider.live_refresh_token = None;
            }
            provider.revoked.push(token);
        }
        world.requests.borrow_mut().push(seen);
    }

    fn now_secs(&self) -> u64 {
        self.0.now()
    }

    fn sleep(&self, ms: u32) -> LocalBoxFuture<'static, ()> {
        let (fire, fired) = oneshot::channel();
        self.0.timers.borrow_mut().push((self.0.now_ms.get() + u64::from(ms), fire));
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

    fn read(&self, key: &str) -> Option<String> {
        self.0.storage.borrow().get(key).cloned()
    }
    fn write(&self, key: &str, value: &str) -> bool {
        self.0.storage.borrow_mut().insert(key.into(), value.into());
        true
    }
    fn delete(&self, key: &str) {
        self.0.storage.borrow_mut().remove(key);
    }
    fn keys(&self) -> Vec<String> {
        self.0.storage.borrow().keys().cloned().collect()
    }

    fn origin(&self) -> String {
        ORIGIN.into()
    }
    fn path(&self) -> String {
        let page = self.0.page.borrow();
        page.split(['?', '#']).next().unwrap_or("/").to_owned()
    }
    fn query(&self) -> String {
        let page = self.0.page.borrow();
        page.split('#').next().and_then(|p| p.split_once('?')).map(|(_, q)| q.to_owned()).unwrap_or_default()
    }
    fn path_query_fragment(&self) -> String {
        self.0.page()
    }
    fn replace_path(&self, path: &str) {
        *self.0.page.borrow_mut() = path.to_owned();
    }
    fn go_to(&self, url: &str) {
        self.0.left_for.borrow_mut().push(url.to_owned());
    }
    fn post_form(&self, action: &str, _fields: &[(&str, String)]) -> bool {
        self.0.left_for.borrow_mut().push(action.to_owned());
        true
    }
}
