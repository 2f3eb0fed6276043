// The demo API: a small resource server that the demo app's API page calls with the
// person's access token. Development and tests only; no dependencies beyond Node.
//
// It accepts a token only if the provider says it is active (token introspection,
// RFC 7662, as its own confidential client `demo-api`), was issued by that provider as a
// Bearer token to an app it trusts, is meant for it (`aud`, when the token names one) and
// carries the scope it needs. It answers with the person's own data. Refusals say why in
// `WWW-Authenticate` (RFC 6750 §3), which CORS exposes so that the app can read it. CORS
// answers the app's origins only.
//
// Why introspection rather than JWT access tokens for this audience (RFC 8707 resource
// indicators): oidc-provider will not accept an access token bound to a resource server at
// its UserInfo endpoint, so one token could not serve both; introspection works with the
// one token the app holds, with any provider that offers it.
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
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

/** Why the introspected token (RFC 7662 §2.2) is not for this API, as [error, description],
 *  or null if it is. A token that names an audience must name this API; one that names none
 *  (the provider's tokens for its UserInfo endpoint, which the app also calls) is this API's
 *  only if it was issued to an app this API trusts: the app is then the audience. */
export function refusal(info) {
  if (info.active !== true) return ['invalid_token', 'The access token is not active'];
  if (info.iss !== undefined && info.iss !== ISSUER) return ['invalid_token', 'The access token is from another issuer'];
  if (info.token_type !== undefined && info.token_type !== 'Bearer') return ['invalid_token', 'Not a Bearer access token'];
  if (!TRUSTED_CLIENTS.includes(info.client_id)) return ['invalid_token', 'The access token was issued to another app'];
  const audience = [info.aud ?? []].flat();
  if (audience.length && !audience.includes(AUDIENCE)) return ['invalid_token', 'The access token is for another API'];
  if (typeof info.sub !== 'string') return ['invalid_token', 'The access token names no person'];
  if (!String(info.scope ?? '').split(' ').includes(REQUIRED_SCOPE)) return ['insufficient_scope', `The scope ${REQUIRED_SCOPE} is needed`];
  return null;
}

/** RFC 6750 §3: the challenge, with an error when the request carried a token. Its quoted
 *  values may not hold `"` or `\` (§3: %x20-21 / %x23-5B / %x5D-7E), so those are dropped. */
export function challenge(error, description) {
  const quoted = (text) => `"${String(text).replace(/[^\x20-\x21\x23-\x5B\x5D-\x7E]/g, '')}"`;
  const params = [`realm=${quoted(REALM)}`];
  if (error) params.push(`error=${quoted(error)}`, `error_description=${quoted(description)}`);
  if (error === 'insufficient_scope') params.push(`scope="${REQUIRED_SCOPE}"`);
  return `Bearer ${params.join(', ')}`;
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
    ? { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'WWW-Authenticate', vary: 'Origin' }
    : { vary: 'Origin' };

  if (TEST_HOOKS && url.pathname === '/__test/log') return send(res, 200, { requests: log.splice(0) });
  if (TEST_HOOKS && url.pathname === '/__test/reject-next' && req.method === 'POST') {
    rejectNext = true;
    return send(res, 200, {});
  }

  const authorization = req.headers.authorization ?? '';
  const entry = { method: req.method, path: url.pathname, origin: origin ?? null, authorization: authorization !== '', at: Date.now() };
  const token = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(authorization)?.[1];
  if (token) entry.token = createHash('sha256').update(token).digest('base64url').slice(0, 16);
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
      'access-control-allow-headers': 'authorization',
      'access-control-max-age': '600',
    } : {});
    return res.end();
  }
  if (url.pathname !== '/me') return answer(404, { error: 'not_found' });
  if (req.method !== 'GET') return answer(405, { error: 'method_not_allowed' }, { allow: 'GET' });
  if (!token) return answer(401, { error: 'unauthorized' }, { 'www-authenticate': challenge() });
  if (rejectNext) {
    rejectNext = false;
    return answer(401, { error: 'invalid_token' }, { 'www-authenticate': challenge('invalid_token', 'The access token was revoked') });
  }

  let info;
  try {
    info = await introspect(token);
  } catch (error) {
    console.error(`demo API: ${error.message}`);
    return answer(503, { error: 'temporarily_unavailable' }, { 'retry-after': '5' });
  }
  const refused = refusal(info);
  if (refused) {
    const [error, description] = refused;
    return answer(error === 'insufficient_scope' ? 403 : 401, { error }, { 'www-authenticate': challenge(error, description) });
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
