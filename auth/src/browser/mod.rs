//! The only code that touches web APIs. It moves bytes between the protocol core and
//! the browser (storage, fetch, address bar, random numbers, clock) and makes no
//! protocol decisions of its own.

pub mod http;
pub mod location;
pub mod storage;

use super::oauth::SignatureCheck;

/// Fills `bytes` from the browser's CSPRNG (`crypto.getRandomValues`, through getrandom).
/// Returns false if the browser has none, which no supported browser lacks.
pub fn fill_random(bytes: &mut [u8]) -> bool {
    getrandom::fill(bytes).is_ok()
}

/// Runs a signature check the protocol core prepared (`oauth::jws`) through WebCrypto
/// (no crate does RSA and ECDSA verification as small and as fast as the browser's own):
/// imports its JWK and verifies. `Some(valid)`, or `None` if WebCrypto refused the key
/// or the parameters.
pub async fn verify_signature(check: &SignatureCheck) -> Option<bool> {
    use js_sys::{Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;

    let subtle = web_sys::window()?.crypto().ok()?.subtle();
    // One dictionary serves importKey and verify: each reads the members it knows.
    let algorithm = Object::new();
    let set = |name: &str, value: JsValue| Reflect::set(&algorithm, &name.into(), &value).ok();
    set("name", check.alg.webcrypto_name().into())?;
    set("hash", check.alg.hash().into())?;
    if let Some((curve, _)) = check.alg.curve() {
        set("namedCurve", curve.into())?;
    }
    if let Some(salt_length) = check.alg.pss_salt_len() {
        set("saltLength", salt_length.into())?;
    }
    let jwk: Object = js_sys::JSON::parse(&check.jwk).ok()?.dyn_into().ok()?;
    let usages = js_sys::Array::of1(&"verify".into());
    let import = subtle.import_key_with_object("jwk", &jwk, &algorithm, false, &usages).ok()?;
    let key: web_sys::CryptoKey = JsFuture::from(import).await.ok()?.dyn_into().ok()?;
    let verify = subtle
        .verify_with_object_and_u8_array_and_u8_array(
            &algorithm,
            &key,
            &check.signature,
            check.signing_input.as_bytes(),
        )
        .ok()?;
    JsFuture::from(verify).await.ok()?.as_bool()
}

/// Waits `ms` milliseconds without blocking the page.
pub async fn sleep(ms: u32) {
    gloo_timers::future::TimeoutFuture::new(ms).await;
}

/// Seconds since the Unix epoch, from the browser's clock.
pub fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}
