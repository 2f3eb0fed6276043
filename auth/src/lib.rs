//! Sign-in for Leptos single-page apps: OAuth 2.0 authorization code + PKCE (RFC 6749,
//! RFC 7636) with OpenID Connect, as a public client straight from the browser, the tokens
//! held in memory only. Client-side rendering only: it reads `window` at start-up.
//!
//! The whole integration: [`provide_auth`] once at the root, [`use_auth`] anywhere below,
//! [`RequireAuth`] around protected pages, and [`Auth::fetch`] for API calls.
//!
//! ```no_run
//! use leptos::prelude::*;
//! use leptos::task::spawn_local;
//! use leptos_oidc_auth::{ApiRequest, AuthState, RequireAuth, provide_auth, use_auth};
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     // Reads /config.json (issuer, client_id, ...); on the callback route, finishes
//!     // the sign-in in progress. Render something on that route meanwhile.
//!     provide_auth("/config.json");
//!     view! {
//!         <Account/>
//!         // Signed out, the guard starts sign-in and comes back to this page.
//!         <RequireAuth><Orders/></RequireAuth>
//!     }
//! }
//!
//! #[component]
//! fn Account() -> impl IntoView {
//!     let auth = use_auth();
//!     move || match auth.state() {
//!         AuthState::SignedIn(user) => view! {
//!             <span>{user.display_name().to_owned()}</span>
//!             <button on:click=move |_| auth.sign_out()>"Sign out"</button>
//!         }
//!         .into_any(),
//!         _ => view! { <button on:click=move |_| auth.sign_in("/")>"Sign in"</button> }.into_any(),
//!     }
//! }
//!
//! #[component]
//! fn Orders() -> impl IntoView {
//!     let auth = use_auth();
//!     let load = move |_| {
//!         spawn_local(async move {
//!             // With the access token, renewed first when due. The origin must be the app's
//!             // or one of config.json's `api_origins`.
//!             match auth.fetch(ApiRequest::get("/api/orders")).await {
//!                 Ok(response) if response.ok() => { /* response.json::<Vec<Order>>() */ }
//!                 Ok(response) => { /* the API said no: response.status */ }
//!                 Err(error) => { /* not sent, or no answer: error_message(&error) */ }
//!             }
//!         })
//!     };
//!     view! { <button on:click=load>"Load my orders"</button> }
//! }
//!
//! fn main() {
//!     leptos::mount::mount_to_body(App);
//! }
//! ```
//!
//! Layers, each depending only on the ones before it:
//! - [`oauth`]: the protocol, pure Rust, tested natively;
//! - [`session`]: the session core: its state machine, tokens, renewal and sign-out order,
//!   framework-neutral, talking to the world through [`session::Platform`]; tested
//!   natively against a scripted provider;
//! - `browser`: [`Browser`], that platform in a browser tab (fetch, sessionStorage, the
//!   address bar, WebCrypto); no decisions;
//! - the Leptos adapter: [`provide_auth`], [`use_auth`], [`Auth`], [`RequireAuth`],
//!   [`AuthFailure`], and the sentences people read ([`error_message`]).

#![warn(missing_docs)]

// The browser layer's parts are the crate's own, but for the address bar helpers an app's
// router shares with it; the crate's browser tests reach the rest through `test-hooks`.
#[cfg(feature = "test-hooks")]
pub mod browser;
#[cfg(not(feature = "test-hooks"))]
mod browser;
mod components;
mod context;
pub mod messages;
pub mod oauth;
pub mod session;

pub use browser::{Browser, location};
pub use components::{AuthFailure, RequireAuth};
#[cfg(feature = "test-hooks")]
pub use context::provide_auth_in_state;
pub use context::{Auth, provide_auth, use_auth};
pub use messages::error_message;
pub use oauth::{AuthError, ErrorFamily};
pub use session::platform::HttpResponse;
pub use session::{ApiRequest, AuthState, Guard, Session, User};
