// The demo API's own rules (node --test; tools/test.sh runs it): which introspected tokens
// it refuses and how it says so (RFC 6750 §3), and its CORS, against a stand-in provider
// that answers discovery and introspection as the test tells it to.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';

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
const { refusal, challenge, createApi } = await import('./server.mjs');
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
    [{ ...good, token_type: 'DPoP' }, 'invalid_token'],
    [{ ...good, client_id: 'another-app' }, 'invalid_token'],
    [{ ...good, aud: 'https://another-api.example' }, 'invalid_token'],
    [{ ...good, sub: undefined }, 'invalid_token'],
    [{ ...good, scope: 'openid email' }, 'insufficient_scope'],
    [{ active: true }, 'invalid_token'],
  ]) {
    assert.equal(refusal(info)?.[0], error, JSON.stringify(info));
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
  assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="demo-api"');
  const basic = await call('GET', { authorization: 'Basic YTpi', origin: APP });
  assert.equal(basic.status, 401, 'only Bearer tokens');
});

test('CORS: only the app origin may send a token and read the answer, challenge included', async () => {
  const preflight = await call('OPTIONS', { origin: APP, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), APP);
  assert.equal(preflight.headers.get('access-control-allow-headers'), 'authorization');
  const foreign = await call('OPTIONS', { origin: 'https://evil.example', 'access-control-request-method': 'GET' });
  assert.equal(foreign.status, 403);
  assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  const answer = await call('GET', { origin: APP });
  assert.equal(answer.headers.get('access-control-allow-origin'), APP);
  assert.equal(answer.headers.get('access-control-expose-headers'), 'WWW-Authenticate');
  assert.equal(answer.headers.get('vary'), 'Origin');
  const elsewhere = await call('GET', { origin: 'https://evil.example' });
  assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
});

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
