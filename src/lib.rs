//! A Leptos single-page app that signs people in with OAuth 2.0 (authorization code +
//! PKCE) and OpenID Connect: the demo around the sign-in crate `leptos-oidc-auth`
//! (`auth/`), which it uses as `auth`.

pub mod app;
pub use leptos_oidc_auth as auth;
