//! The OAuth 2.0 / OpenID Connect protocol, as pure functions: no browser, no network,
//! no clock, no randomness of its own. Callers pass those in, which is what lets every
//! step be tested natively. Each step is a request/process pair named after the spec.

pub mod authorize;
pub mod base64url;
pub mod callback;
pub mod config;
pub mod error;
pub mod json;
pub mod logout;
pub mod metadata;
pub mod pkce;
pub mod secret;
pub mod token;
pub mod url;
pub mod userinfo;

pub use authorize::{authorization_url, safe_return_to, PendingSignIn, SignInRandomness};
pub use callback::{validate_callback, CallbackExpectations, CallbackParams, ValidatedCallback};
pub use config::ClientConfig;
pub use error::AuthError;
pub use logout::end_session_url;
pub use metadata::{discovery_urls, ProviderMetadata};
pub use secret::Secret;
pub use token::{process_token_response, token_request, TokenExpectations, TokenRequest, TokenSet};
pub use userinfo::{process_userinfo, UserInfo};
