// The demo API: a small resource server that the demo app's API page calls with the
// person's access token. Development and tests only; no dependencies beyond Node.
//
// It accepts a token only if the provider says it is active (token introspection,
// RFC 7662, as its own confidential client `demo-api`), was issued by that provider to an
// app it trusts, is meant for it (`aud`, when the token names one) and carries the scope it
// needs. A token bound to a key (DPoP, RFC 9449: introspection names the key's thumbprint,
// `cnf.jkt`) is taken only as `Authorization: DPoP` with a proof of that key, checked as
// §4.3 and §7.1 say; an unbound one only as `Authorization: Bearer`. It answers with the
// person's own data. Refusals say why in `WWW-Authenticate` (RFC 6750 §3, RFC 9449 §7.1),
// which CORS exposes so that the app can read it. CORS answers the app's origins only.
//
// Why introspection rather than JWT access tokens for this audience (RFC 8707 resource
// indicators): oidc-provider will not accept an access token bound to a resource server at
// its UserInfo endpoint, so one token could not serve both; introspection works with the
// one token the app holds, with any provider that offers it.
import { createServer } from 'node:http';
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import { pathToFileURL } from 'node:url';

const PORT = Number(process.env.API_PORT ?? 9200);
const ISSUER = process.env.PROVIDER_ISSUER ?? 'http://127.0.0.1:9000';
const APP_ORIGINS = (process.env.APP_ORIGINS ?? 'http://localhost:8080,http://127.0.0.1:8080').split(',');
// This API's credentials at the provider (provider/server.mjs registers them).
const CLIENT_ID = process.env.API_CLIENT_ID ?? 'demo-api';
const CLIENT_SECRET = process.env.API_CLIENT_SECRET ?? 'demo-api-secret-not-secret';
// The apps whose tokens this API accepts, and its own identifier for tokens that name an audience.
const TRUSTED_CLIENTS = (process.env.API_TRUSTED_CLIENTS ?? 'leptos-spa').split(',');
const AUDIENCE = process.env.API_AUDIENCE ?? `http://127.0.0.1:${PORT}`;
const REQUIRED_SCOPE = 'profile';
const REALM = 'demo-api';

// The person's own data: a note each, and how often they called.
const NOTES = new Map([['alice', 'Curiouser and curiouser!'], ['bob', 'Can we fix it? Yes, we can!']]);
const calls = new Map();

let introspectionEndpoint;
/** The provider's introspection endpoint: from its OpenID Connect discovery document, else
 *  from its RFC 8414 metadata (§3.1: the well-known segment before the issuer's path), which
 *  is where some providers (django-oauth-toolkit) list it. */
async function findIntrospection() {
  const { origin, pathname } = new URL(ISSUER);
  const path = pathname === '/' ? '' : pathname.replace(/\/$/, '');
  for (const url of [`${ISSUER.replace(/\/$/, '')}/.well-known/openid-configuration`, `${origin}/.well-known/oauth-authorization-server${path}`]) {
    const metadata = await fetch(url).then((r) => (r.ok ? r.json() : {})).catch(() => ({}));
    if (typeof metadata.introspection_endpoint === 'string') return metadata.introspection_endpoint;
  }
  throw new Error('the provider offers no introspection');
}
async function introspect(token) {
  if (!introspectionEndpoint) introspectionEndpoint = await findIntrospection();
  const credentials = Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`);
  const response = await fetch(introspectionEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${credentials.toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
  });
  if (!response.ok) throw new Error(`introspection answered HTTP ${response.status}`);
  return response.json();
}

// RFC 9449: how far a proof's `iat` may be from now, and whether proofs must carry this
// server's nonce (§9; API_DPOP_NONCE=1). The nonce changes every NONCE_SECONDS; the one
// before stays good for as long again, so a proof made just before the change still counts.
const PROOF_WINDOW_SECONDS = 60;
const REQUIRE_NONCE = process.env.API_DPOP_NONCE === '1';
const NONCE_SECONDS = 300;
const nonces = [randomBytes(16).toString('base64url')];
let nonceSince = Date.now();
export function currentNonce(now = Date.now()) {
  if (now - nonceSince > NONCE_SECONDS * 1000) {
    nonces.unshift(randomBytes(16).toString('base64url'));
    nonces.length = 2;
    nonceSince = now;
  }
  return nonces[0];
}
// Each proof's `jti` until its `iat` leaves the window: a proof is used once (§11.1).
const seenProofs = new Map();

const sha256 = (text) => createHash('sha256').update(text).digest('base64url');
const decodePart = (part) => {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString());
  } catch {
    return null;
  }
};

/** The thumbprint (RFC 7638 §3) of an EC public key as a JWK. */
export function thumbprint(jwk) {
  return sha256(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }));
}

/** Checks a DPoP proof as RFC 9449 §4.3 has servers do, for a request `method` to `url`
 *  that presents `token` (`ath`), from the key `jkt` the token is bound to. Answers null,
 *  or [error, description]: `use_dpop_nonce` when only the nonce is missing or stale (§9),
 *  `invalid_dpop_proof` otherwise. ES256 only, as this API's challenge says (`algs`). */
export function proofRefusal(proof, { method, url, token, jkt, now = Date.now(), requireNonce = REQUIRE_NONCE }) {
  const invalid = (description) => ['invalid_dpop_proof', description];
  // §4.3 step 1: exactly one header (Node joins repeated headers with ", "), one JWT.
  const parts = typeof proof === 'string' ? proof.split('.') : [];
  if (parts.length !== 3 || proof.includes(',')) return invalid('One DPoP proof is needed');
  const [header, claims] = parts.slice(0, 2).map(decodePart);
  if (!header || !claims) return invalid('The DPoP proof is not a JWT');
  const { jwk } = header;
  if (header.typ !== 'dpop+jwt' || header.alg !== 'ES256') return invalid('The DPoP proof must be an ES256 dpop+jwt');
  if (!jwk || jwk.kty !== 'EC' || jwk.crv !== 'P-256' || 'd' in jwk) return invalid('The DPoP proof must carry a public P-256 key');
  let valid = false;
  try {
    const key = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' });
    valid = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
  } catch {
    valid = false;
  }
  if (!valid) return invalid('The DPoP proof signature does not verify');
  if (claims.htm !== method) return invalid('The DPoP proof is for another method');
  let htu = null;
  try {
    htu = new URL(claims.htu);
  } catch {
    htu = null;
  }
  const target = new URL(url);
  if (!htu || `${htu.origin}${htu.pathname}` !== `${target.origin}${target.pathname}`) return invalid('The DPoP proof is for another URL');
  if (typeof claims.jti !== 'string' || !claims.jti) return invalid('The DPoP proof has no jti');
  if (typeof claims.iat !== 'number' || Math.abs(now / 1000 - claims.iat) > PROOF_WINDOW_SECONDS) return invalid('The DPoP proof is not recent');
  if (claims.ath !== sha256(token)) return invalid('The DPoP proof is for another access token');
  if (thumbprint(jwk) !== jkt) return invalid('The access token is bound to another key');
  if (requireNonce) {
    currentNonce(now);
    if (!nonces.includes(claims.nonce)) return ['use_dpop_nonce', 'Resource server requires nonce in DPoP proof'];
  }
  for (const [jti, until] of seenProofs) if (until < now) seenProofs.delete(jti);
  if (seenProofs.has(claims.jti)) return invalid('The DPoP proof was used before');
  seenProofs.set(claims.jti, (claims.iat + PROOF_WINDOW_SECONDS) * 1000);
  return null;
}

/** Why the introspected token (RFC 7662 §2.2) is not for this API, as [error, description],
 *  or null if it is. A token that names an audience must name this API; one that names none
 *  (the provider's tokens for its UserInfo endpoint, which the app also calls) is this API's
 *  only if it was issued to an app this API trusts: the app is then the audience. */
export function refusal(info) {
  if (info.active !== true) return ['invalid_token', 'The access token is not active'];
  if (info.iss !== undefined && info.iss !== ISSUER) return ['invalid_token', 'The access token is from another issuer'];
  if (info.token_type !== undefined && !['Bearer', 'DPoP'].includes(info.token_type)) return ['invalid_token', 'Not a Bearer or DPoP access token'];
  if (!TRUSTED_CLIENTS.includes(info.client_id)) return ['invalid_token', 'The access token was issued to another app'];
  const audience = [info.aud ?? []].flat();
  if (audience.length && !audience.includes(AUDIENCE)) return ['invalid_token', 'The access token is for another API'];
  if (typeof info.sub !== 'string') return ['invalid_token', 'The access token names no person'];
  if (!String(info.scope ?? '').split(' ').includes(REQUIRED_SCOPE)) return ['insufficient_scope', `The scope ${REQUIRED_SCOPE} is needed`];
  return null;
}

/** RFC 6750 §3 (`Bearer`) or RFC 9449 §7.1 (`DPoP`, with the one proof algorithm taken):
 *  the challenge, with an error when the request carried a token. Its quoted values may
 *  not hold `"` or `\` (§3: %x20-21 / %x23-5B / %x5D-7E), so those are dropped. */
export function challenge(error, description, scheme = 'Bearer') {
  const quoted = (text) => `"${String(text).replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '')}"`;
  const params = [`realm=${quoted(REALM)}`];
  if (scheme === 'DPoP') params.push('algs="ES256"');
  if (error) params.push(`error=${quoted(error)}`, `error_description=${quoted(description)}`);
  if (error === 'insufficient_scope') params.push(`scope="${REQUIRED_SCOPE}"`);
  return `${scheme} ${params.join(', ')}`;
}

// Test mode (tools/test.sh): every request logged (method, path, origin, whether it carried
// an Authorization header and a digest of its token, the status answered, when it
// arrived); GET /__test/log
// answers the log and starts a new one; POST /__test/reject-next has the next /me request
// refused with invalid_token, as if the token had been revoked.
const TEST_HOOKS = process.env.API_TEST_HOOKS === '1';
let log = [];
let rejectNext = false;

function send(res, status, body, headers = {}) {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': text.length, 'cache-control': 'no-store', ...headers });
  res.end(text);
}

async function handle(req, res) {
  const url = new URL(req.url, AUDIENCE);
  const origin = req.headers.origin;
  const cors = APP_ORIGINS.includes(origin)
    ? { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'WWW-Authenticate, DPoP-Nonce', vary: 'Origin' }
    : { vary: 'Origin' };

  if (TEST_HOOKS && url.pathname === '/__test/log') return send(res, 200, { requests: log.splice(0) });
  if (TEST_HOOKS && url.pathname === '/__test/reject-next' && req.method === 'POST') {
    rejectNext = true;
    return send(res, 200, {});
  }

  const authorization = req.headers.authorization ?? '';
  const entry = { method: req.method, path: url.pathname, origin: origin ?? null, authorization: authorization !== '', at: Date.now() };
  const [, scheme, token] = /^(Bearer|DPoP) +([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization) ?? [];
  const proof = req.headers.dpop;
  if (token) entry.token = sha256(token).slice(0, 16);
  if (scheme) entry.scheme = /^dpop$/i.test(scheme) ? 'DPoP' : 'Bearer';
  if (proof) entry.proof = proof;
  const answer = (status, body, headers = {}) => {
    entry.status = status;
    if (TEST_HOOKS) log.push(entry);
    send(res, status, body, { ...cors, ...headers });
  };

  if (req.method === 'OPTIONS') {
    // A CORS preflight: only the app's origins may send the Authorization header here.
    entry.status = APP_ORIGINS.includes(origin) ? 204 : 403;
    if (TEST_HOOKS) log.push(entry);
    res.writeHead(entry.status, APP_ORIGINS.includes(origin) ? {
      ...cors,
      'access-control-allow-methods': 'GET',
      'access-control-allow-headers': 'authorization, dpop',
      'access-control-max-age': '600',
    } : {});
    return res.end();
  }
  if (url.pathname !== '/me') return answer(404, { error: 'not_found' });
  if (req.method !== 'GET') return answer(405, { error: 'method_not_allowed' }, { allow: 'GET' });
  if (!token) return answer(401, { error: 'unauthorized' }, { 'www-authenticate': `${challenge()}, ${challenge(null, null, 'DPoP')}` });
  if (rejectNext) {
    rejectNext = false;
    return answer(401, { error: 'invalid_token' }, { 'www-authenticate': challenge('invalid_token', 'The access token was revoked', entry.scheme) });
  }

  let info;
  try {
    info = await introspect(token);
  } catch (error) {
    console.error(`demo API: ${error.message}`);
    return answer(503, { error: 'temporarily_unavailable' }, { 'retry-after': '5' });
  }
  // RFC 9449 §7.1: a bound token only with a proof of its key, an unbound one only as Bearer.
  const jkt = info.active === true ? info.cnf?.jkt : undefined;
  const dpop = entry.scheme === 'DPoP';
  let refused = refusal(info);
  if (!refused && jkt && !dpop) refused = ['invalid_token', 'The access token is DPoP-bound: present it with a DPoP proof'];
  if (!refused && !jkt && dpop) refused = ['invalid_token', 'The access token is not DPoP-bound'];
  if (!refused && jkt) {
    // §4.3: `htu` is checked against this API's own URL, not the Host header the caller chose.
    refused = proofRefusal(proof, { method: req.method, url: url.href, token, jkt });
  }
  if (refused) {
    const [error, description] = refused;
    entry.error = error;
    const headers = { 'www-authenticate': challenge(error, description, entry.scheme) };
    if (error === 'use_dpop_nonce') headers['dpop-nonce'] = currentNonce();
    const status = error === 'insufficient_scope' ? 403 : 401;
    return answer(status, { error }, headers);
  }
  const count = (calls.get(info.sub) ?? 0) + 1;
  calls.set(info.sub, count);
  return answer(200, { sub: info.sub, note: NOTES.get(info.sub) ?? null, calls: count, scope: info.scope });
}

/** The server, not yet listening. */
export function createApi() {
  return createServer((req, res) => {
    handle(req, res).catch((error) => {
      console.error(error);
      const origin = req.headers.origin;
      const cors = APP_ORIGINS.includes(origin) ? { 'access-control-allow-origin': origin, vary: 'Origin' } : {};
      if (!res.headersSent) send(res, 500, { error: 'server_error' }, cors);
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  createApi().listen(PORT, '127.0.0.1', () => console.log(`demo API on ${AUDIENCE} (tokens from ${ISSUER})`));
}
