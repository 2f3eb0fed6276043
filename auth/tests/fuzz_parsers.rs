//! Mutation fuzzing of the parsers that read untrusted input: the callback's query, the
//! token response (ID token claims included), the JWKS with an ID token's header, provider
//! metadata, UserInfo, the pending sign-in read back from storage, and the app's config.
//! Valid inputs are mutated at random (bytes flipped, inserted, deleted, repeated, spliced
//! with other seeds and with tokens that tend to break parsers); every result must be an
//! `Ok` or an `Err`, never a panic. A panic prints the input.
//!
//! Each target must also reach named outcomes deep in its checks (see [`fuzz`]): a fuzzer
//! whose mutants all fail the first check proves nothing about the others.
//!
//! `FUZZ_ITERATIONS` inputs per parser (default 100 000, a few seconds in CI); long runs:
//! `FUZZ_ITERATIONS=5000000 cargo test --release -p leptos-oidc-auth --test fuzz_parsers`. `FUZZ_SEED` replays
//! a run; `FUZZ_VERBOSE=1` lists the outcomes each target reached.

use base64::prelude::{BASE64_URL_SAFE_NO_PAD, Engine as _};
use leptos_oidc_auth::AuthError;
use leptos_oidc_auth::oauth::{
    CallbackExpectations, CallbackParams, ClientConfig, PendingSignIn, ProviderMetadata, SignInRandomness,
    TokenExpectations, document, process_token_response, process_userinfo, signature_check, validate_callback,
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

    /// A stream of its own for each target: the run's seed mixed with the target's name
    /// (FNV-1a), never the all-zero state, from which xorshift never leaves.
    fn for_target(seed: u64, name: &str) -> Rng {
        let hash =
            name.bytes().fold(0xCBF2_9CE4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3));
        Rng((seed ^ hash).max(1))
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
/// `target` names the outcomes it reached (see [`kind`]); every entry of `required` must be
/// reached by a mutant (the seeds themselves do not count): an error code (`state_mismatch`,
/// or `ok`) names outcomes of that code, anything else is a part of an outcome's message.
/// Each is a check that only mutants which passed the checks before it reach, so deleting
/// a check, or a fuzzer stuck at the first one, fails the run.
fn fuzz(name: &str, seeds: &[String], required: &[&str], target: impl Fn(&[u8]) -> Vec<String>) {
    let seeds: Vec<Vec<u8>> = seeds.iter().map(|s| s.as_bytes().to_vec()).collect();
    let iterations: u64 = std::env::var("FUZZ_ITERATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|n| n.parse().ok()).unwrap_or(0x5EED_0FA1);
    let mut rng = Rng::for_target(seed, name);
    let mut outcomes = std::collections::BTreeSet::new();
    for i in 0..iterations {
        let input = mutate(&mut rng, &seeds);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| target(&input))) {
            Ok(reached) => outcomes.extend(reached),
            Err(_) => panic!("{name}: input {i} panicked: {:?}", String::from_utf8_lossy(&input)),
        }
    }
    eprintln!("{name}: {iterations} inputs, no panic, {} kinds of outcome (FUZZ_SEED={seed})", outcomes.len());
    if std::env::var_os("FUZZ_VERBOSE").is_some() {
        eprintln!("{outcomes:#?}");
    }
    let is_code = |r: &str| r.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    let reached = |r: &str| {
        outcomes.iter().any(
            |o: &String| {
                if is_code(r) { o == r || o.starts_with(&format!("{r}:")) } else { o.contains(r) }
            },
        )
    };
    let missed: Vec<&&str> = required.iter().filter(|r| !reached(r)).collect();
    assert!(missed.is_empty(), "{name}: never reached {missed:?}; reached {outcomes:#?}");
}

/// An outcome's kind: "ok", or the error's code and its detail without what the input
/// put there (quoted text, numbers such as JSON positions, the provider's own words), so
/// that kinds count the checks reached, not the inputs.
fn kind<T>(result: Result<T, AuthError>) -> String {
    let error = match result {
        Ok(_) => return "ok".to_owned(),
        Err(error) => error,
    };
    if matches!(error, AuthError::Provider { .. } | AuthError::TokenRejected { .. }) {
        return error.code().to_owned();
    }
    let mut kind = format!("{}: ", error.code());
    let mut quote = None;
    let shown = error.to_string();
    let detail = shown.strip_prefix(error.code()).and_then(|rest| rest.strip_prefix(": ")).unwrap_or(&shown);
    for c in detail.chars() {
        match quote {
            Some(open) if c == open => quote = None,
            Some(_) => {}
            None if c == '"' || c == '`' => quote = Some(c),
            None if c.is_ascii_digit() => {
                if !kind.ends_with('#') {
                    kind.push('#');
                }
            }
            None => kind.push(c),
        }
    }
    kind
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
    let required = [
        "ok",
        "malformed_callback",
        "iss_missing",
        "iss_mismatch",
        "state_missing",
        "state_mismatch",
        "provider_error",
        "code_missing",
    ];
    fuzz("callback", &seeds, &required, |input| {
        let expect = CallbackExpectations { issuer: "http://127.0.0.1:9000", iss_required: true, now: NOW + 5 };
        match CallbackParams::parse(&text(input)) {
            // With this tab's sign-in, and with another tab's only (state cannot match).
            Ok(params) => vec![
                kind(validate_callback(params, Some(pending()), false, &expect)),
                kind(CallbackParams::parse(&text(input)).and_then(|p| validate_callback(p, None, true, &expect))),
            ],
            Err(error) => vec![kind::<()>(Err(error))],
        }
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
    let header = b64(r#"{"alg":"RS256","kid":"k1"}"#);
    let id_token = format!("{header}.{}.c2ln", b64(&claims));
    let seeds = [
        format!(
            r#"{{"access_token":"at","token_type":"Bearer","expires_in":300,"refresh_token":"rt","scope":"openid","id_token":"{id_token}"}}"#
        ),
        r#"{"error":"invalid_grant","error_description":"bad \"code\" \u00e9"}"#.to_owned(),
        r#"{"access_token":"at","token_type":"bearer","expires_in":1.5e3}"#.to_owned(),
        // The claims themselves, so that mutations reach the ID token's claim checks,
        // and a header, for the header's.
        claims.clone(),
        r#"{"alg":"RS256","kid":"k1","crit":["exp"]}"#.to_owned(),
    ];
    let required = [
        "ok",
        "token_rejected",
        "access_token is missing",
        "token_type is not Bearer",
        "expires_in is not a positive whole number",
        "id_token is missing",
        "duplicate field",
        "not a JSON object",
        // The ID token's claims, each check reached by the claims' own mutants.
        "iss is not the issuer",
        "aud does not include this client",
        "nonce does not match",
        "it has expired",
        "sub is missing",
        "azp is another client",
        "iat is missing",
        "critical header parameters",
        "alg is missing",
    ];
    fuzz("token_response", &seeds, &required, |input| {
        let body = text(input);
        let expect = TokenExpectations {
            issuer: "http://127.0.0.1:9000".into(),
            client_id: "leptos-spa".into(),
            nonce: "n-1".into(),
            id_token_required: true,
            return_to: "/".into(),
            refreshing_sub: None,
            dpop: false,
        };
        // The same bytes as the ID token's claims, under a valid header, as a token carries them.
        let token =
            format!(r#"{{"access_token":"a","token_type":"Bearer","id_token":"{header}.{}.c2ln"}}"#, b64(&body));
        // And as its header, over good claims.
        let headed = format!(
            r#"{{"access_token":"a","token_type":"Bearer","id_token":"{}.{}.c2ln"}}"#,
            b64(&body),
            b64(&claims)
        );
        vec![
            kind(process_token_response(200, &headed, &expect, NOW)),
            kind(process_token_response(200, &body, &expect, NOW)),
            kind(process_token_response(400, &body, &expect, NOW)),
            kind(process_token_response(200, &token, &expect, NOW)),
        ]
    });
}

#[test]
fn jwks_and_id_token_header_parsers_never_panic() {
    let n = BASE64_URL_SAFE_NO_PAD.encode([0xC1; 256]);
    let xy = BASE64_URL_SAFE_NO_PAD.encode([7; 32]);
    let rsa_jwks = format!(r#"{{"keys":[{{"kty":"RSA","kid":"k1","use":"sig","alg":"RS256","n":"{n}","e":"AQAB"}}]}}"#);
    let ec_jwks =
        format!(r#"{{"keys":[{{"kty":"EC","crv":"P-256","kid":"k1","x":"{xy}","y":"{xy}","key_ops":["verify"]}}]}}"#);
    let seeds = [
        rsa_jwks.clone(),
        ec_jwks.clone(),
        r#"{"alg":"ES256","kid":"k1","typ":"JWT"}"#.to_owned(),
        r#"{"alg":"none","typ":"JWT"}"#.to_owned(),
    ];
    let required = [
        "ok",
        "no key of the provider's key set",
        "key set (JWKS) is not valid",
        "alg is missing",
        "signed with none, which this client does not accept",
        "has its kid",
        "fits its algorithm",
        "no valid n",
        "no valid x",
        "does not fit its curve",
        "not a JSON object",
    ];
    let algs = ["RS256".to_owned(), "ES256".to_owned()];
    fuzz("jwks_and_header", &seeds, &required, |input| {
        let body = text(input);
        let rs = format!("{}.e30.{}", b64(r#"{"alg":"RS256","kid":"k1"}"#), BASE64_URL_SAFE_NO_PAD.encode([1; 256]));
        let es = format!("{}.e30.{}", b64(r#"{"alg":"ES256","kid":"k1"}"#), BASE64_URL_SAFE_NO_PAD.encode([1; 64]));
        // The same bytes as a token's header, against good key sets.
        let header_token = format!("{}.e30.{}", b64(&body), BASE64_URL_SAFE_NO_PAD.encode([1; 64]));
        vec![
            kind(signature_check(&rs, &body, &algs)),
            kind(signature_check(&es, &body, &algs)),
            kind(signature_check(&header_token, &ec_jwks, &algs)),
            kind(signature_check(&header_token, &rsa_jwks, &algs)),
        ]
    });
}

#[test]
fn provider_metadata_parser_never_panics() {
    let seeds = [r#"{"issuer":"https://id.example","authorization_endpoint":"https://id.example/a","token_endpoint":"https://id.example/t","userinfo_endpoint":"https://id.example/u","end_session_endpoint":"https://id.example/e","jwks_uri":"https://id.example/k","id_token_signing_alg_values_supported":["RS256"],"code_challenge_methods_supported":["S256"],"authorization_response_iss_parameter_supported":true}"#.to_owned()];
    let required =
        ["ok", "not the configured", "is not an https URL", "missing field", "not a JSON object", "duplicate field"];
    fuzz("metadata", &seeds, &required, |input| {
        vec![kind(ProviderMetadata::parse(&text(input), "https://id.example"))]
    });
}

#[test]
fn userinfo_parser_never_panics() {
    let seeds = [
        r#"{"sub":"alice","name":"Alice Liddell","email":"alice@example.test","preferred_username":"alice"}"#
            .to_owned(),
        r#"{"sub":"alice","email_verified":true,"address":{"country":"UK"}}"#.to_owned(),
    ];
    let required = ["ok", "another person", "missing field", "not a JSON object", "not JSON", "HTTP #"];
    fuzz("userinfo", &seeds, &required, |input| {
        let body = text(input);
        // The status and content type vary too, with the input's length.
        let status = if input.len() % 11 == 0 { 401 } else { 200 };
        let content_type = if input.len() % 13 == 0 { "text/html" } else { "application/json; charset=utf-8" };
        vec![kind(process_userinfo(status, content_type, &body, Some("alice")))]
    });
}

#[test]
fn stored_pending_sign_in_reader_never_panics() {
    // What the browser layer reads back from sessionStorage, then checks and uses.
    let seeds = [serde_json::to_string(&pending()).expect("a pending sign-in")];
    let state = pending().state;
    let required = ["ok", "unreadable", "state_mismatch", "sign_in_expired"];
    fuzz("pending_sign_in", &seeds, &required, |input| {
        let expect = CallbackExpectations { issuer: "http://127.0.0.1:9000", iss_required: true, now: NOW + 5 };
        let params = CallbackParams::parse(&format!("code=c&state={state}&iss=http%3A%2F%2F127.0.0.1%3A9000"))
            .expect("a good callback");
        match document::parse::<PendingSignIn>(&text(input)) {
            Err(_) => vec!["unreadable".to_owned()],
            Ok(record) => match record.checked() {
                None => vec!["incomplete".to_owned()],
                // Taken by the callback's state, and another sign-in still pending.
                Some(record) => vec![kind(validate_callback(params, Some(record), true, &expect))],
            },
        }
    });
}

#[test]
fn config_parser_never_panics() {
    let seeds = [
        r#"{"issuer":"https://id.example","client_id":"spa","scope":"openid profile email","redirect_uri":"http://localhost:8080/callback","post_logout_redirect_uri":"http://localhost:8080/"}"#.to_owned(),
        r#"{"issuer":"http://127.0.0.1:9000","client_id":"spa","logout_method":"POST"}"#.to_owned(),
    ];
    let required = [
        "ok",
        "is missing",
        "must be a non-empty string",
        "not valid JSON",
        "must hold a JSON object",
        "must be a URL on this app's origin",
        // "logout_method" must be "GET" or "POST", its quoted parts left out by `kind`.
        " must be  or ",
        "must be an https URL without query",
    ];
    fuzz("config", &seeds, &required, |input| vec![kind(ClientConfig::parse(&text(input), "http://localhost:8080"))]);
}
