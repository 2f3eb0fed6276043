//! The browser layer and the auth components, in headless Chrome (wasm-bindgen-test).
//! Run by tools/test.sh as
//! `cargo test --target wasm32-unknown-unknown -p leptos-oidc-auth --features test-hooks --test browser`.
#![cfg(target_arch = "wasm32")]

#[cfg(not(feature = "test-hooks"))]
compile_error!("the browser tests need the test-hooks feature: add --features test-hooks");

use leptos::prelude::*;
use leptos_oidc_auth::Browser;
use leptos_oidc_auth::browser::{http, location, sleep};
use leptos_oidc_auth::oauth::{PendingSignIn, ProviderMetadata, SignInRandomness};
use leptos_oidc_auth::session::ApiRequest;
use leptos_oidc_auth::session::platform::{HttpRequest, Platform};
use leptos_oidc_auth::session::store;
use leptos_oidc_auth::{AuthError, AuthFailure, AuthState, RequireAuth, User, provide_auth, provide_auth_in_state};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn window() -> web_sys::Window {
    web_sys::window().expect("window")
}

fn session() -> web_sys::Storage {
    window().session_storage().expect("storage").expect("sessionStorage")
}

/// A fresh element to mount into.
fn container() -> web_sys::HtmlElement {
    let document = window().document().expect("document");
    let div = document.create_element("div").expect("div");
    document.body().expect("body").append_child(&div).expect("append");
    div.unchecked_into()
}

/// Waits (up to 10 s) until `selector` matches inside `root`.
async fn wait_for(root: &web_sys::HtmlElement, selector: &str) -> web_sys::Element {
    for _ in 0..200 {
        if let Ok(Some(found)) = root.query_selector(selector) {
            return found;
        }
        sleep(50).await;
    }
    panic!("{selector} never appeared; the DOM is {}", root.inner_html());
}

fn pending(state_byte: u8) -> PendingSignIn {
    let random = SignInRandomness { verifier: [1; 32], state: [state_byte; 32], nonce: [3; 32] };
    PendingSignIn::new(&random, "/profile", 1_700_000_000)
}

fn metadata() -> ProviderMetadata {
    ProviderMetadata::parse(
        r#"{"issuer":"https://id.example.com","authorization_endpoint":"https://id.example.com/a",
            "token_endpoint":"https://id.example.com/t"}"#,
        "https://id.example.com",
    )
    .expect("metadata")
}

#[wasm_bindgen_test]
fn a_pending_sign_in_is_taken_exactly_once() {
    let record = pending(11);
    assert!(store::put_pending(&Browser, &record.state, &record));
    let stored = store::pending_records::<PendingSignIn>(&Browser);
    assert!(
        stored.iter().any(|(state, r)| *state == record.state && r.as_ref().is_some_and(|r| r.nonce == record.nonce))
    );
    let taken = store::take_pending::<PendingSignIn>(&Browser, &record.state).expect("stored");
    assert_eq!(taken.verifier.expose(), record.verifier.expose());
    assert!(store::take_pending::<PendingSignIn>(&Browser, &record.state).is_none(), "a second take finds nothing");
    assert!(!store::pending_records::<PendingSignIn>(&Browser).iter().any(|(state, _)| *state == record.state));
}

#[wasm_bindgen_test]
fn storage_keys_are_namespaced_and_separate_per_state() {
    let (a, b) = (pending(12), pending(13));
    store::put_pending(&Browser, &a.state, &a);
    store::put_pending(&Browser, &b.state, &b);
    let raw = session().get_item(&format!("{}pending:{}", store::NAMESPACE, a.state)).unwrap().unwrap_or_default();
    assert!(raw.starts_with('{') && raw.contains(&a.nonce), "stored as a JSON object under the namespaced key: {raw}");
    assert_eq!(store::take_pending::<PendingSignIn>(&Browser, &b.state).map(|r| r.state), Some(b.state));
    assert_eq!(
        store::take_pending::<PendingSignIn>(&Browser, &a.state).map(|r| r.state),
        Some(a.state),
        "taking one leaves the other"
    );
}

/// Storage is untrusted input: what cannot be read is dropped, and a record in another
/// shape (an array read by position) is not read either.
#[wasm_bindgen_test]
fn an_unreadable_pending_record_is_taken_and_dropped() {
    let key = |state: &str| format!("{}pending:{state}", store::NAMESPACE);
    session().set_item(&key("garbled"), "not json").unwrap();
    let array = format!(r#"["s","n","{}","/",1700000000]"#, "a".repeat(43));
    session().set_item(&key("array"), &array).unwrap();
    for state in ["garbled", "array"] {
        assert!(store::take_pending::<PendingSignIn>(&Browser, state).is_none(), "{state}");
        assert_eq!(session().get_item(&key(state)).unwrap(), None, "{state} is gone");
    }
}

#[wasm_bindgen_test]
fn metadata_cache_round_trips_and_can_be_forgotten() {
    store::cache_metadata(&Browser, &metadata());
    assert_eq!(store::cached_metadata::<ProviderMetadata>(&Browser), Some(metadata()));
    store::forget_metadata(&Browser);
    assert_eq!(store::cached_metadata::<ProviderMetadata>(&Browser), None);
}

#[wasm_bindgen_test]
fn unreadable_cached_metadata_is_ignored() {
    session().set_item(&format!("{}metadata", store::NAMESPACE), "{\"issuer\":").unwrap();
    assert_eq!(store::cached_metadata::<ProviderMetadata>(&Browser), None);
}

/// Replaces `window.fetch` with a recorder that never answers, runs `body`, and returns
/// the requests it was given; the real fetch is back afterwards.
fn with_recorded_fetch(body: impl FnOnce()) -> js_sys::Array {
    /// Puts the real fetch back however `body` ends, a failed assertion included.
    struct Restore;
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = js_sys::Function::new_no_args("window.fetch = window.__fetch;").call0(&JsValue::NULL);
        }
    }
    let install = js_sys::Function::new_no_args(
        "window.__recorded = []; window.__fetch = window.fetch;
         window.fetch = (request) => { window.__recorded.push(request); return new Promise(() => {}); };",
    );
    install.call0(&JsValue::NULL).expect("install");
    let restore = Restore;
    body();
    drop(restore);
    js_sys::Reflect::get(&window(), &"__recorded".into()).expect("recorded").unchecked_into()
}

#[wasm_bindgen_test]
async fn revocation_is_a_keepalive_form_post_without_referrer_or_cache() {
    let recorded = with_recorded_fetch(|| http::post_form_and_forget("https://id.example/revoke", "token=x"));
    assert_eq!(recorded.length(), 1);
    let request: web_sys::Request = recorded.get(0).unchecked_into();
    let keepalive = js_sys::Reflect::get(&request, &"keepalive".into()).expect("keepalive");
    assert_eq!(keepalive.as_bool(), Some(true));
    assert_eq!(request.method(), "POST");
    assert_eq!(request.url(), "https://id.example/revoke");
    assert_eq!(request.headers().get("content-type").unwrap().as_deref(), Some("application/x-www-form-urlencoded"));
    assert_eq!(request.referrer_policy(), web_sys::ReferrerPolicy::NoReferrer);
    assert_eq!(request.mode(), web_sys::RequestMode::Cors);
    assert_eq!(request.cache(), web_sys::RequestCache::NoStore);
    let body = wasm_bindgen_futures::JsFuture::from(request.text().unwrap()).await.unwrap();
    assert_eq!(body.as_string().as_deref(), Some("token=x"));
}

/// RFC 6749 §3.1: an endpoint's own query "MUST be retained", byte for byte here.
#[wasm_bindgen_test]
fn an_endpoints_own_query_is_kept_as_it_is() {
    let url = "https://id.example/keys?p=b2c_1_susi&x=%7E";
    let recorded = with_recorded_fetch(|| {
        let _in_flight = http::start(HttpRequest::Get { url }).expect("started");
    });
    let request: web_sys::Request = recorded.get(0).unchecked_into();
    assert_eq!(request.url(), url);
    assert_eq!(request.cache(), web_sys::RequestCache::NoStore, "a GET's answer is not cached");
}

/// The token is the request's one `Authorization` header; the rest is as the app built it.
#[wasm_bindgen_test]
async fn an_api_request_carries_the_token_as_its_only_authorization() {
    let api = ApiRequest::post("https://api.example/orders")
        .header("Authorization", "Basic c3RvbGVu")
        .header("DPoP", "the-apps-own")
        .header("X-Trace", "7")
        .json(&serde_json::json!({ "item": "tea" }))
        .expect("json");
    let recorded = with_recorded_fetch(|| {
        let request = HttpRequest::Api { request: &api, url: "https://api.example/orders", token: "at-1", proof: None };
        let _in_flight = http::start(request).expect("started");
    });
    assert_eq!(recorded.length(), 1);
    let request: web_sys::Request = recorded.get(0).unchecked_into();
    assert_eq!((request.method(), request.url()), ("POST".to_owned(), "https://api.example/orders".to_owned()));
    let header = |name: &str| request.headers().get(name).expect("header");
    assert_eq!(header("authorization").as_deref(), Some("Bearer at-1"));
    assert_eq!(header("dpop"), None, "the app's own DPoP header is not kept");
    assert_eq!(header("x-trace").as_deref(), Some("7"));
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert_eq!(request.mode(), web_sys::RequestMode::Cors);
    assert_eq!(request.cache(), web_sys::RequestCache::NoStore);
    assert_eq!(request.referrer_policy(), web_sys::ReferrerPolicy::NoReferrer);
    let body = wasm_bindgen_futures::JsFuture::from(request.text().unwrap()).await.unwrap();
    assert_eq!(body.as_string().as_deref(), Some(r#"{"item":"tea"}"#));
}

/// RFC 9449 §7.1: a DPoP-bound token goes as `Authorization: DPoP`, its proof in the `DPoP`
/// header; a token request's proof alone, beside its form.
#[wasm_bindgen_test]
async fn a_request_with_a_proof_carries_it_and_names_the_token_dpop() {
    let api = ApiRequest::get("https://api.example/orders").header("DPoP", "the-apps-own");
    let recorded = with_recorded_fetch(|| {
        let request =
            HttpRequest::Api { request: &api, url: "https://api.example/orders", token: "at-1", proof: Some("p.r.f") };
        let _api = http::start(request).expect("started");
        let form = HttpRequest::PostForm { url: "https://id.example/token", body: "a=b", proof: Some("t.o.k") };
        let _token = http::start(form).expect("started");
    });
    assert_eq!(recorded.length(), 2);
    let request: web_sys::Request = recorded.get(0).unchecked_into();
    let header = |request: &web_sys::Request, name: &str| request.headers().get(name).expect("header");
    assert_eq!(header(&request, "authorization").as_deref(), Some("DPoP at-1"));
    assert_eq!(header(&request, "dpop").as_deref(), Some("p.r.f"), "the session's proof, not the app's header");
    let token_request: web_sys::Request = recorded.get(1).unchecked_into();
    assert_eq!(header(&token_request, "dpop").as_deref(), Some("t.o.k"));
    assert_eq!(header(&token_request, "authorization"), None);
    assert_eq!(header(&token_request, "content-type").as_deref(), Some("application/x-www-form-urlencoded"));
    // The token request may reuse its preflight (the DPoP header needs one); the API's
    // answer, a GET, is never cached.
    assert_eq!(token_request.cache(), web_sys::RequestCache::Default);
    assert_eq!(request.cache(), web_sys::RequestCache::NoStore);
}

/// The origin the session checks is the one fetch would reach: the browser's own parser.
#[wasm_bindgen_test]
fn api_urls_are_read_by_the_browsers_own_parser() {
    let page = location::origin();
    let scheme = page.split("//").next().expect("scheme");
    for (url, origin) in [
        ("/api/me", page.clone()),
        ("api/me", page.clone()),
        ("//elsewhere.example/x", format!("{scheme}//elsewhere.example")),
        ("/\\elsewhere.example/x", format!("{scheme}//elsewhere.example")),
        ("https://app.example@elsewhere.example/", "https://elsewhere.example".to_owned()),
        ("https://API.example:443/x", "https://api.example".to_owned()),
        ("ht\ttps://api.example/x", "https://api.example".to_owned()),
        ("data:text/plain,x", "null".to_owned()),
    ] {
        let resolved = Browser.resolve_url(url).expect(url);
        assert_eq!(resolved.origin, origin, "{url}");
    }
    assert_eq!(Browser.resolve_url("https://[nope/"), None);
}

/// A request nobody waits for any more (the keys, when the token request failed) stops.
#[wasm_bindgen_test]
fn dropping_an_in_flight_request_aborts_it() {
    let recorded = with_recorded_fetch(|| {
        let in_flight = http::start(HttpRequest::Get { url: "https://id.example/jwks" }).expect("started");
        drop(in_flight);
    });
    let request: web_sys::Request = recorded.get(0).unchecked_into();
    assert_eq!(request.url(), "https://id.example/jwks");
    assert!(request.signal().aborted(), "the dropped request was aborted");
}

#[wasm_bindgen_test]
fn replace_path_scrubs_the_callback_query_and_announces_it() {
    let history = window().history().expect("history");
    let before = history.length().expect("length");
    history.push_state_with_url(&JsValue::NULL, "", Some("/callback?code=c0de&state=st4te&iss=x")).expect("push");
    let heard = std::rc::Rc::new(std::cell::Cell::new(0));
    let counter = heard.clone();
    let listener = Closure::<dyn Fn()>::new(move || counter.set(counter.get() + 1));
    window().add_event_listener_with_callback("popstate", listener.as_ref().unchecked_ref()).expect("listen");

    location::replace_path("/callback");

    let href = window().location().href().expect("href");
    assert!(href.ends_with("/callback"), "{href}");
    assert!(!href.contains("c0de") && !href.contains("st4te"));
    assert_eq!(location::query(), "");
    assert_eq!(history.length().expect("length"), before + 1, "replaced, not pushed");
    assert_eq!(heard.get(), 1, "routers hear about it through popstate");
    window().remove_event_listener_with_callback("popstate", listener.as_ref().unchecked_ref()).expect("unlisten");
}

#[wasm_bindgen_test]
async fn a_dead_server_is_a_network_error_not_a_panic() {
    let in_flight = Browser.send(HttpRequest::Get { url: "http://127.0.0.1:9/.well-known/openid-configuration" });
    let outcome = in_flight.expect("started").await;
    assert!(matches!(outcome, Err(AuthError::Network(_))), "{:?}", outcome.err());
}

#[wasm_bindgen_test]
async fn guard_shows_its_content_to_a_signed_in_person() {
    let root = container();
    let user = User { sub: "alice".into(), name: Some("Alice Liddell".into()), email: None, profile_loaded: true };
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_auth_in_state(AuthState::SignedIn(user));
        view! { <RequireAuth><p id="protected">"for Alice"</p></RequireAuth> }
    });
    leptos::task::tick().await;
    assert_eq!(wait_for(&root, "#protected").await.text_content().as_deref(), Some("for Alice"));
}

/// Issue 14: while the app starts, whether anyone is signed in is not known: the guard
/// waits rather than sending the person off to sign in.
#[wasm_bindgen_test]
async fn guard_waits_while_the_app_is_starting() {
    let root = container();
    let owner = Owner::new();
    let auth = owner.with(|| provide_auth_in_state(AuthState::Starting));
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_context(auth);
        view! { <RequireAuth><p id="protected">"secret"</p></RequireAuth> }
    });
    let status = wait_for(&root, "[role=status]").await;
    leptos::task::tick().await;
    sleep(50).await;
    assert_eq!(auth.state(), AuthState::Starting, "the guard started a sign-in");
    assert!(status.text_content().unwrap_or_default().contains('…'));
    assert!(root.query_selector("#protected").unwrap().is_none(), "content stays hidden");
}

#[wasm_bindgen_test]
async fn guard_keeps_content_hidden_and_explains_when_the_provider_is_unreachable() {
    let root = container();
    // The tests share one page: be on an ordinary route, not the callback.
    location::replace_path("/profile");
    // A real config, pointing at a port where nothing listens.
    let config =
        "data:application/json,%7B%22issuer%22%3A%22http%3A%2F%2F127.0.0.1%3A9%22%2C%22client_id%22%3A%22c%22%7D";
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_auth(config);
        view! { <RequireAuth><p id="protected">"secret"</p></RequireAuth> }
    });
    let alert = wait_for(&root, "[role=alert]").await;
    assert_eq!(alert.get_attribute("data-error-code").as_deref(), Some("network"));
    assert!(root.text_content().unwrap_or_default().contains("could not be reached"));
    assert!(root.query_selector("#protected").unwrap().is_none(), "content stays hidden");
    assert!(root.text_content().unwrap_or_default().contains("Try again"));
}

#[wasm_bindgen_test]
async fn guard_asks_before_signing_in_again_after_sign_out() {
    let root = container();
    let user = User { sub: "alice".into(), name: None, email: None, profile_loaded: true };
    let owner = Owner::new();
    let auth = owner.with(|| provide_auth_in_state(AuthState::SignedIn(user)));
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_context(auth);
        view! { <RequireAuth><p id="protected">"secret"</p></RequireAuth> }
    });
    wait_for(&root, "#protected").await;
    auth.sign_out();
    leptos::task::tick().await;
    let text = wait_for(&root, "section.card").await.text_content().unwrap_or_default();
    assert!(text.contains("You are signed out"), "{text}");
    assert!(root.query_selector("#protected").unwrap().is_none());
    assert_eq!(auth.access_token().await, Err(AuthError::NotSignedIn));
}

#[wasm_bindgen_test]
async fn a_provider_error_is_shown_as_text_never_as_markup() {
    let root = container();
    let error = AuthError::Provider {
        error: "access_denied".into(),
        description: Some("<img id=injected src=x onerror=alert(1)>".into()),
    };
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_auth_in_state(AuthState::Failed(error.clone()));
        view! { <AuthFailure error/> }
    });
    let message = wait_for(&root, ".message").await;
    assert!(message.text_content().unwrap_or_default().contains("<img id=injected"));
    assert!(root.query_selector("#injected").unwrap().is_none(), "no element was created from the text");
}

/// Issue 13, item 12: a provider that lists PKCE methods without S256 is refused before
/// the redirect, and no sign-in is left pending; one that lists S256 gets one.
#[wasm_bindgen_test]
async fn a_provider_without_s256_leaves_no_sign_in_pending() {
    use leptos_oidc_auth::oauth::ClientConfig;
    use leptos_oidc_auth::session::steps::start_sign_in;
    let config = ClientConfig::parse(r#"{"issuer":"https://id.example.com","client_id":"c"}"#, &location::origin())
        .expect("config");
    let pending = || store::pending_records::<PendingSignIn>(&Browser).len();
    let before = pending();
    let plain_only = ProviderMetadata { code_challenge_methods_supported: Some(vec!["plain".into()]), ..metadata() };
    let refused = start_sign_in(&Browser, &config, &plain_only, "/", false).await.expect_err("refused");
    assert_eq!(refused.code(), "discovery");
    assert_eq!(pending(), before, "nothing pending");
    let with_s256 = ProviderMetadata { code_challenge_methods_supported: Some(vec!["S256".into()]), ..metadata() };
    let url = start_sign_in(&Browser, &config, &with_s256, "/", false).await.expect("a sign-in");
    assert!(url.starts_with("https://id.example.com/a?"), "{url}");
    assert_eq!(pending(), before + 1, "one pending sign-in");
}

/// The S256 challenge is computed by sha2 inside the .wasm: RFC 7636 Appendix B there too.
#[wasm_bindgen_test]
fn pkce_challenge_in_wasm_matches_rfc7636_appendix_b() {
    use leptos_oidc_auth::oauth::pkce::PkceVerifier;
    let verifier = PkceVerifier::from_stored("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").expect("a verifier");
    assert_eq!(verifier.challenge_s256(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

#[wasm_bindgen_test]
fn the_callback_reuses_the_config_this_tab_signed_in_with() {
    use leptos_oidc_auth::session::steps::config_for_callback;
    store::cache_config(
        &Browser,
        &serde_json::json!({"issuer": "https://id.example.com", "client_id": "cached-client"}),
    );
    location::replace_path("/callback");
    let config = config_for_callback(&Browser).expect("the callback route uses the cached config");
    assert_eq!(config.client_id, "cached-client");
    location::replace_path("/profile");
    assert!(config_for_callback(&Browser).is_none(), "other routes load config.json afresh");
    location::replace_path("/callback");
    store::cache_config(&Browser, "{broken");
    assert!(config_for_callback(&Browser).is_none(), "an unreadable copy is ignored");
    // Leave the shared page as other tests expect it: not on the callback route.
    session().remove_item(&format!("{}config", store::NAMESPACE)).expect("removed");
    location::replace_path("/");
}

#[wasm_bindgen_test]
async fn a_failed_profile_load_does_not_leave_the_person_loading_forever() {
    let user = User { sub: "alice".into(), name: None, email: None, profile_loaded: false };
    let owner = Owner::new();
    // No config can be loaded here, so the UserInfo call fails.
    let auth = owner.with(|| provide_auth_in_state(AuthState::SignedIn(user)));
    assert!(auth.reload_profile().await.is_err());
    match auth.state() {
        AuthState::SignedIn(user) => {
            assert!(user.profile_loaded, "still 'loading' after the failure");
            assert_eq!(user.display_name(), "alice", "shown as the ID token says");
        }
        other => panic!("signed out by a failed profile load: {other:?}"),
    }
}

/// ID tokens signed by Node's crypto (OpenSSL; tests/fixtures/make-jws-vectors.mjs),
/// verified the app's way: key chosen by the protocol core, signature checked by WebCrypto.
#[wasm_bindgen_test]
async fn id_token_signatures_verify_with_webcrypto_and_forgeries_do_not() {
    use leptos_oidc_auth::browser::verify_signature;
    use leptos_oidc_auth::oauth::signature_check;

    let vectors: Vec<serde_json::Value> =
        serde_json::from_str(include_str!("fixtures/jws-vectors.json")).expect("vectors");
    let mut algorithms = Vec::new();
    for vector in &vectors {
        let field = |name: &str| vector.get(name).and_then(serde_json::Value::as_str).expect(name);
        let alg = field("alg");
        let verdict = |token: &str, jwks: &str| {
            let check = signature_check(token, jwks, &[alg.to_owned()]).expect(alg);
            async move { verify_signature(&check).await }
        };
        assert_eq!(verdict(field("token"), field("jwks")).await, Some(true), "{alg}: a good signature");
        assert_eq!(verdict(field("tampered"), field("jwks")).await, Some(false), "{alg}: other claims");
        assert_eq!(verdict(field("token"), field("other_jwks")).await, Some(false), "{alg}: another key");
        let mut flipped = field("token").to_owned();
        let last = flipped.pop().expect("a signature");
        flipped.push(if last == 'A' { 'Q' } else { 'A' });
        assert_eq!(verdict(&flipped, field("jwks")).await, Some(false), "{alg}: a changed signature");
        algorithms.push(alg.to_owned());
    }
    assert_eq!(algorithms, ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]);
}

/// With `panic = "abort"` a panic kills the page: a handle kept past its owner (an
/// unmounted app, a handle moved into a late task) answers or does nothing instead.
#[wasm_bindgen_test]
async fn a_handle_outliving_its_owner_answers_instead_of_aborting() {
    let owner = Owner::new();
    let auth = owner.with(|| provide_auth_in_state(AuthState::SignedOut));
    owner.cleanup();
    assert_eq!(auth.access_token().await, Err(AuthError::NotSignedIn));
    assert_eq!(auth.reload_profile().await, Err(AuthError::NotSignedIn));
    auth.sign_in("/");
    auth.sign_out();
    assert!(!auth.signed_out_by_user());
}

/// The page's policy is narrowed by a meta tag in the head, which the browser enforces from
/// then on (the end-to-end suite shows it refusing a request); here, that the tag is there,
/// last, with the policy as given. (A harmless directive: every test shares this page.)
#[wasm_bindgen_test]
fn restricting_the_page_adds_its_policy_to_the_head() {
    let document = window().document().expect("document");
    let selector = "head > meta[http-equiv='Content-Security-Policy']";
    let before = document.query_selector_all(selector).expect("query").length();
    assert!(Browser.restrict_page("manifest-src 'none'"));
    let metas = document.query_selector_all(selector).expect("query");
    assert_eq!(metas.length(), before + 1);
    let last = metas.item(metas.length() - 1).and_then(|node| node.dyn_into::<web_sys::Element>().ok()).expect("meta");
    assert_eq!(last.get_attribute("content").as_deref(), Some("manifest-src 'none'"));
}

/// Adds the tag the build writes the page's policy into, with `policy`, to the head.
fn add_built_policy_tag(policy: &str) -> web_sys::Element {
    let document = window().document().expect("document");
    let tag = document.create_element("meta").expect("meta");
    tag.set_attribute("name", "leptos-oidc:content-security-policy").expect("name");
    tag.set_attribute("content", policy).expect("content");
    document.query_selector("head").ok().flatten().expect("head").append_child(&tag).expect("appended");
    tag
}

/// The build writes the page's policy into a plain meta tag (a `<meta http-equiv>` in the
/// served page would hold back the browser's preloads); the app enforces it as it starts.
/// Without that tag, or with an empty one, nothing is added; once enforced, the tag is taken
/// out, so a second call adds nothing. (A harmless directive: every test shares this page.)
#[wasm_bindgen_test]
fn the_built_policy_is_enforced_from_its_meta_tag() {
    use leptos_oidc_auth::browser::enforce_built_policy;
    let document = window().document().expect("document");
    let enforced = "head > meta[http-equiv='Content-Security-Policy']";
    let built = "meta[name='leptos-oidc:content-security-policy']";
    while let Ok(Some(old)) = document.query_selector(built) {
        old.remove();
    }
    // console.warn, recorded: the warning a page without a built policy gets.
    let record = js_sys::Function::new_no_args(
        "const warned = (window.__warned = []); const warn = console.warn;
         console.warn = (...args) => { warned.push(args.join(' ')); };
         return () => { console.warn = warn; };",
    );
    let restore: js_sys::Function = record.call0(&JsValue::NULL).expect("recording").into();
    let warned = || js_sys::Array::from(&js_sys::Reflect::get(&window(), &"__warned".into()).expect("record"));
    let before = document.query_selector_all(enforced).expect("query").length();
    assert!(!enforce_built_policy(), "no built policy in this page");
    assert_eq!(document.query_selector_all(enforced).expect("query").length(), before);
    assert_eq!(warned().length(), 1, "{:?}", warned());
    assert!(warned().get(0).as_string().unwrap_or_default().contains("No built Content-Security-Policy"));

    let blank = add_built_policy_tag("  ");
    assert!(!enforce_built_policy(), "a blank policy");
    assert_eq!(document.query_selector_all(enforced).expect("query").length(), before);
    blank.remove();

    assert_eq!(warned().length(), 2, "a blank policy is warned about: {:?}", warned());

    add_built_policy_tag("worker-src 'none'");
    assert!(enforce_built_policy());
    assert_eq!(warned().length(), 2, "no warning when enforced: {:?}", warned());
    restore.call0(&JsValue::NULL).expect("restored");
    assert!(document.query_selector(built).expect("query").is_none(), "the tag is taken out once enforced");
    assert!(!enforce_built_policy(), "enforced once");
    let metas = document.query_selector_all(enforced).expect("query");
    assert_eq!(metas.length(), before + 1);
    let last = metas.item(metas.length() - 1).and_then(|node| node.dyn_into::<web_sys::Element>().ok()).expect("meta");
    assert_eq!(last.get_attribute("content").as_deref(), Some("worker-src 'none'"));
}

/// `provide_auth` enforces the built policy before the app reads storage or the network:
/// each `getItem` and `fetch` the start-up makes finds the tag already enforced (taken out).
#[wasm_bindgen_test]
async fn provide_auth_enforces_the_built_policy_before_it_reads_storage_or_the_network() {
    let root = container();
    location::replace_path("/profile");
    add_built_policy_tag("worker-src 'none'");
    let record = js_sys::Function::new_no_args(
        "const seen = (window.__policy_first = []);
         const enforced = () => document.querySelector(\"meta[name='leptos-oidc:content-security-policy']\") === null;
         const getItem = Storage.prototype.getItem, fetch = window.fetch;
         Storage.prototype.getItem = function (key) { seen.push(enforced()); return getItem.call(this, key); };
         window.fetch = function (...args) { seen.push(enforced()); return fetch.apply(this, args); };
         return () => { Storage.prototype.getItem = getItem; window.fetch = fetch; };",
    );
    let restore: js_sys::Function = record.call0(&JsValue::NULL).expect("recording").into();
    let config =
        "data:application/json,%7B%22issuer%22%3A%22http%3A%2F%2F127.0.0.1%3A9%22%2C%22client_id%22%3A%22c%22%7D";
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        provide_auth(config);
        view! { <RequireAuth><p id="protected">"secret"</p></RequireAuth> }
    });
    wait_for(&root, "[role=alert]").await; // config read, the provider unreachable
    restore.call0(&JsValue::NULL).expect("restored");
    let seen = js_sys::Array::from(&js_sys::Reflect::get(&window(), &"__policy_first".into()).expect("record"));
    assert!(seen.length() >= 2, "storage and the network were read: {seen:?}");
    assert!(seen.iter().all(|enforced| enforced.as_bool() == Some(true)), "read before the policy: {seen:?}");
}

/// RFC 9449: the page's DPoP key is made by WebCrypto with its private half not
/// extractable; a proof built by `oauth::dpop` and signed with it verifies with the public
/// JWK its own header carries (WebCrypto's ES256 check, as for ID tokens).
#[wasm_bindgen_test]
async fn a_dpop_proof_signed_by_the_page_key_verifies_with_the_key_in_its_header() {
    use leptos_oidc_auth::browser::dpop::DpopKey;
    use leptos_oidc_auth::oauth::dpop::{ProofClaims, PublicJwk, proof, proof_signing_input};
    use leptos_oidc_auth::oauth::{JwsAlgorithm, SignatureCheck};

    let (key, public_jwk) = DpopKey::generate().await.expect("a key");
    assert!(!key.private_key_extractable(), "the private key can be read out");
    let PublicJwk::Ec { crv, x, y } = public_jwk.clone() else { panic!("not an EC key") };
    assert_eq!((crv.as_str(), x.len(), y.len()), ("P-256", 43, 43));
    let claims =
        ProofClaims { jti: "j1", htm: "POST", htu: "https://id.example/token", iat: 1, nonce: None, ath: None };
    let input = proof_signing_input(&public_jwk, &claims);
    let signature = key.sign(&input).await.expect("signed");
    assert_eq!(signature.len(), 64, "r || s");
    let jwk = format!(r#"{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}"}}"#);
    let check = |signing_input: &str| SignatureCheck {
        alg: JwsAlgorithm::Es256,
        jwk: jwk.clone(),
        signing_input: signing_input.to_owned(),
        signature: signature.clone(),
    };
    assert_eq!(leptos_oidc_auth::browser::verify_signature(&check(&input)).await, Some(true));
    assert_eq!(leptos_oidc_auth::browser::verify_signature(&check(&format!("{input}x"))).await, Some(false));
    assert_eq!(proof(&input, &signature).split('.').count(), 3);
    let (_, other) = DpopKey::generate().await.expect("a second key");
    assert_ne!(other.thumbprint(), public_jwk.thumbprint(), "a key of its own");
}
