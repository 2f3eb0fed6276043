//! The OAuth 2.0 / OpenID Connect protocol, as pure functions: no browser, no network,
//! no clock, no randomness of its own. Callers pass those in, which is what lets every
//! step be tested natively. Each step is a request/process pair named after the spec.

pub mod authorize;
pub mod bearer;
pub mod callback;
pub mod config;
pub mod csp;
pub mod document;
pub mod dpop;
pub mod error;
pub mod jws;
pub mod logout;
pub mod metadata;
pub mod pkce;
pub mod secret;
pub mod token;
pub mod url;
pub mod userinfo;

pub use authorize::{
    AuthorizationRequest, PendingSignIn, SignInRandomness, authorization_request, process_pushed_response,
    pushed_redirect_url, return_target, safe_return_to,
};
pub use callback::{CallbackExpectations, CallbackParams, ValidatedCallback, validate_callback};
#[allow(deprecated)]
pub use config::ParMode;
pub use config::{ClientConfig, ConfigDocument, LogoutMethod, Preference};
pub use csp::signed_in_policy;
pub use error::{AuthError, ErrorFamily};
pub use jws::{JwsAlgorithm, SignatureCheck, VerifiedSignature, check_key_set, signature_check};
pub use logout::{EndSessionRequest, end_session_request, is_logout_return};
pub use metadata::{ProviderMetadata, discovery_urls};
pub use pkce::random_value;
pub use secret::Secret;
pub use token::{
    RENEWAL_MARGIN_SECS, TokenExpectations, TokenRequest, TokenSet, UnverifiedTokens, process_token_response,
    refresh_request, refresh_token_of_refused_answer, revocation_request, token_request,
};
pub use userinfo::{UserInfo, process_userinfo};
