// The CSP hook's policy (node --test; tools/test.sh runs it): it names no provider, so that
// config.json alone re-points a build; it allows this machine's http ports only when
// config.json's provider or an API is local; the loader is allowed by its hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { loaderWithIntegrity, withPolicy } from './csp.mjs';

const page = '<meta name="leptos-oidc:content-security-policy" content=""><script type="module">x</script>';
const policyOf = (config, env = {}) => {
  const html = withPolicy(page, JSON.stringify(config), env);
  return Object.fromEntries(html.match(/content="([^"]*)"/)[1].split('; ').map((d) => [d.split(' ')[0], d]));
};

test('the policy names no provider: any https server, the same for every https config', () => {
  const one = policyOf({ issuer: 'https://id.example/tenant', api_origins: ['https://api.example'] });
  const other = policyOf({ issuer: 'https://login.other.example' });
  assert.deepEqual(one, other);
  assert.equal(one['connect-src'], "connect-src 'self' https:");
  assert.equal(one['form-action'], "form-action 'self' https:");
  assert.ok(!JSON.stringify(one).includes('example'));
});

test("this machine's http ports only for a local provider or API", () => {
  const local = "'self' https: http://localhost:* http://127.0.0.1:*";
  assert.equal(policyOf({ issuer: 'http://127.0.0.1:9000' })['connect-src'], `connect-src ${local}`);
  assert.equal(policyOf({ issuer: 'http://localhost:8000/o' })['form-action'], `form-action ${local}`);
  assert.equal(policyOf({ issuer: 'https://id.example', api_origins: ['http://127.0.0.1:9200'] })['connect-src'], `connect-src ${local}`);
  // Set either way by the build: `make build` (a deployable dist/) never allows them.
  assert.equal(policyOf({ issuer: 'http://127.0.0.1:9000' }, { CSP_LOCAL_PORTS: '0' })['connect-src'], "connect-src 'self' https:");
  assert.equal(policyOf({ issuer: 'https://id.example' }, { CSP_LOCAL_PORTS: '1' })['form-action'], `form-action ${local}`);
  for (const issuer of ['http://id.example', 'https://127.0.0.1:9000', 'not a url']) {
    assert.equal(policyOf({ issuer })['connect-src'], "connect-src 'self' https:", issuer);
  }
});

test('inline scripts run only by their hash, and nothing else is loosened', () => {
  const policy = policyOf({ issuer: 'https://id.example' });
  const hash = createHash('sha256').update('x').digest('base64');
  assert.equal(policy['script-src'], `script-src 'self' 'wasm-unsafe-eval' 'sha256-${hash}'`);
  assert.equal(policy['default-src'], "default-src 'self'");
  assert.ok(!JSON.stringify(policy).includes('unsafe-inline'));
});

test('CSP_ORIGINS pins the origins in place of https:, and a typo stops the build', () => {
  const pinned = policyOf({ issuer: 'https://id.example' }, { CSP_ORIGINS: ' https://id.example https://API.example/ ' });
  assert.equal(pinned['connect-src'], "connect-src 'self' https://id.example https://api.example");
  assert.equal(pinned['form-action'], "form-action 'self' https://id.example https://api.example");
  for (const wrong of ['http://id.example', 'https://id.example/path', 'id.example']) {
    assert.throws(() => policyOf({ issuer: 'https://id.example' }, { CSP_ORIGINS: wrong }), /CSP_ORIGINS|Invalid URL/, wrong);
  }
});

test('the policy goes into the named tag for the app to enforce, never into an http-equiv tag', () => {
  const html = '<meta name="viewport" content="width=device-width"><meta name="leptos-oidc:content-security-policy" content="">'
    + '<meta name="referrer" content="no-referrer"><script type="module">x</script>';
  const out = withPolicy(html, JSON.stringify({ issuer: 'https://id.example' }), {});
  assert.match(out, /<meta name="leptos-oidc:content-security-policy" content="default-src 'self'; [^"]+">/);
  assert.ok(out.startsWith('<meta name="viewport" content="width=device-width">'), out);
  assert.ok(out.includes('<meta name="referrer" content="no-referrer">'), out);
  assert.ok(!out.includes('http-equiv'), out);
  // An index.html with the old http-equiv tag stops the build instead of shipping it empty.
  assert.throws(() => withPolicy('<meta http-equiv="Content-Security-Policy" content="">', '{}', {}), /leptos-oidc:content-security-policy/);
});

test('the loader fetches the .wasm by its integrity hash and marks a page whose app did not start', () => {
  // Trunk 0.21's page: the stylesheet and the JS module with their hashes, the preload that
  // names the .wasm and its hash, another module script, and the loader.
  const assets = '<link rel="stylesheet" href="/m-1.css" integrity="sha384-css"/>'
    + '<link rel="modulepreload" href="/x-1.js" crossorigin="anonymous" integrity="sha384-js">';
  const other = '<script type="module">other()</script>';
  const loader = '<script type="module">import init, * as bindings from \'/x-1.js\';const wasm = await init({ module_or_path: \'/x-1_bg.wasm\' });'
    + 'window.wasmBindings = bindings;dispatchEvent(new CustomEvent("TrunkApplicationStarted", {detail: {wasm}}));</script>';
  const preload = (integrity) => `<link rel="preload" href="/x-1_bg.wasm" crossorigin="anonymous"${integrity} as="fetch" type="application/wasm">`;
  const page = loaderWithIntegrity(assets + preload(' integrity="sha384-wasm"') + other + loader);
  const written = "import('/x-1.js').then((m)=>m.default({module_or_path:fetch('/x-1_bg.wasm',{integrity:'sha384-wasm'})}))"
    + ".catch(()=>document.documentElement.classList.add('app-failed'));";
  // Chrome ignores integrity on a fetch preload (and warns): it is left off that preload
  // only; the loader's fetch carries it. Every other tag stays as it was.
  assert.equal(page, assets + preload('') + other + `<script type="module">${written}</script>`);
  // A preload without a hash: the loader fetches the .wasm by its URL.
  const unhashed = loaderWithIntegrity(preload('') + loader);
  assert.ok(unhashed.endsWith("<script type=\"module\">import('/x-1.js').then((m)=>m.default({module_or_path:'/x-1_bg.wasm'}))"
    + ".catch(()=>document.documentElement.classList.add('app-failed'));</script>"), unhashed);
  assert.throws(() => loaderWithIntegrity(other), /Trunk loader not found/);
});
