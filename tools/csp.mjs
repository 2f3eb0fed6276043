// Trunk post-build hook (see Trunk.toml), and a helper for tools/serve.mjs.
//
// 1. Replaces Trunk's inline loader with one that fetches the .wasm with subresource
//    integrity (Trunk's loader fetches it without, so only the preload was checked).
// 2. Writes the Content-Security-Policy into index.html's
//    <meta http-equiv="Content-Security-Policy">: the loader is allowed by its SHA-256
//    hash (no 'unsafe-inline'), connect-src / form-action name the provider's origin, and
//    connect-src the API origins (api_origins), all read from config.json. Other origins the provider's endpoints live on (some providers
//    put the token endpoint or JWKS on another host) go in CSP_EXTRA_ORIGINS, space-separated.
//
// Usage: node tools/csp.mjs [dir]   (default: $TRUNK_STAGING_DIR, else dist)
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const META = /(<meta http-equiv="Content-Security-Policy" content=")[^"]*(")/;
const INLINE_SCRIPT = /<script(?: type="module")?>([\s\S]*?)<\/script>/g;

/** The policy, one directive a line. frame-ancestors cannot be set from a meta tag:
 *  hosting sends it as a header (README, "Hosting"). */
export function policy({ scriptHashes, providerOrigins, apiOrigins = [] }) {
  const provider = providerOrigins.join(' ');
  const connect = [...new Set([...providerOrigins, ...apiOrigins])].join(' ');
  return [
    "default-src 'self'",
    // The icon is a data: URI in index.html (no request for it).
    "img-src 'self' data:",
    `script-src 'self' 'wasm-unsafe-eval' ${scriptHashes.map((h) => `'sha256-${h}'`).join(' ')}`,
    `connect-src 'self' ${connect}`,
    // The logout form's POST goes to the provider, which sends the browser back here (a
    // redirect that some browsers check against form-action too).
    `form-action 'self' ${provider}`,
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}

/** The origins the app talks to: the issuer's, plus any listed in CSP_EXTRA_ORIGINS. */
export function providerOrigins(configText, extra = process.env.CSP_EXTRA_ORIGINS ?? '') {
  const config = JSON.parse(configText);
  return [new URL(config.issuer).origin, ...extra.split(/\s+/).filter(Boolean)];
}

/** The API origins the app may send its token to (config.json's api_origins), as browsers
 *  serialize origins; anything the app itself would refuse at start-up is refused here too. */
export function apiOrigins(configText) {
  const { api_origins: origins = [] } = JSON.parse(configText);
  if (!Array.isArray(origins)) throw new Error('csp.mjs: api_origins in config.json must be a list');
  return origins.map((origin) => {
    const url = new URL(String(origin).trim());
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    const secure = url.protocol === 'https:' || (url.protocol === 'http:' && loopback);
    if (!secure || url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
      throw new Error(`csp.mjs: api_origins: ${JSON.stringify(origin)} is not an https origin (or http on localhost)`);
    }
    return url.origin;
  });
}

/** Trunk's loader, rewritten so that the .wasm is fetched with its integrity hash. */
export function loaderWithIntegrity(html) {
  const wasm = html.match(/<link rel="preload" href="([^"]+\.wasm)"[^>]*integrity="([^"]+)"/)
    ?? html.match(/<link rel="preload" href="([^"]+\.wasm)"/);
  const js = html.match(/import init, \* as bindings from '([^']+\.js)';/);
  if (!wasm || !js) throw new Error('csp.mjs: Trunk loader not found in index.html');
  const fetchWasm = wasm[2] ? `fetch('${wasm[1]}',{integrity:'${wasm[2]}'})` : `'${wasm[1]}'`;
  const loader = `import init from '${js[1]}';init({module_or_path:${fetchWasm}});`;
  // Chrome ignores integrity on a fetch preload and warns about it (crbug.com/981419);
  // the loader's fetch above carries it, and still uses the preloaded response.
  html = html.replace(/(<link rel="preload" href="[^"]+\.wasm"[^>]*?) integrity="[^"]*"/, '$1');
  return html.replace(/<script type="module">[\s\S]*?TrunkApplicationStarted[\s\S]*?<\/script>/, `<script type="module">${loader}</script>`);
}

/** Sets the meta tag's policy from the inline scripts the page has and the config. */
export function withPolicy(html, configText) {
  if (!META.test(html)) throw new Error('csp.mjs: no <meta http-equiv="Content-Security-Policy" content=""> in index.html');
  const scriptHashes = [...html.matchAll(INLINE_SCRIPT)].map(([, body]) => createHash('sha256').update(body).digest('base64'));
  const content = policy({ scriptHashes, providerOrigins: providerOrigins(configText), apiOrigins: apiOrigins(configText) });
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
