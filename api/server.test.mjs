// The demo API's own rules (node --test; tools/test.sh runs it): which introspected tokens
// it refuses and how it says so (RFC 6750 §3), and its CORS, against a stand-in provider
// that answers discovery and introspection as the test tells it to.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';

const APP = 'http://localhost:8080';
let introspected = { active: false };
const provider = createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  if (req.url === '/.well-known/openid-configuration') {
    res.end(JSON.stringify({ introspection_endpoint: `http://127.0.0.1:${provider.address().port}/introspect` }));
  } else if (req.url === '/introspect' && req.headers.authorization?.startsWith('Basic ')) {
    res.end(JSON.stringify(introspected));
  } else {
    res.statusCode = 404;
    res.end('{}');
  }
});
await new Promise((resolve) => provider.listen(0, '127.0.0.1', resolve));
process.env.PROVIDER_ISSUER = `http://127.0.0.1:${provider.address().port}`;
process.env.APP_ORIGINS = APP;
const { refusal, challenge, createApi, proofRefusal, thumbprint, currentNonce } = await import('./server.mjs');
const ISSUER = process.env.PROVIDER_ISSUER;

const api = createApi();
before(() => new Promise((resolve) => api.listen(0, '127.0.0.1', resolve)));
after(() => {
  api.close();
  provider.close();
});

async function call(method, headers = {}) {
  const response = await fetch(`http://127.0.0.1:${api.address().port}/me`, { method, headers });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

const good = { active: true, iss: ISSUER, token_type: 'Bearer', client_id: 'leptos-spa', sub: 'alice', scope: 'openid profile email' };

test('a token is refused unless active, from the issuer, Bearer, for a trusted app and this API, with a person and the scope', () => {
  assert.equal(refusal(good), null);
  assert.equal(refusal({ ...good, aud: ['http://127.0.0.1:9200', 'other'] }), null);
  for (const [info, error] of [
    [{ ...good, active: false }, 'invalid_token'],
    [{ ...good, iss: 'https://evil.example' }, 'invalid_token'],
    [{ ...good, token_type: 'mac' }, 'invalid_token'],
    [{ ...good, token_type: 'DPoP', cnf: { jkt: 'x' } }, null],
    [{ ...good, client_id: 'another-app' }, 'invalid_token'],
    [{ ...good, aud: 'https://another-api.example' }, 'invalid_token'],
    [{ ...good, sub: undefined }, 'invalid_token'],
    [{ ...good, scope: 'openid email' }, 'insufficient_scope'],
    [{ active: true }, 'invalid_token'],
  ]) {
    assert.equal(refusal(info)?.[0] ?? null, error, JSON.stringify(info));
  }
});

test('challenges follow RFC 6750 §3, with nothing that would break a quoted string', () => {
  assert.equal(challenge(), 'Bearer realm="demo-api"');
  assert.equal(
    challenge('insufficient_scope', 'The scope "profile" is needed\\'),
    'Bearer realm="demo-api", error="insufficient_scope", error_description="The scope profile is needed", scope="profile"',
  );
});

test('answers: the person with a good token; 401 invalid_token, 403 insufficient_scope, 401 without a token', async () => {
  introspected = good;
  const ok = await call('GET', { authorization: 'Bearer at-1', origin: APP });
  assert.equal(ok.status, 200);
  assert.deepEqual(
    (({ sub, note }) => ({ sub, note }))(JSON.parse(ok.body)),
    { sub: 'alice', note: 'Curiouser and curiouser!' },
  );
  introspected = { active: false };
  const inactive = await call('GET', { authorization: 'Bearer at-2', origin: APP });
  assert.equal(inactive.status, 401);
  assert.match(inactive.headers.get('www-authenticate'), /^Bearer realm="demo-api", error="invalid_token"/);
  introspected = { ...good, scope: 'openid' };
  const narrow = await call('GET', { authorization: 'Bearer at-3', origin: APP });
  assert.equal(narrow.status, 403);
  assert.match(narrow.headers.get('www-authenticate'), /error="insufficient_scope".*scope="profile"$/);
  const none = await call('GET', { origin: APP });
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="demo-api", DPoP realm="demo-api", algs="ES256"');
  const basic = await call('GET', { authorization: 'Basic YTpi', origin: APP });
  assert.equal(basic.status, 401, 'only Bearer tokens');
});

test('CORS: only the app origin may send a token and read the answer, challenge included', async () => {
  const preflight = await call('OPTIONS', { origin: APP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), APP);
  assert.equal(preflight.headers.get('access-control-allow-headers'), 'authorization, dpop');
  const foreign = await call('OPTIONS', { origin: 'https://evil.example', 'access-control-request-method': 'GET' });
  assert.equal(foreign.status, 403);
  assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  const answer = await call('GET', { origin: APP });
  assert.equal(answer.headers.get('access-control-allow-origin'), APP);
  assert.equal(answer.headers.get('access-control-expose-headers'), 'WWW-Authenticate, DPoP-Nonce');
  assert.equal(answer.headers.get('vary'), 'Origin');
  const elsewhere = await call('GET', { origin: 'https://evil.example' });
  assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
});

// RFC 9449: a key as the page's (P-256), and proofs made with it as §4.2 says.
function dpopKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  return { privateKey, jwk: { kty, crv, x, y } };
}
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
function makeProof(key, claims, header = {}) {
  const input = `${b64({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk, ...header })}.${b64(claims)}`;
  const signature = sign('sha256', Buffer.from(input), { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}
let jtis = 0;
const claimsFor = (token, extra = {}) => ({
  jti: `jti-${(jtis += 1)}`, htm: 'GET', htu: 'http://127.0.0.1:9200/me', iat: Math.floor(Date.now() / 1000),
  ath: createHash('sha256').update(token).digest('base64url'), ...extra,
});

test('a JWK thumbprint is RFC 7638 §3 (RFC 9449 §6.1 example)', () => {
  const jwk = { kty: 'EC', crv: 'P-256', x: 'l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs', y: '9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA' };
  assert.equal(thumbprint(jwk), '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I');
});

test('a DPoP proof is refused unless signed by the bound key, for this method, URL, token and time, and new', () => {
  const key = dpopKey();
  const jkt = thumbprint(key.jwk);
  const request = { method: 'GET', url: 'http://127.0.0.1:9200/me', token: 'at-1', jkt };
  assert.equal(proofRefusal(makeProof(key, claimsFor('at-1')), request), null);
  const replayed = makeProof(key, claimsFor('at-1'));
  assert.equal(proofRefusal(replayed, request), null);
  assert.deepEqual(proofRefusal(replayed, request), ['invalid_dpop_proof', 'The DPoP proof was used before']);
  const thief = dpopKey();
  const cases = [
    ['another key', makeProof(thief, claimsFor('at-1')), 'bound to another key'],
    ['another method', makeProof(key, claimsFor('at-1', { htm: 'POST' })), 'another method'],
    ['another URL', makeProof(key, claimsFor('at-1', { htu: 'http://127.0.0.1:9200/other' })), 'another URL'],
    ['another server', makeProof(key, claimsFor('at-1', { htu: 'http://evil.example:9200/me' })), 'another URL'],
    ['another token', makeProof(key, claimsFor('at-2')), 'another access token'],
    ['no token hash', makeProof(key, claimsFor('at-1', { ath: undefined })), 'another access token'],
    ['an old proof', makeProof(key, claimsFor('at-1', { iat: Math.floor(Date.now() / 1000) - 120 })), 'not recent'],
    ['no jti', makeProof(key, claimsFor('at-1', { jti: '' })), 'no jti'],
    ['the private key shown', makeProof(key, claimsFor('at-1'), { jwk: { ...key.jwk, d: 'x' } }), 'public P-256 key'],
    ['another type', makeProof(key, claimsFor('at-1'), { typ: 'JWT' }), 'ES256 dpop\\+jwt'],
    ['a forged signature', `${makeProof(key, claimsFor('at-1')).slice(0, -4)}AAAA`, 'does not verify'],
    ['two proofs', `${makeProof(key, claimsFor('at-1'))}, ${makeProof(key, claimsFor('at-1'))}`, 'One DPoP proof'],
    ['no proof', undefined, 'One DPoP proof'],
  ];
  for (const [name, proof, reason] of cases) {
    const refused = proofRefusal(proof, request);
    assert.equal(refused?.[0], 'invalid_dpop_proof', name);
    assert.match(refused[1], new RegExp(reason), name);
  }
  // The query is not part of htu (§4.2).
  assert.equal(proofRefusal(makeProof(key, claimsFor('at-1', { htu: 'http://127.0.0.1:9200/me?x=1' })), request), null);
});

test('with nonces required, a proof without the current nonce is asked for one (RFC 9449 §9)', async () => {
  const key = dpopKey();
  const jkt = thumbprint(key.jwk);
  const request = { method: 'GET', url: 'http://127.0.0.1:9200/me', token: 'at-1', jkt, requireNonce: true };
  assert.equal(proofRefusal(makeProof(key, claimsFor('at-1')), request)?.[0], 'use_dpop_nonce');
  assert.equal(proofRefusal(makeProof(key, claimsFor('at-1', { nonce: 'made-up' })), request)?.[0], 'use_dpop_nonce');
  assert.equal(proofRefusal(makeProof(key, claimsFor('at-1', { nonce: currentNonce() })), request), null);
  // Five minutes on, a new nonce; the one before still counts for as long again, then not.
  const later = Date.now() + 301_000;
  const old = currentNonce();
  const fresh = currentNonce(later);
  assert.notEqual(fresh, old);
  const at = (when, nonce) => proofRefusal(makeProof(key, claimsFor('at-1', { nonce, iat: Math.floor(when / 1000) })), { ...request, now: when });
  assert.equal(at(later, old), null);
  assert.equal(at(later, fresh), null);
  const muchLater = later + 301_000;
  currentNonce(muchLater);
  assert.equal(at(muchLater, old)?.[0], 'use_dpop_nonce');
});

test('a DPoP-bound token is taken only as DPoP with a proof of its key; an unbound one only as Bearer', async () => {
  const key = dpopKey();
  // This API's own URL (API_AUDIENCE, by default http://127.0.0.1:9200), whatever port the test server has.
  const htu = 'http://127.0.0.1:9200/me';
  introspected = { ...good, token_type: 'DPoP', cnf: { jkt: thumbprint(key.jwk) } };
  const ok = await call('GET', { authorization: 'DPoP at-1', dpop: makeProof(key, claimsFor('at-1', { htu })), origin: APP });
  assert.equal(ok.status, 200);
  const asBearer = await call('GET', { authorization: 'Bearer at-1', origin: APP });
  assert.equal(asBearer.status, 401);
  assert.match(asBearer.headers.get('www-authenticate'), /^Bearer realm="demo-api", error="invalid_token", error_description="The access token is DPoP-bound/);
  const thief = await call('GET', { authorization: 'DPoP at-1', dpop: makeProof(dpopKey(), claimsFor('at-1', { htu })), origin: APP });
  assert.equal(thief.status, 401);
  assert.match(thief.headers.get('www-authenticate'), /^DPoP realm="demo-api", algs="ES256", error="invalid_dpop_proof"/);
  const noProof = await call('GET', { authorization: 'DPoP at-1', origin: APP });
  assert.equal(noProof.status, 401);
  assert.match(noProof.headers.get('www-authenticate'), /^DPoP .*error="invalid_dpop_proof", error_description="One DPoP proof is needed"/);
  // The proof is checked against this API's own URL: a Host header naming another server
  // does not make a proof for that server count here.
  const elsewhere = 'http://evil.example/me';
  const hostedStatus = await new Promise((resolve, reject) => {
    const headers = { authorization: 'DPoP at-1', dpop: makeProof(key, claimsFor('at-1', { htu: elsewhere })), origin: APP, host: 'evil.example' };
    request({ host: '127.0.0.1', port: api.address().port, path: '/me', headers }, (res) => {
      res.resume();
      resolve(res.statusCode);
    }).on('error', reject).end();
  });
  assert.equal(hostedStatus, 401);
  introspected = good;
  const unbound = await call('GET', { authorization: 'DPoP at-1', dpop: makeProof(key, claimsFor('at-1', { htu })), origin: APP });
  assert.equal(unbound.status, 401);
  assert.match(unbound.headers.get('www-authenticate'), /error="invalid_token", error_description="The access token is not DPoP-bound"/);
});

// Last: it leaves the stand-in provider failing.
test('the provider not answering introspection is a 503, never an acceptance', async () => {
  const saved = introspected;
  provider.removeAllListeners('request');
  provider.on('request', (req, res) => {
    res.statusCode = 500;
    res.end('{}');
  });
  try {
    const down = await call('GET', { authorization: 'Bearer at-4', origin: APP });
    assert.equal(down.status, 503);
  } finally {
    introspected = saved;
  }
});
