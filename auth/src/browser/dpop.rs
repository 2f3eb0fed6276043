//! The page's DPoP key (RFC 9449): an ECDSA P-256 key pair that WebCrypto makes with its
//! private half not extractable, so that no script, this app's included, can read it out
//! and a copied token is useless without this page. It signs the proofs `oauth::dpop`
//! builds.

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::oauth::dpop::PublicJwk;

/// The private half of a key pair for DPoP proofs, in this page's memory only.
pub struct DpopKey {
    private: web_sys::CryptoKey,
}

/// `{name: "ECDSA", <member>: <value>}`, the algorithm dictionaries WebCrypto takes.
fn ecdsa(member: &str, value: &str) -> Option<Object> {
    let algorithm = Object::new();
    Reflect::set(&algorithm, &"name".into(), &"ECDSA".into()).ok()?;
    Reflect::set(&algorithm, &member.into(), &value.into()).ok()?;
    Some(algorithm)
}

/// A string member of a JS object.
fn text(object: &JsValue, name: &str) -> Option<String> {
    Reflect::get(object, &name.into()).ok()?.as_string()
}

impl DpopKey {
    /// A new key pair (ES256, RFC 7518 §3.4), and its public half as a JWK for the proofs'
    /// header; `None` where WebCrypto cannot make one.
    pub async fn generate() -> Option<(DpopKey, PublicJwk)> {
        let subtle = web_sys::window()?.crypto().ok()?.subtle();
        let usages = js_sys::Array::of1(&"sign".into());
        let pair = subtle.generate_key_with_object(&ecdsa("namedCurve", "P-256")?, false, &usages).ok()?;
        let pair = JsFuture::from(pair).await.ok()?;
        let private: web_sys::CryptoKey = Reflect::get(&pair, &"privateKey".into()).ok()?.dyn_into().ok()?;
        let public: web_sys::CryptoKey = Reflect::get(&pair, &"publicKey".into()).ok()?.dyn_into().ok()?;
        // A pair's public half is always extractable; only it is exported.
        let jwk = JsFuture::from(subtle.export_key("jwk", &public).ok()?).await.ok()?;
        let public_jwk = PublicJwk::Ec { crv: text(&jwk, "crv")?, x: text(&jwk, "x")?, y: text(&jwk, "y")? };
        Some((DpopKey { private }, public_jwk))
    }

    /// Whether the private half can be read out of WebCrypto (never, by construction).
    pub fn private_key_extractable(&self) -> bool {
        self.private.extractable()
    }

    /// Signs a proof's signing input (ECDSA with SHA-256): `r || s`, 64 bytes, as a JWS
    /// ES256 signature is written (RFC 7518 §3.4).
    pub async fn sign(&self, signing_input: &str) -> Option<Vec<u8>> {
        let subtle = web_sys::window()?.crypto().ok()?.subtle();
        let sign = subtle
            .sign_with_object_and_u8_array(&ecdsa("hash", "SHA-256")?, &self.private, signing_input.as_bytes())
            .ok()?;
        let signature = JsFuture::from(sign).await.ok()?;
        Some(Uint8Array::new(&signature).to_vec())
    }
}
