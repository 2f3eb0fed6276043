//! sessionStorage through gloo-storage, namespaced. Only these live here: pending sign-ins
//! (each under its own `state`, until its one use), and two public documents: the app's
//! config and the provider's metadata. Tokens never do. Values are stored as JSON (serde);
//! whatever is read back is untrusted, and the protocol core checks it.

use gloo_storage::{SessionStorage, Storage};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::oauth::document;

/// Every key this module writes starts with this, so it never collides with the app's.
pub const NAMESPACE: &str = "leptos-oidc:";
const PENDING: &str = "leptos-oidc:pending:";
const METADATA: &str = "leptos-oidc:metadata";
const CONFIG: &str = "leptos-oidc:config";

/// Whether this page may use sessionStorage. gloo-storage throws a JavaScript exception
/// when the browser blocks it (site data disabled), so every use asks first: the storage
/// is looked up twice, by design.
fn available() -> bool {
    web_sys::window().is_some_and(|window| window.session_storage().is_ok_and(|storage| storage.is_some()))
}

/// Reads back what [`set`] stored. Storage is untrusted input, so it is read by the same
/// rules as a server's answer (`oauth::document`: bounded, objects only) rather than by
/// gloo-storage's own `get`, which would read a struct from an array too.
fn get<T: DeserializeOwned>(key: &str) -> Option<T> {
    let text = available().then(|| SessionStorage::raw().get_item(key).ok().flatten()).flatten()?;
    document::parse(&text).ok()
}

/// False if storage is unavailable or full.
fn set<T: Serialize + ?Sized>(key: &str, value: &T) -> bool {
    available() && SessionStorage::set(key, value).is_ok()
}

fn remove(key: &str) {
    if available() {
        SessionStorage::delete(key);
    }
}

fn pending_key(state: &str) -> String {
    format!("{PENDING}{state}")
}

/// Stores a pending sign-in under its state. False if storage is unavailable or full.
pub fn put_pending<T: Serialize + ?Sized>(state: &str, record: &T) -> bool {
    set(&pending_key(state), record)
}

/// Takes the pending sign-in stored under `state` out of storage: it is returned once
/// and deleted, so a replayed callback finds nothing. `None` also when what is stored
/// there cannot be read as a `T`.
pub fn take_pending<T: DeserializeOwned>(state: &str) -> Option<T> {
    let key = pending_key(state);
    let record = get(&key);
    remove(&key);
    record
}

/// Every pending sign-in still stored, as (state, record) pairs; the record is `None`
/// where what is stored cannot be read as a `T`.
pub fn pending_records<T: DeserializeOwned>() -> Vec<(String, Option<T>)> {
    if !available() {
        return Vec::new();
    }
    let storage = SessionStorage::raw();
    let keys: Vec<String> = (0..SessionStorage::length()).filter_map(|i| storage.key(i).ok().flatten()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let state = key.strip_prefix(PENDING)?.to_owned();
            Some((state, get(&key)))
        })
        .collect()
}

/// Removes the pending sign-in stored under `state`.
pub fn remove_pending(state: &str) {
    remove(&pending_key(state));
}

/// The cached provider metadata (public information), if any.
pub fn cached_metadata<T: DeserializeOwned>() -> Option<T> {
    get(METADATA)
}

/// Keeps the provider's metadata (public information) in this tab, for [`cached_metadata`];
/// nothing is kept if storage is unavailable or full.
pub fn cache_metadata<T: Serialize + ?Sized>(metadata: &T) {
    set(METADATA, metadata);
}

/// Removes the cached provider metadata, so that the next load discovers it afresh.
pub fn forget_metadata() {
    remove(METADATA);
}

/// The config this tab last loaded, if any.
pub fn cached_config<T: DeserializeOwned>() -> Option<T> {
    get(CONFIG)
}

/// Keeps the app's config in this tab, for the callback ([`cached_config`]); nothing is
/// kept if storage is unavailable or full.
pub fn cache_config<T: Serialize + ?Sized>(config: &T) {
    set(CONFIG, config);
}
