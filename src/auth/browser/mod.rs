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

/// Seconds since the Unix epoch, from the browser's clock.
pub fn now_secs() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}
