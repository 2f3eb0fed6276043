//! sessionStorage and localStorage through gloo-storage, as plain text under keys: what is
//! stored and how it is read back is the session core's business (`session::store`).

use gloo_storage::{LocalStorage, SessionStorage, Storage};

/// Whether this page may use sessionStorage. gloo-storage throws a JavaScript exception
/// when the browser blocks it (site data disabled), so every use asks first: the storage
/// is looked up twice, by design.
fn available() -> bool {
    web_sys::window().is_some_and(|window| window.session_storage().is_ok_and(|storage| storage.is_some()))
}

/// The text under `key`, if any.
pub fn read(key: &str) -> Option<String> {
    available().then(|| SessionStorage::raw().get_item(key).ok().flatten()).flatten()
}

/// Stores `value` under `key`; false if storage is unavailable or full.
pub fn write(key: &str, value: &str) -> bool {
    available() && SessionStorage::raw().set_item(key, value).is_ok()
}

/// Removes `key`.
pub fn delete(key: &str) {
    if available() {
        SessionStorage::delete(key);
    }
}

/// Every key stored.
pub fn keys() -> Vec<String> {
    if !available() {
        return Vec::new();
    }
    let storage = SessionStorage::raw();
    (0..SessionStorage::length()).filter_map(|i| storage.key(i).ok().flatten()).collect()
}

/// Whether this page may use localStorage (blocked like sessionStorage when site data is).
fn local_available() -> bool {
    web_sys::window().is_some_and(|window| window.local_storage().is_ok_and(|storage| storage.is_some()))
}

/// The text under `key` in localStorage, if any.
pub fn shared_read(key: &str) -> Option<String> {
    local_available().then(|| LocalStorage::raw().get_item(key).ok().flatten()).flatten()
}

/// Stores `value` under `key` in localStorage; false if unavailable or full.
pub fn shared_write(key: &str, value: &str) -> bool {
    local_available() && LocalStorage::raw().set_item(key, value).is_ok()
}

/// Removes `key` from localStorage.
pub fn shared_delete(key: &str) {
    if local_available() {
        LocalStorage::delete(key);
    }
}
