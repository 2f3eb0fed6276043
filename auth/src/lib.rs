//! Sign-in for a Leptos app: OAuth 2.0 authorization code + PKCE, OpenID Connect.
//!
//! Layers, each depending only on the ones below it:
//! - [`oauth`]: the protocol, pure Rust, tested natively;
//! - [`session`]: the session's decisions (when to renew, who waits), pure and tested natively;
//! - [`browser`]: storage, fetch, address bar; no protocol decisions;
//! - [`flow`]: the sign-in steps, joining the two;
//! - [`context`]: the Leptos API: [`provide_auth`], [`use_auth`], [`RequireAuth`].
//!
//! ```text
//! let auth = provide_auth("/config.json");
//! view! { <RequireAuth><Profile/></RequireAuth> }
//! ```

pub mod browser;
pub mod context;
pub mod flow;
pub mod oauth;
pub mod session;

#[cfg(feature = "test-hooks")]
pub use context::provide_auth_in_state;
pub use context::{Auth, AuthFailure, AuthState, RequireAuth, User, provide_auth, use_auth};
pub use oauth::AuthError;
