//! DPoP (RFC 9449) for real: the release build against oidc-provider, which binds this
//! app's tokens to a key (`dpop_bound_access_tokens`) and asks for a nonce in every proof
//! (§8), and the demo API, which checks each proof (§4.3, §7.1) and asks for its own nonce
//! (§9). The test then plays the thief: a script in the page that has the access token.

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};
use support::{Browser, api_log, api_url, provider_token_log, provider_url, token_digest, with_browser};

fn decode(part: &str) -> Value {
    serde_json::from_slice(&B64.decode(part).expect("base64url")).expect("JSON")
}

/// A proof as the checks of §4.3 read it: a `dpop+jwt` signed ES256 with a public P-256 key in
/// its header, and the claims of §4.2 for `method` and `url`.
fn assert_complete_proof(header: &Value, claims: &Value, method: &str, url: &str, with_token: bool) {
    assert_eq!((header["typ"].as_str(), header["alg"].as_str()), (Some("dpop+jwt"), Some("ES256")), "{header}");
    let jwk = &header["jwk"];
    assert_eq!((jwk["kty"].as_str(), jwk["crv"].as_str()), (Some("EC"), Some("P-256")), "{jwk}");
    assert!(jwk.get("d").is_none(), "the private key in a proof: {jwk}");
    assert_eq!(claims["htm"], method, "{claims}");
    assert_eq!(claims["htu"], url, "{claims}");
    assert!(claims["jti"].as_str().is_some_and(|jti| jti.len() >= 22), "{claims}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    assert!(claims["iat"].as_i64().is_some_and(|iat| (iat - now).abs() < 60), "{claims}");
    assert_eq!(claims.get("ath").is_some(), with_token, "{claims}");
}

async fn sign_in_and_call_the_api(browser: &Browser) {
    browser.goto("/").await;
    browser.sign_in_as_alice().await;
    browser.click_link("API").await;
    browser.click_button("Call the demo API").await;
    browser.wait_for_text("p.api-answer", "The demo API knows you as alice.").await;
}

#[tokio::test]
async fn tokens_are_bound_to_the_pages_key_and_every_request_carries_a_complete_proof() {
    with_browser("dpop_proofs", |browser| async move {
        provider_token_log();
        api_log();
        sign_in_and_call_the_api(&browser).await;
        let log = provider_token_log();

        // §8: the code exchange is asked for a nonce once, then answered with a DPoP token.
        let exchanges: Vec<_> = log.exchanges.iter().filter(|e| e.grant_type == "authorization_code").collect();
        assert_eq!(exchanges.len(), 2, "{exchanges:?}");
        assert!(exchanges[0].asked_for_nonce() && exchanges[0].status == 400, "{:?}", exchanges[0]);
        assert_eq!((exchanges[1].status, exchanges[1].token_type.as_deref()), (200, Some("DPoP")));
        let token_url = format!("{}/token", provider_url());
        // (The page's timer may have renewed already: the exchange's proofs by their grant.)
        let token_proofs: Vec<&Value> = log.proofs.iter().filter(|p| p["grant_type"] == "authorization_code").collect();
        assert_eq!(token_proofs.len(), 2);
        for proof in &token_proofs {
            assert_complete_proof(&proof["header"], &proof["claims"], "POST", &token_url, false);
        }
        assert!(token_proofs[0]["claims"].get("nonce").is_none());
        assert!(token_proofs[1]["claims"]["nonce"].is_string(), "the retry carries the provider's nonce");
        let key = token_proofs[0]["header"]["jwk"].clone();

        // UserInfo (§7.1): the token as `DPoP`, with a proof of the same key and the token's hash.
        // One request: the provider's nonce, known from the exchange, is in its first proof.
        let userinfo: Vec<&Value> = log.proofs.iter().filter(|p| p["path"] == "/me").collect();
        assert_eq!(userinfo.len(), 1, "{userinfo:?}");
        assert_eq!(userinfo[0]["status"], 200);
        assert!(userinfo[0]["claims"]["nonce"].is_string(), "{userinfo:?}");
        for proof in &userinfo {
            assert_eq!(proof["authorization_scheme"], "DPoP");
            assert_complete_proof(&proof["header"], &proof["claims"], "GET", &format!("{}/me", provider_url()), true);
            assert_eq!(proof["header"]["jwk"], key, "one key for the session");
        }

        // The demo API (§9): asked for its nonce once, then the call with it succeeds.
        let calls: Vec<_> = api_log().into_iter().filter(|r| r.method == "GET").collect();
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert!(calls[0].asked_for_nonce() && calls[0].status == 401, "{:?}", calls[0]);
        assert_eq!(calls[1].status, 200);
        // A token of this sign-in: the exchange's, or a renewal's since (10 s tokens).
        let issued: Vec<String> =
            log.answered().iter().filter_map(|e| e.access_token.as_deref().map(token_digest)).collect();
        for call in &calls {
            assert_eq!(call.scheme.as_deref(), Some("DPoP"));
            let proof = call.proof.as_deref().expect("a proof");
            let (header, claims) = proof.split_once('.').expect("a JWT");
            let (header, claims) = (decode(header), decode(claims.split('.').next().expect("claims")));
            assert_complete_proof(&header, &claims, "GET", &format!("{}/me", api_url()), true);
            assert_eq!(header["jwk"], key);
            assert!(call.token.as_ref().is_some_and(|t| issued.contains(t)), "{call:?} not among {issued:?}");
        }
        assert!(decode(calls[1].proof.as_deref().unwrap().split('.').nth(1).unwrap())["nonce"].is_string());

        // The renewal (tokens live 10 s here): the bound refresh token, with a proof of the key.
        tokio::time::sleep(std::time::Duration::from_secs(7)).await;
        let log = provider_token_log();
        let refreshes: Vec<_> = log.exchanges.iter().filter(|e| e.grant_type == "refresh_token").collect();
        assert!(!refreshes.is_empty(), "{:?}", log.exchanges);
        // With the provider's nonce known, no renewal is asked for it again.
        assert!(refreshes.iter().all(|e| e.status == 200 && e.token_type.as_deref() == Some("DPoP")), "{refreshes:?}");
        let refresh_proofs: Vec<&Value> = log.proofs.iter().filter(|p| p["grant_type"] == "refresh_token").collect();
        assert_eq!(refresh_proofs.len(), refreshes.len());
        for proof in &refresh_proofs {
            assert_complete_proof(&proof["header"], &proof["claims"], "POST", &token_url, false);
            assert_eq!(proof["header"]["jwk"], key, "the same key renews");
        }
    })
    .await;
}

/// The `DPoP` header makes every token request CORS-preflighted. The browser may reuse a
/// preflight's answer for its `Access-Control-Max-Age` (the local provider: an hour), but
/// Chromium skips that cache for a request made with `cache: 'no-store'`. A token request
/// with a proof goes with the default cache mode (the provider's `no-store` keeps its answer
/// out of the HTTP cache, RFC 6749 §5.1): the nonce retry and the renewal then cost no
/// second preflight (a round trip each on a real network).
#[tokio::test]
async fn the_token_endpoints_preflight_is_asked_once_for_the_retry_and_a_renewal() {
    with_browser("dpop_preflight", |browser| async move {
        provider_token_log();
        browser.goto("/").await;
        browser.sign_in_as_alice().await;
        // Tokens live 10 s here: the page renews within seconds. (Each read starts a new log.)
        let (mut exchanges, mut preflights) = (Vec::new(), Vec::new());
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        while !exchanges.iter().any(|e: &support::Exchange| e.grant_type == "refresh_token") {
            assert!(tokio::time::Instant::now() < deadline, "no renewal: {exchanges:?}");
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            let log = provider_token_log();
            exchanges.extend(log.exchanges);
            preflights.extend(log.preflights);
        }
        assert!(exchanges.len() >= 3, "the exchange, its nonce retry and a renewal: {exchanges:?}");
        let token_preflights = preflights.iter().filter(|path| *path == "/token").count();
        assert_eq!(token_preflights, 1, "{} token requests: {preflights:?}", exchanges.len());
    })
    .await;
}

/// The thief: a script in the page that got the access token (here, from the provider's test
/// log) sends it to the demo API as a Bearer token, as DPoP with no proof, with a proof of a
/// key of its own, and with a proof the app already used; every one is refused, while the
/// app's own next call goes through.
#[tokio::test]
async fn a_token_copied_out_of_the_page_is_refused_without_the_pages_key() {
    with_browser("dpop_thief", |browser| async move {
        provider_token_log();
        api_log();
        sign_in_and_call_the_api(&browser).await;
        let log = provider_token_log();
        let token = log.answered().iter().rev().find_map(|e| e.access_token.clone()).expect("a token was issued");
        let used_proof = api_log().into_iter().rev().find_map(|r| r.proof).expect("the app's last proof");
        let script = r#"
            const [token, api, usedProof, done] = arguments;
            const call = async (headers) => {
                const response = await fetch(api, { headers, cache: 'no-store' });
                return { status: response.status, challenge: response.headers.get('www-authenticate'), nonce: response.headers.get('dpop-nonce') };
            };
            const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
            const text = (value) => b64(new TextEncoder().encode(JSON.stringify(value)));
            (async () => {
                const results = {};
                results.bearer = await call({ authorization: `Bearer ${token}` });
                results.noProof = await call({ authorization: `DPoP ${token}` });
                results.replayed = await call({ authorization: `DPoP ${token}`, dpop: usedProof });
                // A key of the thief's own, and a proof as complete as the app's.
                const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
                const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
                const ath = b64(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
                const proof = async (nonce) => {
                    const claims = { jti: crypto.randomUUID(), htm: 'GET', htu: api, iat: Math.floor(Date.now() / 1000), ath, ...(nonce ? { nonce } : {}) };
                    const input = `${text({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty, crv, x, y } })}.${text(claims)}`;
                    const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, pair.privateKey, new TextEncoder().encode(input));
                    return `${input}.${b64(signature)}`;
                };
                const first = await call({ authorization: `DPoP ${token}`, dpop: await proof(null) });
                results.ownKey = first.nonce ? await call({ authorization: `DPoP ${token}`, dpop: await proof(first.nonce) }) : first;
                done(results);
            })().catch((error) => done({ error: String(error) }));
        "#;
        let api = format!("{}/me", api_url());
        let results =
            browser.client.execute_async(script, vec![json!(token), json!(api), json!(used_proof)]).await.expect("ran");
        for (attempt, error) in
            [("bearer", "DPoP-bound"), ("noProof", "invalid_dpop_proof"), ("replayed", "invalid_dpop_proof"), ("ownKey", "invalid_dpop_proof")]
        {
            let result = &results[attempt];
            assert_eq!(result["status"], 401, "{attempt}: {results}");
            assert!(result["challenge"].as_str().is_some_and(|c| c.contains(error)), "{attempt}: {results}");
        }
        assert!(results["ownKey"]["challenge"].as_str().unwrap_or_default().contains("bound to another key"), "{results}");
        // The app, with its key, still gets through.
        let before = browser.run_js("return document.querySelector('p.api-answer').innerText").await;
        browser.click_button("Call the demo API").await;
        // (The answer goes while the call is under way, and comes back with a new count.)
        let changed = format!(
            "const text = document.querySelector('p.ok.api-answer')?.innerText; return text !== undefined && text !== {before}"
        );
        browser.wait_for_js(&changed, json!(true)).await;
        let calls: Vec<_> = api_log().into_iter().filter(|r| r.method == "GET" && r.origin.is_some()).collect();
        assert_eq!(calls.last().map(|c| c.status), Some(200), "{calls:?}");
    })
    .await;
}
