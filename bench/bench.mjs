// Measures the apps side by side in headless Chromium against the local provider (which
// signs alice in and consents at once): first-load bytes, and medians of load, sign-in and
// callback times, interleaved run by run, each run in fresh browser contexts (cold cache).
//
// Usage: node bench/bench.mjs <runs> <out.json> name=url=distDir ...
// The first app is "ours", the second the baseline the ratios compare against; an app whose
// url is "-" is counted for its bytes only. Called by bench/run.sh, which builds and serves
// the apps and starts the provider.
import { readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { chromium } from 'playwright-core';

const [runsArg, outPath, ...appArgs] = process.argv.slice(2);
const RUNS = Number(runsArg);
const PROVIDER = process.env.PROVIDER_URL ?? 'http://127.0.0.1:9000';
const PERSON = 'Alice Liddell';
const apps = appArgs.map((arg) => {
  const [name, url, dist] = arg.split('=');
  return { name, url, dist };
});

// Everything in dist/ is fetched by the first load (index.html, its JS, wasm, CSS, config).
function bytes(dist) {
  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(dist);
  const sum = { raw: 0, gzip: 0, brotli: 0, files: {} };
  for (const path of files) {
    const data = readFileSync(path);
    const entry = {
      raw: data.length,
      gzip: gzipSync(data, { level: 9 }).length,
      brotli: brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    };
    sum.files[path.slice(dist.length + 1)] = entry;
    sum.raw += entry.raw;
    sum.gzip += entry.gzip;
    sum.brotli += entry.brotli;
  }
  return sum;
}

// Runs in every document before the app: notes when "Sign in" and the person's name first
// appear (performance.now(): ms since this document's navigation start; Date.now(): wall clock).
const INSTRUMENT = `(() => {
  const marks = (window.__bench = {});
  const mark = (name) => { if (!marks[name]) marks[name] = { now: performance.now(), epoch: Date.now() }; };
  const check = () => {
    if (!document.body) return;
    for (const b of document.querySelectorAll('button')) {
      if (b.textContent.trim() === 'Sign in' && b.offsetParent !== null && !b.disabled) { mark('signIn'); break; }
    }
    if (document.body.textContent.includes(${JSON.stringify(PERSON)})) mark('person');
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
})();`;

async function waitForMark(page, name) {
  await page.waitForFunction((n) => window.__bench && window.__bench[n], name, { timeout: 20000 });
  return page.evaluate((n) => window.__bench[n], name);
}

// The wall-clock time the person appeared in a document that started at or after `since`,
// polling through navigations (a document that goes away mid-check is skipped). An app that
// comes back signed out (the baseline keeps its tokens in memory and has no silent restore)
// gets its "Sign in" clicked at once, as the least a person would have to do.
async function waitForPersonSince(page, since) {
  let clicked = false;
  for (let i = 0; i < 2000; i++) {
    const marks = await page.evaluate(() => window.__bench).catch(() => undefined);
    if (marks?.person && marks.person.epoch >= since) return { at: marks.person.epoch, clicked };
    if (!clicked && marks?.signIn && marks.signIn.epoch >= since && !marks.person) {
      clicked = await clickSignIn(page).then(() => true).catch(() => false);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the person never appeared after the reload, at ${page.url()}`);
}

async function providerCounts() {
  return (await fetch(`${PROVIDER}/__bench/counts`)).json();
}

async function newContext(browser) {
  const context = await browser.newContext();
  await context.addInitScript(INSTRUMENT);
  return context;
}

// Clicks the visible "Sign in" button, in the page, and returns the click's wall-clock time.
function clickSignIn(page) {
  return page.evaluate(() => {
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Sign in' && b.offsetParent !== null);
    const at = Date.now();
    button.click();
    return at;
  });
}

async function measureOnce(browser, app) {
  // Load and sign-in: a fresh context, the whole flow as a person goes through it.
  const first = await newContext(browser);
  const page = await first.newPage();
  await page.goto(`${app.url}/`);
  const load = (await waitForMark(page, 'signIn')).now;
  const clickedAt = await clickSignIn(page);
  await page.waitForURL(`${app.url}/**`, { timeout: 20000 });
  const signIn = (await waitForMark(page, 'person')).epoch - clickedAt;
  // Reload: from the reload to the person on the page again, whatever documents it goes
  // through (ours: a silent sign-in through the provider, as no token is stored; the
  // baseline: its tokens from sessionStorage), and the requests it makes.
  const reloadRequests = [];
  page.on('request', (r) => reloadRequests.push(`${r.method()} ${r.url().split('?')[0]}`));
  const reloadAt = Date.now();
  await page.reload({ waitUntil: 'commit' });
  const reloaded = await waitForPersonSince(page, reloadAt);
  const reload = reloaded.at - reloadAt;
  const reloadClicked = reloaded.clicked;
  await first.close();

  // Callback: a fresh context; the provider's redirect back is held, then opened as a
  // navigation of its own, so that its time starts at the callback's navigation start.
  const second = await newContext(browser);
  const tab = await second.newPage();
  // Held at the network layer (CDP Fetch): the callback is the end of a redirect chain,
  // which page.route() does not see.
  const cdp = await second.newCDPSession(tab);
  let callbackUrl;
  cdp.on('Fetch.requestPaused', (event) => {
    callbackUrl = event.request.url;
    cdp.send('Fetch.failRequest', { requestId: event.requestId, errorReason: 'Aborted' }).catch(() => {});
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${app.url}/callback?*`, requestStage: 'Request' }] });
  await tab.goto(`${app.url}/`);
  await waitForMark(tab, 'signIn');
  await clickSignIn(tab);
  for (let i = 0; i < 400 && !callbackUrl; i++) await new Promise((r) => setTimeout(r, 10));
  if (!callbackUrl) throw new Error(`${app.name}: the provider never redirected back`);
  await cdp.send('Fetch.disable');
  const requestList = [];
  tab.on('request', (r) => requestList.push(`${r.method()} ${r.url().split('?')[0]}`));
  await providerCounts(); // resets the provider's counters
  await tab.goto(callbackUrl);
  const callback = (await waitForMark(tab, 'person')).now;
  const atProvider = await providerCounts();
  await second.close();
  return { load, signIn, reload, reloadClicked, reloadRequests: reloadRequests.length, reloadRequestList: reloadRequests, callback, requests: requestList.length, requestList, preflights: atProvider.OPTIONS ?? 0, providerRequests: atProvider };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const timed = apps.filter((a) => a.url !== '-');
const samples = Object.fromEntries(timed.map((a) => [a.name, []]));
try {
  // One warm-up round each (JIT, server caches), not counted.
  for (const app of timed) await measureOnce(browser, app);
  for (let run = 0; run < RUNS; run++) {
    // Interleaved, and the order alternates so neither app always goes first.
    const order = run % 2 ? [...timed].reverse() : timed;
    for (const app of order) samples[app.name].push(await measureOnce(browser, app));
  }
} finally {
  await browser.close();
}

const results = { runs: RUNS, date: new Date().toISOString(), apps: {} };
for (const app of apps) {
  const entry = (results.apps[app.name] = { bytes: bytes(app.dist) });
  const s = samples[app.name];
  if (!s) continue;
  Object.assign(entry, {
    median_ms: {
      load: median(s.map((x) => x.load)),
      sign_in: median(s.map((x) => x.signIn)),
      reload: median(s.map((x) => x.reload)),
      callback: median(s.map((x) => x.callback)),
    },
    reload_requests: median(s.map((x) => x.reloadRequests)),
    reload_needed_a_click: s.some((x) => x.reloadClicked),
    reload_request_list: s[s.length - 1].reloadRequestList,
    callback_requests: median(s.map((x) => x.requests)),
    callback_preflights: median(s.map((x) => x.preflights)),
    callback_provider_requests: s[s.length - 1].providerRequests,
    callback_request_list: s[s.length - 1].requestList,
    samples: s.map(({ providerRequests, requestList, ...rest }) => rest),
  });
}
const [ours, base, reference] = apps.map((a) => results.apps[a.name]);
if (reference) results.auth_adds_gzip = ours.bytes.gzip - reference.bytes.gzip;
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, JSON.stringify(results, null, 2));

const kb = (n) => (n / 1000).toFixed(1);
const rows = [
  ['first load, raw KB', (r) => r.bytes.raw, kb],
  ['first load, gzip KB', (r) => r.bytes.gzip, kb],
  ['first load, brotli KB', (r) => r.bytes.brotli, kb],
  ['load ms', (r) => r.median_ms?.load],
  ['sign-in ms', (r) => r.median_ms?.sign_in],
  ['reload to person ms', (r) => r.median_ms?.reload],
  ['reload requests', (r) => r.reload_requests],
  ['reload needed a click', (r) => (r.reload_needed_a_click ? 'yes' : 'no'), (v) => v],
  ['callback ms', (r) => r.median_ms?.callback],
  ['callback requests', (r) => r.callback_requests],
  ['callback preflights', (r) => r.callback_preflights],
];
const names = apps.map((a) => a.name);
const cell = (c, i) => String(c ?? '').padEnd(i === 0 ? 24 : 14);
console.log(`\n${RUNS} runs each, interleaved, fresh browser context per run; times are medians.\n`);
console.log(['', ...names, `${names[0]}/${names[1]}`].map(cell).join(''));
for (const [label, get, show = (v) => (Number.isInteger(v) ? v : v?.toFixed(1))] of rows) {
  const values = apps.map((a) => get(results.apps[a.name]));
  const numeric = typeof get(ours) === 'number' && typeof get(base) === 'number';
  const ratio = numeric && get(base) ? (get(ours) / get(base)).toFixed(2) : '';
  console.log([label, ...values.map((v) => (v == null ? '' : show(v))), ratio].map(cell).join(''));
}
if (reference) console.log(`\nwhat the auth module adds (${names[0]} - ${names[2]}), gzip: ${kb(results.auth_adds_gzip)} KB`);
console.log(`JSON: ${outPath}`);
