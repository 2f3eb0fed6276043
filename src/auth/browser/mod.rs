//! The only code that touches web APIs. It moves bytes between the protocol core and
//! the browser (storage, fetch, address bar, random numbers, clock) and makes no
//! protocol decisions of its own.

pub mod http;
pub mod location;
pub mod storage;

/// Fills `bytes` from the browser's CSPRNG (`crypto.getRandomValues`, through getrandom).
/// Returns false if the browser has none, which no supported browser lacks.
pub fn fill_random(bytes: &mut [u8]) -> bool {
    getrandom::fill(bytes).is_ok()
}

/// SHA-256 of `text`, by the browser's WebCrypto (`crypto.subtle.digest`), available on
/// HTTPS and localhost pages. `None` if the browser refuses.
pub async fn sha256(text: &str) -> Option<[u8; 32]> {
    let subtle = web_sys::window()?.crypto().ok()?.subtle();
    let promise = subtle.digest_with_str_and_u8_array("SHA-256", text.as_bytes()).ok()?;
    let buffer = wasm_bindgen_futures::JsFuture::from(promise).await.ok()?;
    js_sys::Uint8Array::new(&buffer).to_vec().try_into().ok()
}

/// Waits `ms` milliseconds without blocking the page.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Seconds since the Unix epoch, from the browser's clock.
pub fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}
