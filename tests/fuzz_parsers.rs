//! Mutation fuzzing of the parsers that read untrusted input: the callback's query, the
//! token response (ID token included), the JWKS with an ID token's header, and provider
//! metadata. Valid inputs are mutated at random (bytes flipped, inserted, deleted,
//! repeated, spliced with other seeds and with tokens that tend to break parsers); every
//! result must be an `Ok` or an `Err`, never a panic. A panic prints the input.
//!
//! `FUZZ_ITERATIONS` inputs per parser (default 200 000, a few seconds in CI); the issue's
//! figures come from `FUZZ_ITERATIONS=5000000 cargo test --release --test fuzz_parsers`.
//! `FUZZ_SEED` replays a run.

use base64::prelude::{BASE64_URL_SAFE_NO_PAD, Engine as _};
use leptos_oidc_spa::auth::oauth::{
    CallbackExpectations, CallbackParams, PendingSignIn, ProviderMetadata, SignInRandomness, TokenExpectations,
    process_token_response, signature_check, validate_callback,
};

const NOW: u64 = 1_700_000_000;

/// xorshift64*: small, fast, and reproducible from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments that reach parsers' edge cases: escapes, surrogates, huge numbers, nesting,
/// separators, percent-encoding gone wrong.
const TOKENS: &[&str] = &[
    "%",
    "%F",
    "%FF",
    "%00",
    "%C3%28",
    "%E2%82",
    "&",
    "=",
    "&&",
    "==",
    "+",
    "state=",
    "code=",
    "iss=",
    "error=",
    "\"",
    "\\",
    "\\u",
    "\\ud800",
    "\\udc00\\ud800",
    "\\u0000",
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "null",
    "true",
    "1e999",
    "-0",
    "0.0000001",
    "99999999999999999999",
    "-9223372036854775809",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "{\"a\":{\"a\":{\"a\":{\"a\":",
    ".",
    "..",
    "eyJ",
    "=",
    "\u{0}",
    "\u{feff}",
    "é",
    "\u{10ffff}",
    "\r\n",
    " ",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(data.len() + 1);
        match rng.below(7) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 => data.insert(at, rng.next() as u8),
            2 if !data.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(data.len());
                data.drain(at.min(end)..end);
            }
            3 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                data.splice(at..at, token.iter().copied());
            }
            4 if !data.is_empty() => {
                let start = rng.below(data.len());
                let end = (start + 1 + rng.below(64)).min(data.len());
                let piece = data[start..end].to_vec();
                for _ in 0..1 + rng.below(8) {
                    data.splice(at..at, piece.iter().copied());
                }
            }
            5 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
            _ => {
                let i = rng.below(data.len() + 1);
                data.truncate(i);
            }
        }
    }
    data
}

/// Runs `target` on `FUZZ_ITERATIONS` mutants of `seeds`; a panic reports the input.
/// `target` names the outcome it reached (an error's message, or "ok"): the run must reach
/// at least `min_outcomes` different ones, or the mutants never got past the first check.
fn fuzz(name: &str, seeds: &[String], min_outcomes: usize, target: impl Fn(&[u8]) -> Vec<String>) {
    let seeds: Vec<Vec<u8>> = seeds.iter().map(|s| s.as_bytes().to_vec()).collect();
    let iterations: u64 = std::env::var("FUZZ_ITERATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(0x5EED_0FA1);
    let mut rng = Rng(seed ^ name.len() as u64);
    let mut outcomes = std::collections::BTreeSet::new();
    for seed in &seeds {
        outcomes.extend(target(seed)); // the seeds themselves
    }
    for i in 0..iterations {
        let input = mutate(&mut rng, &seeds);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target(&input))) {
            Ok(reached) => outcomes.extend(reached),
            Err(_) => panic!("{name}: input {i} panicked: {:?}", String::from_utf8_lossy(&input)),
        }
    }
    eprintln!("{name}: {iterations} inputs, no panic, {} different outcomes (FUZZ_SEED={seed})", outcomes.len());
    assert!(outcomes.len() >= min_outcomes, "{name}: only {outcomes:#?}");
}

fn outcome<T>(result: Result<T, leptos_oidc_spa::auth::AuthError>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(error) => error.message(),
    }
}

/// Bytes as the app would see them: it receives strings, so invalid UTF-8 arrives
/// replaced (the address bar and fetch's text() both decode).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn pending() -> PendingSignIn {
    let random = SignInRandomness { verifier: [1; 32], state: [2; 32], nonce: [3; 32] };
    PendingSignIn::new(&random, "/profile", NOW)
}

#[test]
fn callback_parser_and_validation_never_panic() {
    let state = pending().state;
    let seeds = [
        format!("code=abc&state={state}&iss=http%3A%2F%2F127.0.0.1%3A9000"),
        format!(
            "error=access_denied&error_description=%3Cb%3Ex%3C%2Fb%3E&state={state}&iss=http%3A%2F%2F127.0.0.1%3A9000"
        ),
        format!("code=a%20b+c&state={state}&session_state=x&iss=http://127.0.0.1:9000"),
        "code=&state=&iss=".to_owned(),
    ];
    fuzz("callback", &seeds, 12, |input| {
        let expect = CallbackExpectations { issuer: "http://127.0.0.1:9000", iss_required: true, now: NOW + 5 };
        vec![match CallbackParams::parse(&text(input)) {
            Ok(params) => outcome(validate_callback(params, Some(pending()), false, &expect)),
            Err(error) => error.message(),
        }]
    });
}

fn b64(text: &str) -> String {
    BASE64_URL_SAFE_NO_PAD.encode(text)
}

#[test]
fn token_response_parser_never_panics() {
    let claims = format!(
        r#"{{"iss":"http://127.0.0.1:9000","aud":["leptos-spa","x"],"azp":"leptos-spa","sub":"alice","exp":{},"iat":{},"nonce":"n-1","name":"Alice"}}"#,
        NOW + 600,
        NOW
    );
    let id_token = format!("{}.{}.c2ln", b64(r#"{"alg":"RS256","kid":"k1"}"#), b64(&claims));
    let seeds = [
        format!(
            r#"{{"access_token":"at","token_type":"Bearer","expires_in":300,"refresh_token":"rt","scope":"openid","id_token":"{id_token}"}}"#
        ),
        r#"{"error":"invalid_grant","error_description":"bad \"code\" \u00e9"}"#.to_owned(),
        r#"{"access_token":"at","token_type":"bearer","expires_in":1.5e3}"#.to_owned(),
        // The claims themselves, so that mutations reach the ID token's JSON reader.
        claims.clone(),
    ];
    fuzz("token_response", &seeds, 25, |input| {
        let body = text(input);
        let expect = TokenExpectations {
            issuer: "http://127.0.0.1:9000".into(),
            client_id: "leptos-spa".into(),
            nonce: "n-1".into(),
            id_token_required: true,
            return_to: "/".into(),
            refreshing_sub: None,
        };
        // The same bytes as the ID token's claims, base64url-encoded as a token carries them.
        let token = format!(r#"{{"access_token":"a","token_type":"Bearer","id_token":"e30.{}.c2ln"}}"#, b64(&body));
        vec![
            outcome(process_token_response(200, &body, &expect, NOW)),
            outcome(process_token_response(400, &body, &expect, NOW)),
            outcome(process_token_response(200, &token, &expect, NOW)),
        ]
    });
}

#[test]
fn jwks_and_id_token_header_parsers_never_panic() {
    let n = BASE64_URL_SAFE_NO_PAD.encode([0xC1; 256]);
    let xy = BASE64_URL_SAFE_NO_PAD.encode([7; 32]);
    let seeds = [
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":"{n}","e":"AQAB"}}]}}"#),
        format!(r#"{{"keys":[{{"kty":"EC","crv":"P-256","x":"{xy}","y":"{xy}","key_ops":["verify"]}}]}}"#),
        r#"{"alg":"ES256","kid":"k1","typ":"JWT"}"#.to_owned(),
    ];
    let algs = ["RS256".to_owned(), "ES256".to_owned()];
    fuzz("jwks_and_header", &seeds, 12, |input| {
        let body = text(input);
        let rs = format!("{}.e30.{}", b64(r#"{"alg":"RS256","kid":"k1"}"#), BASE64_URL_SAFE_NO_PAD.encode([1; 256]));
        // The same bytes as a token's header, against a good key set.
        let header_token = format!("{}.e30.{}", b64(&body), BASE64_URL_SAFE_NO_PAD.encode([1; 64]));
        vec![
            outcome(signature_check(&rs, &body, &algs)),
            outcome(signature_check(&header_token, &seeds[1], &[])),
            outcome(signature_check(&body, &seeds[0], &[])),
        ]
    });
}

#[test]
fn provider_metadata_parser_never_panics() {
    let seeds = [r#"{"issuer":"https://id.example","authorization_endpoint":"https://id.example/a","token_endpoint":"https://id.example/t","jwks_uri":"https://id.example/k","id_token_signing_alg_values_supported":["RS256"],"authorization_response_iss_parameter_supported":true}"#.to_owned()];
    fuzz("metadata", &seeds, 8, |input| vec![outcome(ProviderMetadata::parse(&text(input), "https://id.example"))]);
}
