//! What the session keeps in storage, namespaced. In the tab's storage (sessionStorage):
//! pending sign-ins (each under its own `state`, until its one use), two public documents
//! (the app's config and the provider's metadata), whether this tab has tried a silent
//! restore (with the sign-out signal as it was then), and the `state` of a sign-out at the
//! provider until the browser is back. In storage shared by the app's tabs (localStorage):
//! the session marker, which says only that this browser was signed in at this provider, the
//! sign-out signal, a counter, and the newest DPoP nonce each server gave (public values the
//! servers hand to anyone). Tokens never. Values are
//! stored as JSON (serde); whatever is read back is untrusted, and is read by the same
//! rules as a server's answer (`oauth::document`: bounded, objects only).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::platform::Platform;
use crate::oauth::document;
use crate::oauth::dpop::is_nonce;

/// Every key the session writes starts with this, so it never collides with the app's.
pub const NAMESPACE: &str = "leptos-oidc:";
const METADATA: &str = "leptos-oidc:metadata";
const CONFIG: &str = "leptos-oidc:config";
const MARKER: &str = "leptos-oidc:session";
const SIGNED_OUT: &str = "leptos-oidc:signed-out";
const RESTORE_TRIED: &str = "leptos-oidc:restore-tried";
const RESTORE_SIGNAL: &str = "leptos-oidc:restore-signal";
const RESTORE_LEFT: &str = "leptos-oidc:restore-left";
const SIGN_OUT_STATE: &str = "leptos-oidc:sign-out-state";
const DPOP_NONCES: &str = "leptos-oidc:dpop-nonces";

fn get<T: DeserializeOwned>(platform: &impl Platform, key: &str) -> Option<T> {
    document::parse(&platform.storage_get(key)?).ok()
}

/// False if storage is unavailable or full.
fn set<T: Serialize + ?Sized>(platform: &impl Platform, key: &str, value: &T) -> bool {
    serde_json::to_string(value).is_ok_and(|text| platform.storage_set(key, &text))
}

/// [`get`] from the storage the app's tabs share.
fn shared_get<T: DeserializeOwned>(platform: &impl Platform, key: &str) -> Option<T> {
    document::parse(&platform.shared_storage_get(key)?).ok()
}

/// [`set`] in the storage the app's tabs share.
fn shared_set<T: Serialize + ?Sized>(platform: &impl Platform, key: &str, value: &T) -> bool {
    serde_json::to_string(value).is_ok_and(|text| platform.shared_storage_set(key, &text))
}

fn pending_key(state: &str) -> String {
    format!("{NAMESPACE}pending:{state}")
}

/// Stores a pending sign-in under its state. False if storage is unavailable or full.
pub fn put_pending<T: Serialize + ?Sized>(platform: &impl Platform, state: &str, record: &T) -> bool {
    set(platform, &pending_key(state), record)
}

/// Takes the pending sign-in stored under `state` out of storage: it is returned once
/// and deleted, so a replayed callback finds nothing. `None` also when what is stored
/// there cannot be read as a `T`.
pub fn take_pending<T: DeserializeOwned>(platform: &impl Platform, state: &str) -> Option<T> {
    let key = pending_key(state);
    let record = get(platform, &key);
    platform.storage_remove(&key);
    record
}

/// Every pending sign-in still stored, as (state, record) pairs; the record is `None`
/// where what is stored cannot be read as a `T`.
pub fn pending_records<T: DeserializeOwned>(platform: &impl Platform) -> Vec<(String, Option<T>)> {
    platform
        .storage_keys()
        .into_iter()
        .filter_map(|key| {
            let state = key.strip_prefix(NAMESPACE)?.strip_prefix("pending:")?.to_owned();
            Some((state, get(platform, &key)))
        })
        .collect()
}

/// Removes the pending sign-in stored under `state`.
pub fn remove_pending(platform: &impl Platform, state: &str) {
    platform.storage_remove(&pending_key(state));
}

/// The cached provider metadata (public information), if any.
pub fn cached_metadata<T: DeserializeOwned>(platform: &impl Platform) -> Option<T> {
    get(platform, METADATA)
}

/// Keeps the provider's metadata (public information) in this tab, for [`cached_metadata`];
/// nothing is kept if storage is unavailable or full.
pub fn cache_metadata<T: Serialize + ?Sized>(platform: &impl Platform, metadata: &T) {
    set(platform, METADATA, metadata);
}

/// Removes the cached provider metadata, so that the next load discovers it afresh.
pub fn forget_metadata(platform: &impl Platform) {
    platform.storage_remove(METADATA);
}

/// The config this tab last loaded, if any.
pub fn cached_config<T: DeserializeOwned>(platform: &impl Platform) -> Option<T> {
    get(platform, CONFIG)
}

/// Keeps the app's config in this tab, for the callback ([`cached_config`]): false if
/// storage is unavailable or full.
pub fn cache_config<T: Serialize + ?Sized>(platform: &impl Platform, config: &T) -> bool {
    set(platform, CONFIG, config)
}

/// This browser was signed in at `issuer` as `client_id`, until `expires_at` (seconds since
/// the Unix epoch): nothing about the person, no token. A reload or a new tab then restores
/// the session with a silent sign-in rather than showing the person signed out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionMarker {
    /// The issuer the session is with.
    pub issuer: String,
    /// The client that signed in.
    pub client_id: String,
    /// When to stop trying.
    pub expires_at: u64,
}

/// The session marker, if there is one (readable or not, it is the only one).
pub fn marker(platform: &impl Platform) -> Option<SessionMarker> {
    shared_get(platform, MARKER)
}

/// The marker as stored, readable or not: what a tab's one silent attempt is recorded
/// against.
pub fn marker_text(platform: &impl Platform) -> Option<String> {
    platform.shared_storage_get(MARKER)
}

/// Keeps the session marker for the app's other tabs and later loads.
pub fn put_marker(platform: &impl Platform, marker: &SessionMarker) {
    shared_set(platform, MARKER, marker);
}

/// Removes the session marker, and the DPoP nonces kept for the session it stood for.
pub fn forget_marker(platform: &impl Platform) {
    platform.shared_storage_remove(MARKER);
    forget_dpop_nonces(platform);
}

/// After a silent restore was refused: forgets the marker if it is the one this tab tried
/// the restore with. Another tab may have written a newer one meanwhile, which stays.
pub fn forget_tried_marker(platform: &impl Platform) {
    if marker_text(platform) == restore_tried(platform) {
        forget_marker(platform);
    }
}

/// The marker this tab last tried a silent restore with: it tries once per marker, and a
/// new marker is written only by a sign-in that worked.
pub fn restore_tried(platform: &impl Platform) -> Option<String> {
    platform.storage_get(RESTORE_TRIED)
}

/// Records the marker this tab tried a silent restore with, or (`None`) that it may try
/// again.
pub fn set_restore_tried(platform: &impl Platform, marker: Option<&str>) {
    set_text(platform, RESTORE_TRIED, marker);
}

/// Keeps, for the silent sign-in this tab starts, the sign-out signal as it was then: a
/// sign-out in another tab while it is away must not be undone by its return.
pub fn set_restore_signal(platform: &impl Platform, signal: Option<&str>) {
    platform.storage_set(RESTORE_SIGNAL, signal.unwrap_or_default());
}

/// The marker this tab left the page to restore with, until its callback arrives.
pub fn restore_left(platform: &impl Platform) -> Option<String> {
    platform.storage_get(RESTORE_LEFT)
}

/// Records that the tab leaves to restore with `marker` (`None`: it came back).
pub fn set_restore_left(platform: &impl Platform, marker: Option<&str>) {
    set_text(platform, RESTORE_LEFT, marker);
}

/// Keeps the `state` this tab's logout request carries, until the page after it loads.
pub fn put_sign_out_state(platform: &impl Platform, state: &str) {
    platform.storage_set(SIGN_OUT_STATE, state);
}

/// Takes the `state` of this tab's logout request out of storage (it is checked once).
pub fn take_sign_out_state(platform: &impl Platform) -> Option<String> {
    let state = platform.storage_get(SIGN_OUT_STATE);
    platform.storage_remove(SIGN_OUT_STATE);
    state
}

/// How long a kept DPoP nonce is offered to a new page, from when its server gave it: the
/// bound on how stale a kept one can be (a stale one costs a retry or two, never a failure).
const KEPT_NONCE_LIFETIME_SECS: u64 = 300;
/// At most this many servers' nonces are kept, the newest: the provider and a few APIs.
const MAX_KEPT_NONCES: usize = 8;

/// A server's newest DPoP nonce (RFC 9449 §8, §9), as the app's tabs keep it: a public value
/// the server hands to anyone (no key, no token, nothing about the person), kept in the
/// storage all tabs share so that the page a reload brings back, and a new tab, send their
/// first proof with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptNonce {
    /// The server's origin: a nonce goes only to the server that gave it.
    pub origin: String,
    /// The nonce, as the server gave it.
    pub nonce: String,
    /// When the server first gave it (seconds since the Unix epoch): a server that gives the
    /// same one again saves no write.
    pub given_at: u64,
}

#[derive(Serialize, Deserialize)]
struct KeptNonces {
    /// The sign-out signal when the page that kept them made its key: a sign-out in any tab
    /// since makes them stale.
    signal: Option<String>,
    nonces: Vec<KeptNonce>,
}

/// The DPoP nonces the app's tabs kept and the sign-out signal they go with (the current one): none
/// if they cannot be read or are from before a sign-out; each one given over
/// [`KEPT_NONCE_LIFETIME_SECS`] ago, or ahead of the clock, or not a nonce (RFC 9449 §8.1
/// syntax, bounded) left out; the newest [`MAX_KEPT_NONCES`].
pub fn dpop_nonces(platform: &impl Platform) -> (Option<String>, Vec<KeptNonce>) {
    let signal = sign_out_signal(platform);
    let kept = shared_get::<KeptNonces>(platform, DPOP_NONCES);
    let now = platform.now_secs();
    // One from ahead of the clock would otherwise be offered for as long as it is ahead.
    let fresh = |kept: &KeptNonce| {
        kept.given_at <= now && now < kept.given_at.saturating_add(KEPT_NONCE_LIFETIME_SECS) && is_nonce(&kept.nonce)
    };
    let nonces = match kept.filter(|kept| kept.signal == signal) {
        Some(kept) => newest(kept.nonces.into_iter().filter(fresh).collect()),
        None => Vec::new(),
    };
    // A record with nothing left to offer (stale, from before a sign-out, unreadable) does not
    // stay on disk: localStorage outlives the browser.
    if nonces.is_empty() {
        forget_dpop_nonces(platform);
    }
    (signal, nonces)
}

/// Keeps the newest [`MAX_KEPT_NONCES`] DPoP nonces for all tabs, with the sign-out signal of
/// the page that learnt them (nothing is kept if storage is unavailable or full). The last
/// page to learn one writes its list: a tab's older nonce may replace a newer one, which
/// costs the next reader one retry.
pub fn keep_dpop_nonces(platform: &impl Platform, signal: Option<String>, nonces: Vec<KeptNonce>) {
    shared_set(platform, DPOP_NONCES, &KeptNonces { signal, nonces: newest(nonces) });
}

/// The newest nonce of each server, the newest [`MAX_KEPT_NONCES`] servers first (a record
/// read back may hold more than one per server); of nonces given in the same second, the one
/// first in `nonces`. Each goes in at its place: a few at most, and std's sort would add 1.5
/// KB gzip to the .wasm.
fn newest(nonces: Vec<KeptNonce>) -> Vec<KeptNonce> {
    let mut newest: Vec<KeptNonce> = Vec::new();
    for kept in nonces {
        if let Some(at) = newest.iter().position(|server| server.origin == kept.origin) {
            if newest[at].given_at >= kept.given_at {
                continue;
            }
            newest.remove(at);
        }
        let at = newest.iter().position(|newer| newer.given_at < kept.given_at).unwrap_or(newest.len());
        newest.insert(at, kept);
    }
    newest.truncate(MAX_KEPT_NONCES);
    newest
}

/// Whether `key` is where the kept DPoP nonces are: another tab keeping one is no news.
pub fn is_dpop_nonces_key(key: &str) -> bool {
    key == DPOP_NONCES
}

/// Forgets the kept DPoP nonces, with the session they served.
pub fn forget_dpop_nonces(platform: &impl Platform) {
    platform.shared_storage_remove(DPOP_NONCES);
}

/// Keeps `text` under `key` in the tab's storage as it is, or (`None`) removes the key.
fn set_text(platform: &impl Platform, key: &str, text: Option<&str>) {
    match text {
        Some(text) => {
            platform.storage_set(key, text);
        }
        None => platform.storage_remove(key),
    }
}

/// Forgets what [`set_restore_signal`] kept, once the silent sign-in has come back.
pub fn forget_restore_signal(platform: &impl Platform) {
    platform.storage_remove(RESTORE_SIGNAL);
}

/// The sign-out signal as it was when this tab's silent sign-in started (`None` if the
/// signal had never been set then).
pub fn restore_signal(platform: &impl Platform) -> Option<String> {
    platform.storage_get(RESTORE_SIGNAL).filter(|signal| !signal.is_empty())
}

/// The sign-out signal: changed by every sign-out, so that the app's other tabs (which see
/// the change as a `storage` event) sign out too. Not a secret: a counter.
pub fn sign_out_signal(platform: &impl Platform) -> Option<String> {
    platform.shared_storage_get(SIGNED_OUT)
}

/// Changes the sign-out signal; answers its new value.
pub fn signal_sign_out(platform: &impl Platform) -> String {
    let count = sign_out_signal(platform).and_then(|text| text.parse::<u64>().ok()).unwrap_or(0);
    let next = count.wrapping_add(1).to_string();
    platform.shared_storage_set(SIGNED_OUT, &next);
    next
}
