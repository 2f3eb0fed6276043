// The local OpenID provider: oidc-provider (OpenID Certified), configured for one public
// single-page-app client. Development and tests only: in-memory storage, dev signing keys,
// dev login pages. Listens on loopback only.
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const PORT = Number(process.env.PROVIDER_PORT ?? 9000);
const ISSUER = process.env.PROVIDER_ISSUER ?? `http://127.0.0.1:${PORT}`;
// The SPA's origins (exact): localhost and 127.0.0.1 are different sites to a browser.
const APP_ORIGINS = (process.env.APP_ORIGINS ?? 'http://localhost:8080,http://127.0.0.1:8080').split(',');

// The demo people. The dev login page accepts any password; the middleware below checks these.
const USERS = {
  alice: { password: 'wonderland', name: 'Alice Liddell', given_name: 'Alice', family_name: 'Liddell', email: 'alice@example.test' },
  bob: { password: 'builder', name: 'Bob Builder', given_name: 'Bob', family_name: 'Builder', email: 'bob@example.test' },
};

// Benchmark mode (bench/run.sh): sign this person in and consent at once, with no pages,
// and count requests by method so that CORS preflights can be measured.
const AUTO_LOGIN = process.env.PROVIDER_AUTO_LOGIN;
// The React + oidc-client-ts baseline of the benchmark, when it is served.
const BASELINE_ORIGINS = (process.env.BASELINE_ORIGINS ?? '').split(',').filter(Boolean);

const spaClient = (client_id, origins) => ({
  client_id,
  application_type: 'web',
  // A public client: no secret (RFC 6749 §2.1); PKCE protects its code.
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: origins.map((origin) => `${origin}/callback`),
  post_logout_redirect_uris: origins.map((origin) => `${origin}/`),
});

const configuration = {
  clients: [
    // RFC 9126: this app's authorization requests must be pushed (the browser then carries
    // only a reference); oidc-provider 9 offers the endpoint by default. RFC 9449 §5.2: its
    // access tokens must be DPoP-bound. PROVIDER_REQUIRE_PAR=0 and PROVIDER_REQUIRE_DPOP=0 let
    // the benchmark measure the same app without them (PROVIDER_DPOP=0: no DPoP at all).
    {
      ...spaClient('leptos-spa', APP_ORIGINS),
      client_name: 'Leptos OIDC demo',
      require_pushed_authorization_requests: process.env.PROVIDER_REQUIRE_PAR !== '0',
      dpop_bound_access_tokens: process.env.PROVIDER_DPOP !== '0' && process.env.PROVIDER_REQUIRE_DPOP !== '0',
    },
    ...(BASELINE_ORIGINS.length ? [{ ...spaClient('react-baseline', BASELINE_ORIGINS), client_name: 'React baseline' }] : []),
    // The demo API (api/server.mjs): a confidential client that only introspects tokens.
    {
      client_id: 'demo-api',
      client_secret: process.env.API_CLIENT_SECRET ?? 'demo-api-secret-not-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  pkce: { required: () => true },
  clientBasedCORS(ctx, origin, client) {
    const allowed = client.clientId === 'react-baseline' ? BASELINE_ORIGINS : APP_ORIGINS;
    return allowed.includes(origin);
  },
  features: {
    devInteractions: { enabled: true },
    revocation: { enabled: true },
    // RFC 7662, for the demo API; only it may ask, about any access token.
    introspection: {
      enabled: true,
      allowedPolicy: (ctx, client) => client.clientId === 'demo-api',
    },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    // RFC 9449, with a nonce (§8) required in every proof: the first token request of a page
    // is answered `use_dpop_nonce`. PROVIDER_DPOP_NONCE=0 takes proofs without one.
    dPoP: {
      enabled: process.env.PROVIDER_DPOP !== '0',
      nonceSecret: randomBytes(32),
      requireNonce: () => process.env.PROVIDER_DPOP_NONCE !== '0',
    },
  },
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    email: ['email', 'email_verified'],
  },
  async findAccount(ctx, sub) {
    const user = USERS[sub];
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        const { password, ...profile } = user;
        return { sub, preferred_username: sub, email_verified: true, ...profile };
      },
    };
  },
  // Refresh tokens for the public web client, rotated on every use (RFC 9700 §4.14.2).
  async issueRefreshToken(ctx, client) {
    return client.grantTypeAllowed('refresh_token');
  },
  rotateRefreshToken: () => true,
  ttl: {
    // The tests shorten it (PROVIDER_ACCESS_TOKEN_TTL) to see the app renew tokens.
    AccessToken: Number(process.env.PROVIDER_ACCESS_TOKEN_TTL ?? 600),
    AuthorizationCode: 60,
    IdToken: 600,
    RefreshToken: 86400,
    Interaction: 600,
    Session: 86400,
    Grant: 86400,
  },
  cookies: { keys: ['local-provider-cookie-key-not-secret'] },
};

const provider = new Provider(ISSUER, configuration);

// Checks the demo passwords on the dev login form (POST /interaction/:uid, prompt=login).
// It reads the form itself and hands it on parsed, which oidc-provider accepts.
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && /^\/interaction\/[^/]+$/.test(ctx.path) && ctx.is('application/x-www-form-urlencoded')) {
    const chunks = [];
    let size = 0;
    for await (const chunk of ctx.req) {
      size += chunk.length;
      if (size > 16 * 1024) ctx.throw(413);
      chunks.push(chunk);
    }
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    if (form.prompt === 'login' && USERS[form.login]?.password !== form.password) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = `<!doctype html><title>Sign-in</title><p>Wrong login or password.</p><p><a href="${ctx.path}">Try again</a></p>`;
      return;
    }
    ctx.req.body = form;
  }
  await next();
});

if (AUTO_LOGIN) {
  const counts = {};
  provider.use(async (ctx, next) => {
    if (ctx.path === '/__bench/counts') {
      ctx.body = { ...counts };
      for (const key of Object.keys(counts)) delete counts[key];
      return;
    }
    counts[ctx.method] = (counts[ctx.method] ?? 0) + 1;
    counts[`${ctx.method} ${ctx.path}`] = (counts[`${ctx.method} ${ctx.path}`] ?? 0) + 1;
    if (ctx.method === 'GET' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
      const { prompt, params, session } = await provider.interactionDetails(ctx.req, ctx.res);
      if (prompt.name === 'login') {
        await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: AUTO_LOGIN } }, { mergeWithLastSubmission: false });
        return;
      }
      if (prompt.name === 'consent') {
        const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
        if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
        if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
        const result = { consent: { grantId: await grant.save() } };
        await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
        return;
      }
    }
    await next();
  });
}

// Test mode (tools/test.sh): logs every request to the token endpoint (its grant type, the
// refresh token it presented, the refresh token it was given) and keeps every code,
// verifier and token that crosses it, so that the end-to-end tests can assert how many
// token requests were made, when, that refresh tokens rotate, and search the browser for those
// secrets, and the tokens revoked (RFC 7009); every authorization request with its
// prompt; and every DPoP proof (RFC 9449) it was sent, decoded, with the path and status.
// GET /__test/token-log answers { requests, exchanges, revoked, secrets, authorizations,
// pushed, proofs, preflights } and starts a new log: `preflights` the path of each CORS
// preflight (OPTIONS) request.
if (process.env.PROVIDER_TEST_HOOKS === '1') {
  const fresh = () => ({ requests: 0, exchanges: [], revoked: [], secrets: [], authorizations: [], pushed: [], proofs: [], preflights: [] });
  const decode = (part) => {
    try {
      return JSON.parse(Buffer.from(part ?? '', 'base64url').toString());
    } catch {
      return null;
    }
  };
  let log = fresh();
  // Why a token request was refused, which the answer keeps to itself (`error_detail`).
  let grantError = null;
  provider.on('grant.error', (ctx, error) => {
    grantError = error.error_detail ?? error.error_description ?? null;
  });
  provider.use(async (ctx, next) => {
    grantError = null;
    if (ctx.path === '/__test/token-log') {
      ctx.body = log;
      log = fresh();
      return;
    }
    await next();
    if (ctx.method === 'OPTIONS') log.preflights.push(ctx.path);
    const proof = ctx.get('DPoP');
    if (proof) {
      const [header, claims] = proof.split('.').map(decode);
      log.proofs.push({
        method: ctx.method, path: ctx.path, status: ctx.status, grant_type: ctx.oidc?.params?.grant_type ?? null,
        authorization_scheme: ctx.get('Authorization').split(' ')[0] || null, header, claims,
      });
    }
    // Every authorization request, with its prompt (`none` for a silent session restore),
    // pushed or not, and the names of the parameters its URL carried.
    if (ctx.method === 'GET' && ctx.path === '/auth') {
      log.authorizations.push({ prompt: ctx.oidc?.params?.prompt ?? ctx.query.prompt ?? null, url_parameters: Object.keys(ctx.query).sort() });
    }
    // Every pushed authorization request (RFC 9126): its answer's status and the names of
    // the parameters it pushed.
    if (ctx.method === 'POST' && ctx.path === '/request') {
      const params = ctx.oidc?.params ?? {};
      log.pushed.push({ status: ctx.status, parameters: Object.keys(params).filter((name) => params[name] !== undefined).sort() });
    }
    if (ctx.method === 'POST' && ctx.path === '/token/revocation') {
      const token = ctx.oidc?.params?.token;
      if (typeof token === 'string') log.revoked.push({ token, status: ctx.status });
    }
    if (ctx.method === 'POST' && ctx.path === '/token') {
      log.requests += 1;
      const params = ctx.oidc?.params ?? {};
      const body = typeof ctx.body === 'object' && ctx.body ? ctx.body : {};
      log.exchanges.push({
        grant_type: params.grant_type ?? null,
        presented: params.refresh_token ?? null,
        issued: body.refresh_token ?? null,
        access_token: body.access_token ?? null,
        token_type: body.token_type ?? null,
        error: body.error ?? null,
        error_detail: grantError,
        status: ctx.status,
        at: Date.now(),
      });
      for (const value of [params.code, params.code_verifier, params.refresh_token, body.access_token, body.refresh_token, body.id_token]) {
        if (typeof value === 'string' && value) log.secrets.push(value);
      }
    }
  });
}

const server = provider.listen(PORT, '127.0.0.1', () => {
  console.log(`OpenID provider at ${ISSUER} (demo logins: alice / wonderland, bob / builder)`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
