// Trunk post-build hook (see Trunk.toml), and a helper for tools/serve.mjs.
//
// 1. Replaces Trunk's inline loader with one that fetches the .wasm with subresource
//    integrity (Trunk's loader fetches it without, so only the preload was checked).
// 2. Writes the page's Content-Security-Policy into index.html's
//    <meta name="leptos-oidc:content-security-policy">, which the app enforces as it starts
//    (a <meta http-equiv> tag would make Chromium hold back the page's preloads until its
//    parser reached it). The loader is allowed by its SHA-256 hash (no 'unsafe-inline'), so
//    that a host can send the same policy as a header. The policy names no provider: a built dist/ is pointed at
//    another provider by editing config.json alone. connect-src and form-action allow any
//    https origin while nobody is signed in; before the first token is asked for, the app
//    adds a second policy naming exactly its provider's and APIs' origins
//    (auth/src/oauth/csp.rs), and a page enforces both.
//
// Environment:
//   CSP_LOCAL_PORTS=1|0  allow this machine's http ports too (http://localhost:*,
//                        http://127.0.0.1:*), for a local provider or API; unset: when the
//                        build's config.json names one. `make build` sets 0.
//   CSP_ORIGINS="https://id.example https://api.example"  name these origins instead of
//                        https: (pinned from the first byte; re-pointing then needs a rebuild).
//
// Usage: node tools/csp.mjs [dir]   (default: $TRUNK_STAGING_DIR, else dist)
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const META = /(<meta name="leptos-oidc:content-security-policy" content=")[^"]*(")/;
const INLINE_SCRIPT = /<script(?: type="module")?>([\s\S]*?)<\/script>/g;
// CSP host sources cannot name an IPv6 address, so [::1] is not among them.
const LOOPBACK = ['http://localhost:*', 'http://127.0.0.1:*'];

/** The policy, one directive a line. frame-ancestors cannot be set from a meta tag:
 *  hosting sends it as a header (README, "Hosting"). */
export function policy({ scriptHashes, loopback = false, origins = [] }) {
  const servers = [...(origins.length ? origins : ['https:']), ...(loopback ? LOOPBACK : [])].join(' ');
  return [
    "default-src 'self'",
    // The icon is a data: URI in index.html (no request for it).
    "img-src 'self' data:",
    `script-src 'self' 'wasm-unsafe-eval' ${scriptHashes.map((h) => `'sha256-${h}'`).join(' ')}`,
    `connect-src 'self' ${servers}`,
    // The logout form's POST goes to the provider, which sends the browser back here (a
    // redirect that some browsers check against form-action too).
    `form-action 'self' ${servers}`,
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** Whether config.json names a provider or an API on this machine over plain http (local
 *  development and the tests): the page may then reach this machine's http ports. */
export function usesLoopback(configText) {
  const { issuer = '', api_origins: apis = [] } = JSON.parse(configText);
  return [issuer, ...(Array.isArray(apis) ? apis : [])].some((url) => {
    try {
      const { protocol, hostname } = new URL(String(url).trim());
      return protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(hostname);
    } catch {
      return false;
    }
  });
}

/** Trunk's loader, rewritten so that the .wasm is fetched with its integrity hash, and so
 *  that an app that cannot start (its files not loaded, WebAssembly refused) marks the page:
 *  the shell in index.html then says what to do at once. */
export function loaderWithIntegrity(html) {
  const wasm = html.match(/<link rel="preload" href="([^"]+\.wasm)"[^>]*integrity="([^"]+)"/)
    ?? html.match(/<link rel="preload" href="([^"]+\.wasm)"/);
  const js = html.match(/import init, \* as bindings from '([^']+\.js)';/);
  if (!wasm || !js) throw new Error('csp.mjs: Trunk loader not found in index.html');
  const fetchWasm = wasm[2] ? `fetch('${wasm[1]}',{integrity:'${wasm[2]}'})` : `'${wasm[1]}'`;
  const failed = `()=>document.documentElement.classList.add('app-failed')`;
  const loader = `import('${js[1]}').then((m)=>m.default({module_or_path:${fetchWasm}})).catch(${failed});`;
  // Chrome ignores integrity on a fetch preload and warns about it (crbug.com/981419);
  // the loader's fetch above carries it, and still uses the preloaded response.
  html = html.replace(/(<link rel="preload" href="[^"]+\.wasm"[^>]*?) integrity="[^"]*"/, '$1');
  // The one script that holds Trunk's loader: no `</script>` between its tag and the marker,
  // so that a module script of the page's own before it is kept.
  const trunkLoader = /<script type="module">(?:(?!<\/script>)[\s\S])*?TrunkApplicationStarted[\s\S]*?<\/script>/;
  return html.replace(trunkLoader, `<script type="module">${loader}</script>`);
}

/** CSP_ORIGINS, each checked to be an https origin (a typo must stop the build, not
 *  silently block the provider). */
export function pinnedOrigins(text = '') {
  return text.split(/\s+/).filter(Boolean).map((origin) => {
    const url = new URL(origin);
    if (url.protocol !== 'https:' || url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
      throw new Error(`csp.mjs: CSP_ORIGINS: ${JSON.stringify(origin)} is not an https origin`);
    }
    return url.origin;
  });
}

/** Sets the meta tag's policy from the inline scripts the page has, the config and `env`. */
export function withPolicy(html, configText, env = process.env) {
  if (!META.test(html)) throw new Error('csp.mjs: no <meta name="leptos-oidc:content-security-policy" content=""> in index.html');
  const scriptHashes = [...html.matchAll(INLINE_SCRIPT)].map(([, body]) => createHash('sha256').update(body).digest('base64'));
  const local = env.CSP_LOCAL_PORTS;
  const loopback = local === undefined || local === '' ? usesLoopback(configText) : local === '1';
  const content = policy({ scriptHashes, loopback, origins: pinnedOrigins(env.CSP_ORIGINS) });
  return html.replace(META, `$1${content}$2`);
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR ?? 'dist';
  const page = join(dir, 'index.html');
  let html = readFileSync(page, 'utf8');
  if (html.includes('TrunkApplicationStarted')) html = loaderWithIntegrity(html);
  html = withPolicy(html, readFileSync(join(dir, 'config.json'), 'utf8'));
  writeFileSync(page, html);
}
