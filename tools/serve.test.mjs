// tools/serve.mjs as a browser meets it: which encoding it answers with for which
// Accept-Encoding, and that the body decodes to the file. Run with node --test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

const PORT = 8097;
const dist = mkdtempSync(join(tmpdir(), 'serve-test-'));
const page = `<!doctype html><title>t</title>${'<p>a paragraph</p>'.repeat(200)}`;
writeFileSync(join(dist, 'index.html'), page);
writeFileSync(join(dist, 'icon.png'), Buffer.from('89504e470d0a1a0a', 'hex'));
let server;

before(async () => {
  server = spawn(process.execPath, [new URL('./serve.mjs', import.meta.url).pathname, dist, String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => server.stdout.once('data', resolve));
});
after(() => server.kill());

function get(path, acceptEncoding) {
  return new Promise((resolve, reject) => {
    const headers = acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding };
    request({ host: '127.0.0.1', port: PORT, path, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject).end();
  });
}

const decode = { br: brotliDecompressSync, gzip: gunzipSync, undefined: (b) => b };

test('answers brotli before gzip, gzip when brotli is refused, and plain when neither is taken', async () => {
  const cases = [
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['BR;Q=0, GZIP', 'gzip'],
    ['br;q=0.0, gzip;q=0', undefined],
    ['identity', undefined],
    [undefined, undefined],
  ];
  for (const [accept, expected] of cases) {
    const res = await get('/', accept);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], expected, `Accept-Encoding: ${accept}`);
    assert.equal(res.headers.vary, 'Accept-Encoding');
    assert.equal(decode[expected](res.body).toString(), page, `Accept-Encoding: ${accept}`);
  }
});

test('a route of the app is answered with index.html, compressed alike; a PNG is sent as it is', async () => {
  const route = await get('/callback?code=x', 'br');
  assert.equal(route.headers['content-encoding'], 'br');
  assert.equal(brotliDecompressSync(route.body).toString(), page);
  const png = await get('/icon.png', 'gzip, br');
  assert.equal(png.headers['content-encoding'], undefined);
  assert.equal(png.body.toString('hex'), '89504e470d0a1a0a');
  assert.equal((await get('/missing.js', 'br')).status, 404);
});
