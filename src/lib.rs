//! A Leptos single-page app that signs people in with OAuth 2.0 (authorization code +
//! PKCE) and OpenID Connect. `auth` is the reusable module; `app` is the demo around it.

pub mod app;
pub mod auth;
