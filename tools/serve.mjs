// Serves the release build (dist/) on loopback, as a static host would: files by path,
// and index.html for every other path (the SPA's routes, /callback included), compressed as
// a host with precompressed files does: brotli (quality 11) for a browser that accepts it,
// else gzip (level 9).
// Usage: node tools/serve.mjs [dist-dir] [port]
// APP_CONFIG=FILE serves FILE as /config.json instead, and nothing else changes: the same
// build deployed against another provider by its config alone (the e2e tests' fault
// provider and second provider).
import { createServer } from 'node:http';
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const root = resolve(process.argv[2] ?? 'dist');
const port = Number(process.argv[3] ?? process.env.APP_PORT ?? 8080);
const configOverride = process.env.APP_CONFIG ? await readFile(process.env.APP_CONFIG, 'utf8') : null;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

const [brotliAsync, gzipAsync] = [promisify(brotliCompress), promisify(gzip)];
const ENCODERS = {
  br: (body) => brotliAsync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
  gzip: (body) => gzipAsync(body, { level: 9 }),
};

// A file's bytes as served: config.json is APP_CONFIG's when that is set.
const contents = (path) => (configOverride && path === join(root, 'config.json') ? configOverride : readFile(path));

// Compressed bodies (promises), by encoding, file and version (a rebuild while this runs
// makes new ones); the file is read only when its version is not there yet.
const compressed = new Map();
async function compressedBody(encoding, path) {
  const { mtimeMs, size } = await stat(path);
  const key = `${encoding}:${path}:${mtimeMs}:${size}`;
  if (!compressed.has(key)) {
    // A compression that failed is tried again at the next request, not kept.
    compressed.set(key, Promise.resolve(contents(path)).then(ENCODERS[encoding]).catch((error) => {
      compressed.delete(key);
      throw error;
    }));
  }
  return compressed.get(key);
}
// The encoding to answer with: brotli, else gzip, if Accept-Encoding takes it (not with q=0;
// names and parameters are case-insensitive, RFC 9110 §12.5.3).
const chooseEncoding = (header = '') => {
  const accepted = header.toLowerCase().split(',').map((item) => item.trim().split(';').map((p) => p.trim()))
    .filter(([, ...params]) => !params.some((p) => /^q=0(\.0*)?$/.test(p)))
    .map(([coding]) => coding);
  return ['br', 'gzip'].find((coding) => accepted.includes(coding)) ?? null;
};

async function fileFor(urlPath) {
  const clean = normalize(decodeURIComponent(urlPath)).replace(/^([/\\])+/, '');
  const full = join(root, clean);
  if (full !== root && !full.startsWith(root + sep)) return null;
  try {
    if ((await stat(full)).isFile()) return full;
  } catch { /* not there: fall through */ }
  return null;
}

async function handle(req, res) {
  const url = new URL(req.url, 'http://app.invalid');
  let path = await fileFor(url.pathname).catch(() => null);
  // An asset that is missing is a 404; any other path is a route of the app.
  if (!path && extname(url.pathname) === '') path = join(root, 'index.html');
  if (!path) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  const isHtml = path.endsWith('.html');
  const encoding = extname(path) === '.png' ? null : chooseEncoding(req.headers['accept-encoding']);
  const body = encoding ? await compressedBody(encoding, path) : await contents(path);
  res.writeHead(200, {
    ...(encoding ? { 'content-encoding': encoding } : {}),
    vary: 'Accept-Encoding',
    'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
    // Trunk names assets by content hash, so they can be cached for good; the page cannot.
    'cache-control': isHtml || path.endsWith('config.json') ? 'no-cache' : 'public, max-age=31536000, immutable',
    'referrer-policy': 'no-referrer',
    // The one directive index.html's own policy cannot carry: no framing (clickjacking).
    ...(isHtml ? { 'content-security-policy': "frame-ancestors 'none'" } : {}),
    'x-content-type-options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

// Compressed ahead, before listening, as a deploy step would, so that no visitor waits on
// brotli's highest quality (about a second for the .wasm).
async function precompress() {
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath ?? entry.path, entry.name);
    if (!entry.isFile() || extname(path) === '.png') continue;
    for (const encoding of Object.keys(ENCODERS)) await compressedBody(encoding, path);
  }
}
await precompress().catch((error) => console.error(`precompressing ${root}: ${error.message}`));

const onRequest = (req, res) => handle(req, res).catch(() => res.writeHead(500).end());
// Node refuses request heads over 16 KB (HTTP 431) by default; a larger limit lets a
// hostile 100 KB callback URL reach the app, which must refuse it itself (the e2e tests).
const options = { maxHeaderSize: 256 * 1024 };
// localhost may resolve to ::1 or to 127.0.0.1: answer on both.
createServer(options, onRequest).listen(port, '127.0.0.1', () => {
  console.log(`Serving ${root} at http://localhost:${port}`);
});
createServer(options, onRequest).listen(port, '::1').on('error', () => { /* no IPv6 loopback: fine */ });
