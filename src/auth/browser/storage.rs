//! sessionStorage, namespaced. Only these live here: pending sign-ins (each under its own
//! `state`, until its one use), and two public documents: the app's config and the
//! provider's metadata. Tokens never do.

use crate::auth::oauth::text::concat;
use web_sys::Storage;

/// Every key this module writes starts with this, so it never collides with the app's.
pub const NAMESPACE: &str = "leptos-oidc:";
const PENDING: &str = "leptos-oidc:pending:";
const METADATA: &str = "leptos-oidc:metadata";
const CONFIG: &str = "leptos-oidc:config";

fn session() -> Option<Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

fn get(key: &str) -> Option<String> {
    session()?.get_item(key).ok().flatten()
}

/// False if storage is unavailable or full.
fn set(key: &str, value: &str) -> bool {
    session().is_some_and(|s| s.set_item(key, value).is_ok())
}

fn remove(key: &str) {
    if let Some(storage) = session() {
        let _ = storage.remove_item(key);
    }
}

/// Stores a pending sign-in under its state. False if storage is unavailable or full.
pub fn put_pending(state: &str, record: &str) -> bool {
    set(&concat(&[PENDING, state]), record)
}

/// Takes the pending sign-in stored under `state` out of storage: it is returned once
/// and deleted, so a replayed callback finds nothing.
pub fn take_pending(state: &str) -> Option<String> {
    let key = concat(&[PENDING, state]);
    let record = get(&key);
    remove(&key);
    record
}

/// Every pending sign-in still stored, as (state, record) pairs.
pub fn pending_records() -> Vec<(String, String)> {
    let Some(storage) = session() else { return Vec::new() };
    let count = storage.length().unwrap_or(0);
    let keys: Vec<String> = (0..count).filter_map(|i| storage.key(i).ok().flatten()).collect();
    keys.into_iter()
        .filter_map(|key| {
            let state = key.strip_prefix(PENDING)?.to_owned();
            Some((state, get(&key)?))
        })
        .collect()
}

/// Removes the pending sign-in stored under `state`.
pub fn remove_pending(state: &str) {
    remove(&concat(&[PENDING, state]));
}

/// The cached metadata document (public information), if any.
pub fn cached_metadata() -> Option<String> {
    get(METADATA)
}

pub fn cache_metadata(document: &str) {
    set(METADATA, document);
}

pub fn forget_metadata() {
    remove(METADATA);
}

/// The config document this tab last loaded, if any.
pub fn cached_config() -> Option<String> {
    get(CONFIG)
}

pub fn cache_config(document: &str) {
    set(CONFIG, document);
}
