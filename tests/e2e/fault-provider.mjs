// A fault-injecting OpenID provider for the end-to-end tests: just enough of one
// (discovery, authorization, token, JWKS, userinfo) to bring the app to a token response,
// which is then whatever the scenario says: the faults a real, certified provider cannot
// be made to produce. The tests start it themselves (support::FaultProvider), one scenario
// per process.
//
// Usage: node fault-provider.mjs PORT SCENARIO
// GET /__count answers what reached it: {scenario, token_requests, key_requests,
// discovery_requests, revoked, refreshes, userinfo, logouts, id_tokens, authorizations}.
import { createServer } from 'node:http';
import { generateKeyPairSync, sign } from 'node:crypto';

const [port, scenario] = [Number(process.argv[2]), process.argv[3]];
const CLIENT_ID = 'fault-spa'; // as in tests/e2e/fault-config.json
// An issuer with a path and a trailing slash (tests/e2e/fault-path-config.json): every
// endpoint lives under the path, and discovery at the path's /.well-known (OIDC Discovery §4).
const TENANT = scenario === 'issuer_path_slash' ? '/tenant' : '';
const base = `http://127.0.0.1:${port}${TENANT}`;
const issuer = TENANT ? `${base}/` : base;
const b64u = (data) => Buffer.from(data).toString('base64url');

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
// RS256, for the provider whose metadata lists no signing algorithms (RS256 is then assumed).
const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
// What real providers do differently (README, "Providers"): each scenario one difference.
const MINIMAL = scenario === 'minimal_metadata'; // no logout, revocation, UserInfo or algorithm list
const jwks = { keys: [
  { ...key.publicKey.export({ format: 'jwk' }), kid: 'fault-1', use: 'sig', alg: 'ES256' },
  { ...rsaKey.publicKey.export({ format: 'jwk' }), kid: 'fault-rsa', use: 'sig', alg: 'RS256' },
] };

function idToken(claims, { alg = MINIMAL ? 'RS256' : 'ES256', signer = MINIMAL ? rsaKey.privateKey : key.privateKey } = {}) {
  const token = signedToken(claims, alg, signer);
  idTokens.push(token);
  return token;
}

function signedToken(claims, alg, signer) {
  const kid = alg === 'RS256' ? 'fault-rsa' : 'fault-1';
  const input = `${b64u(JSON.stringify({ alg, kid, typ: 'JWT' }))}.${b64u(JSON.stringify(claims))}`;
  if (alg === 'none') return `${input}.`;
  return `${input}.${b64u(sign('sha256', Buffer.from(input), { key: signer, dsaEncoding: 'ieee-p1363' }))}`;
}

let tokenRequests = 0;
let keyRequests = 0;
let discoveryRequests = 0;
const tokenRequestTimes = []; // when each token request arrived (ms since the epoch)
const revoked = []; // tokens the app revoked (RFC 7009)
const refreshes = []; // the refresh token each refresh presented
const userinfo = []; // the access token each UserInfo request presented
const logouts = []; // each request to the logout endpoint: its method, query and form
const idTokens = []; // every ID token issued, in order
const authorizations = []; // each authorization request's prompt (null when it had none)
const dpopProofs = []; // the DPoP proof of each token request that carried one (RFC 9449)
const later = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let nonce = '';
const held = []; // connections that are never answered

function tokenResponse(form) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: issuer, sub: 'fault-person', aud: CLIENT_ID, exp: now + 300, iat: now, nonce, name: 'Fay Ult' };
  const good = { access_token: 'fault-access-token', token_type: 'Bearer', expires_in: 300, id_token: idToken(claims) };
  const json = (body, status = 200) => ({ status, type: 'application/json', body: JSON.stringify(body) });
  // Renewal scenarios: a sign-in whose access token is due for renewal at once, then a
  // refresh that fails the scenario's way.
  // Tokens shorter-lived than the app's 30 s renewal margin, with rotating refresh tokens.
  if (scenario === 'short_tokens') {
    return json({ ...good, expires_in: 10, access_token: `fault-access-${tokenRequests}`, refresh_token: `fault-refresh-${tokenRequests}` });
  }
  if (scenario.startsWith('refresh_')) {
    if (form.get('grant_type') !== 'refresh_token') return json({ ...good, expires_in: 1, refresh_token: 'fault-refresh-token' });
    if (scenario === 'refresh_500') return { status: 500, type: 'text/html', body: '<h1>Internal Server Error</h1>' };
    if (scenario === 'refresh_slow') return json({ ...good, refresh_token: 'fault-refresh-token-2' });
    if (scenario === 'refresh_keys_slow') {
      const renewed = { sub: 'fault-person', name: 'Fay Ult', iss: issuer, aud: CLIENT_ID, exp: now + 300, iat: now };
      return json({ ...good, access_token: 'fault-access-token-2', refresh_token: 'fault-refresh-token-2', id_token: idToken(renewed) });
    }
    // A 200 that brings a new refresh token in an answer the app must refuse.
    if (scenario === 'refresh_unusable') return json({ access_token: 'fault-access-token-2', refresh_token: 'fault-refresh-token-2' });
    if (scenario === 'refresh_invalid_grant') return json({ error: 'invalid_grant', error_description: 'refresh token revoked' }, 400);
    // A rotated refresh token and a new access token, whose keys will then fail to load.
    if (scenario === 'refresh_jwks_500' || scenario === 'refresh_jwks_not_json') {
      const renewed = { sub: 'fault-person', name: 'Fay Ult', iss: issuer, aud: CLIENT_ID, exp: now + 300, iat: now };
      return json({ ...good, access_token: 'fault-access-token-2', refresh_token: 'fault-refresh-token-2', id_token: idToken(renewed) });
    }
  }
  switch (scenario) {
    case 'ok': case 'no_logout_endpoint': case 'discovery_slow': case 'jwks_500': case 'jwks_not_json': return json(good);
    case 'userinfo_other_sub': case 'userinfo_401': case 'userinfo_not_json': return json(good);
    case 'oauth_metadata_only': case 'ignores_prompt_none': return json(good);
    case 'iss_unadvertised': case 'iss_unadvertised_wrong': case 'session_state': case 'minimal_metadata':
    case 'userinfo_jwt': case 'issuer_path_slash': return json(good);
    case 'revoke_401': return json({ ...good, refresh_token: 'fault-refresh-token' });
    // A consent box left unticked: the grant is narrower than asked (RFC 6749 §3.3).
    case 'scope_narrowed': return json({ ...good, scope: 'openid profile' });
    // A 403 with a code of the provider's own and a description that is not a string.
    case 'token_403_odd_error': return json({ error: 'code_expired', error_description: 42 }, 403);
    case 'invalid_grant': return json({ error: 'invalid_grant', error_description: 'code already used' }, 400);
    case 'invalid_client': return json({ error: 'invalid_client', error_description: 'client authentication failed' }, 401);
    case 'html_500': return { status: 500, type: 'text/html', body: '<html><body><h1>Internal Server Error</h1><script>alert(1)</script></body></html>' };
    case 'not_json': return { status: 200, type: 'application/json', body: '<html>OK</html>' };
    case 'no_access_token': { const { access_token, ...rest } = good; return json(rest); }
    case 'token_type_mac': return json({ ...good, token_type: 'MAC' });
    // RFC 9449: DPoP advertised, and a Bearer token answered to the request's proof.
    case 'dpop_bearer': return json({ ...good, refresh_token: 'fault-refresh-token' });
    case 'expires_in_negative': return json({ ...good, expires_in: -30 });
    case 'expires_in_string': return json({ ...good, expires_in: '300' });
    case 'id_token_wrong_iss': return json({ ...good, id_token: idToken({ ...claims, iss: 'https://evil.example' }) });
    case 'id_token_wrong_aud': return json({ ...good, id_token: idToken({ ...claims, aud: 'another-client' }) });
    case 'id_token_wrong_nonce': return json({ ...good, id_token: idToken({ ...claims, nonce: 'not-the-nonce' }) });
    case 'id_token_expired': return json({ ...good, id_token: idToken({ ...claims, exp: now - 3600, iat: now - 7200 }) });
    case 'id_token_alg_none': return json({ ...good, id_token: idToken(claims, { alg: 'none' }) });
    case 'id_token_bad_signature': return json({ ...good, id_token: idToken(claims, { signer: otherKey.privateKey }) });
    case 'cors_refused': return { ...json(good), cors: false };
    default: throw new Error(`unknown scenario ${scenario}`);
  }
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  const cors = { 'access-control-allow-origin': req.headers.origin ?? '*', 'cache-control': 'no-store' };
  const send = (status, type, body, headers = cors) =>
    res.writeHead(status, { 'content-type': type, connection: 'close', ...headers }).end(body);
  if (req.method === 'OPTIONS') {
    return send(204, 'text/plain', '', { ...cors, 'access-control-allow-headers': 'authorization, dpop', 'access-control-allow-methods': 'GET, POST' });
  }
  // Under the issuer's path, if it has one; anything outside it is not this provider's.
  const inside = !TENANT || url.pathname === '/__count' || url.pathname.startsWith(`${TENANT}/`);
  const path = !inside ? '/outside-the-issuer' : TENANT && url.pathname !== '/__count' ? url.pathname.slice(TENANT.length) : url.pathname;
  switch (path) {
    case '/__count':
      return send(200, 'application/json', JSON.stringify({
        scenario, token_requests: tokenRequests, key_requests: keyRequests, discovery_requests: discoveryRequests, revoked, refreshes, userinfo,
        logouts, id_tokens: idTokens, token_request_times: tokenRequestTimes, authorizations, dpop_proofs: dpopProofs,
      }));
    case '/.well-known/oauth-authorization-server':
    case '/.well-known/openid-configuration':
      discoveryRequests += 1;
      // A provider that publishes only RFC 8414's metadata document.
      if ((scenario === 'oauth_metadata_only') !== (path === '/.well-known/oauth-authorization-server')) {
        return send(404, 'text/plain', 'not found');
      }
      if (scenario === 'discovery_500') return send(500, 'text/html', '<h1>Internal Server Error</h1>');
      // Slow enough for every load the app starts meanwhile to overlap this one.
      if (scenario === 'discovery_slow') await later(3000);
      return send(200, 'application/json', JSON.stringify({
        issuer,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        jwks_uri: `${base}/jwks`,
        ...(MINIMAL ? {} : { userinfo_endpoint: `${base}/userinfo`, revocation_endpoint: `${base}/revoke` }),
        ...(scenario === 'no_logout_endpoint' || MINIMAL ? {} : { end_session_endpoint: `${base}/logout` }),
        response_types_supported: ['code'],
        ...(MINIMAL ? {} : { id_token_signing_alg_values_supported: ['ES256'] }),
        code_challenge_methods_supported: ['S256'],
        // RFC 9207 §3: not advertised, though `iss` is sent all the same (§2.4 then says compare it).
        ...(scenario.startsWith('iss_unadvertised') ? {} : { authorization_response_iss_parameter_supported: true }),
        ...(scenario.startsWith('dpop_') ? { dpop_signing_alg_values_supported: ['ES256'] } : {}),
      }));
    case '/jwks':
      keyRequests += 1;
      if (scenario === 'jwks_500') return send(500, 'text/html', '<h1>Internal Server Error</h1>');
      // The sign-in's keys load; the renewal's do not.
      if (scenario === 'refresh_jwks_500' && keyRequests > 1) return send(500, 'text/html', '<h1>Internal Server Error</h1>');
      if (scenario === 'refresh_jwks_not_json' && keyRequests > 1) return send(200, 'text/html', '<html>Maintenance</html>');
      if (scenario === 'jwks_not_json') return send(200, 'application/json', '<html>keys</html>');
      if (scenario === 'refresh_keys_slow' && keyRequests > 1) await later(12000);
      return send(200, 'application/json', JSON.stringify(jwks));
    case '/authorize': {
      authorizations.push(url.searchParams.get('prompt'));
      // A provider that does not serve prompt=none (OIDC Core §3.1.2.1 says it must answer
      // without a page): it shows its login page anyway.
      if (scenario === 'ignores_prompt_none' && url.searchParams.get('prompt') === 'none') {
        return send(200, 'text/html; charset=utf-8', '<!doctype html><title>Sign in</title><h1>Sign in at the fault provider</h1>');
      }
      // No login: straight back with a code, as a provider with a session would.
      nonce = url.searchParams.get('nonce') ?? '';
      const back = new URL(url.searchParams.get('redirect_uri'));
      back.searchParams.set('code', 'fault-code');
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      back.searchParams.set('iss', scenario === 'iss_unadvertised_wrong' ? 'https://evil.example' : issuer);
      // OpenID Connect Session Management's parameter, which some providers always add.
      if (scenario === 'session_state') back.searchParams.set('session_state', 'fault-session.abc123');
      res.writeHead(302, { location: back.href, connection: 'close' }).end();
      // The provider goes down between the redirect and the token request.
      if (scenario === 'down') server.close();
      return;
    }
    case '/token': {
      let body = '';
      for await (const chunk of req) body += chunk;
      tokenRequests += 1;
      tokenRequestTimes.push(Date.now());
      if (req.headers.dpop) dpopProofs.push(req.headers.dpop);
      // RFC 9449 §8: a provider whose every answer asks for a new nonce (one it never takes).
      if (scenario === 'dpop_nonce_always') {
        return send(400, 'application/json', JSON.stringify({ error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof' }), {
          ...cors, 'dpop-nonce': `nonce-${tokenRequests}`, 'access-control-expose-headers': 'DPoP-Nonce',
        });
      }
      if (scenario === 'never') return held.push(res); // the answer never comes
      const form = new URLSearchParams(body);
      if (form.get('grant_type') === 'refresh_token') refreshes.push(form.get('refresh_token'));
      // A renewal that takes four seconds, for a sign-out to happen meanwhile (the app
      // waits up to five for it).
      if (scenario === 'refresh_slow' && form.get('grant_type') === 'refresh_token') await later(4000);
      // A renewal longer than any one request: 12 s for the tokens, then 12 s for the keys
      // (each within the app's 15 s time-out).
      if (scenario === 'refresh_keys_slow' && form.get('grant_type') === 'refresh_token') await later(12000);
      const reply = tokenResponse(form);
      return send(reply.status, reply.type, reply.body, reply.cors === false ? { 'cache-control': 'no-store' } : cors);
    }
    case '/logout': {
      // RP-Initiated Logout 1.0 §2, GET or POST: straight back to post_logout_redirect_uri,
      // with the state the request carried (§3).
      let body = '';
      for await (const chunk of req) body += chunk;
      const form = Object.fromEntries(new URLSearchParams(req.method === 'POST' ? body : ''));
      const query = Object.fromEntries(url.searchParams);
      logouts.push({ method: req.method, query, form });
      const back = form.post_logout_redirect_uri ?? query.post_logout_redirect_uri;
      if (!back) return send(400, 'text/plain', 'post_logout_redirect_uri missing');
      const state = form.state ?? query.state;
      const location = state === undefined ? back : `${back}${back.includes('?') ? '&' : '?'}state=${encodeURIComponent(state)}`;
      res.writeHead(303, { location, connection: 'close' }).end();
      return;
    }
    case '/revoke': {
      let body = '';
      for await (const chunk of req) body += chunk;
      revoked.push(new URLSearchParams(body).get('token'));
      // A revocation endpoint that demands client authentication, which a public client lacks.
      if (scenario === 'revoke_401') return send(401, 'application/json', '{"error":"invalid_client"}', { ...cors, 'www-authenticate': 'Basic realm="fault"' });
      return send(200, 'text/plain', '');
    }
    case '/userinfo':
      userinfo.push((req.headers.authorization ?? '').replace(/^Bearer /, ''));
      // After the renewal, only the renewed access token is good.
      if (['refresh_jwks_500', 'refresh_jwks_not_json', 'refresh_keys_slow'].includes(scenario) && tokenRequests > 1 && req.headers.authorization !== 'Bearer fault-access-token-2') {
        return send(401, 'application/json', '{"error":"invalid_token"}', { ...cors, 'www-authenticate': 'Bearer error="invalid_token"' });
      }
      // UserInfo faults: another person, the token refused, an answer that is not JSON.
      if (scenario === 'userinfo_other_sub') return send(200, 'application/json', JSON.stringify({ sub: 'someone-else', name: 'Mallory' }));
      if (scenario === 'userinfo_401') {
        return send(401, 'application/json', '{"error":"invalid_token"}', { ...cors, 'www-authenticate': 'Bearer error="invalid_token"' });
      }
      if (scenario === 'userinfo_not_json') return send(200, 'text/html', '<html><body>Mallory</body></html>');
      // Signed UserInfo (OIDC Core §5.3.2), for a client that did not register for it.
      if (scenario === 'userinfo_jwt') return send(200, 'application/jwt', signedToken({ iss: issuer, aud: CLIENT_ID, sub: 'fault-person', name: 'Fay Ult' }, 'ES256', key.privateKey));
      // The email the consent left out is not in the answer either.
      if (scenario === 'scope_narrowed') return send(200, 'application/json', JSON.stringify({ sub: 'fault-person', name: 'Fay Ult' }));
      return send(200, 'application/json', JSON.stringify({ sub: 'fault-person', name: 'Fay Ult', email: 'fay@example.test' }));
    default:
      return send(404, 'text/plain', 'not found');
  }
});
server.listen(port, '127.0.0.1', () => console.log(`fault provider (${scenario}) at ${issuer}`));
