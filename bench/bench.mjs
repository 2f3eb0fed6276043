// Measures the apps side by side in headless Chromium against the local provider (which
// signs alice in and consents at once): first-load bytes, and medians of first contentful paint, load, sign-in,
// reload and callback times, interleaved run by run, each run in fresh browser contexts
// (cold cache), on two profiles: "plain" (this machine, loopback) and "mobile" (a mid-range
// phone on a mobile network, through the DevTools protocol: 150 ms latency, 1.6 Mbit/s down,
// 750 kbit/s up, the CPU 4x slower; the apps' files are served compressed either way: brotli, as tools/serve.mjs does).
//
// Usage: node bench/bench.mjs <runs> <out.json> name=url=distDir ...
// The first app is "ours", the second the baseline the ratios compare against; an app whose
// url is "-" is counted for its bytes only. Called by bench/run.sh, which builds and serves
// the apps and starts the provider.
import { readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import {
  PROFILES, launch, newContext, newPage, waitForMark, waitForPersonSince, clickSignIn, holdCallback,
  firstContentfulPaint, providerCounts, median, quantile,
} from './browser.mjs';

const [runsArg, outPath, ...appArgs] = process.argv.slice(2);
const RUNS = Number(runsArg);
const PROFILE_NAMES = (process.env.BENCH_PROFILES ?? 'plain,mobile').split(',');
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

async function measureOnce(browser, app, profile) {
  // Load and sign-in: a fresh context, the whole flow as a person goes through it.
  const first = await newContext(browser);
  const { page } = await newPage(first, profile);
  await page.goto(`${app.url}/`);
  const load = (await waitForMark(page, 'signIn')).now;
  const paint = await firstContentfulPaint(page);
  // A returning person: the same page again, its hashed assets from the browser's cache
  // (index.html and config.json are revalidated: no-cache).
  await page.goto(`${app.url}/`);
  const warmLoad = (await waitForMark(page, 'signIn')).now;
  const warmPaint = await firstContentfulPaint(page);
  const clickedAt = await clickSignIn(page);
  await page.waitForURL(`${app.url}/**`, { timeout: 60000 });
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
  const { page: tab, cdp } = await newPage(second, profile);
  await tab.goto(`${app.url}/`);
  const callbackUrl = await holdCallback(tab, cdp, app.url);
  const requestList = [];
  tab.on('request', (r) => requestList.push(`${r.method()} ${r.url().split('?')[0]}`));
  await providerCounts(); // resets the provider's counters
  await tab.goto(callbackUrl);
  const callback = (await waitForMark(tab, 'person')).now;
  const atProvider = await providerCounts();
  await second.close();
  return { load, paint, warmLoad, warmPaint, signIn, reload, reloadClicked, reloadRequests: reloadRequests.length, reloadRequestList: reloadRequests, callback, requests: requestList.length, requestList, preflights: atProvider.OPTIONS ?? 0, providerRequests: atProvider };
}

const spread = (xs) => ({ median: median(xs), q1: quantile(xs, 0.25), q3: quantile(xs, 0.75) });

const browser = await launch();
const timed = apps.filter((a) => a.url !== '-');
// samples[profile][app]: one entry per run.
const samples = Object.fromEntries(PROFILE_NAMES.map((p) => [p, Object.fromEntries(timed.map((a) => [a.name, []]))]));
try {
  for (const profileName of PROFILE_NAMES) {
    const profile = PROFILES[profileName];
    // One warm-up round each (JIT, server caches), not counted.
    for (const app of timed) await measureOnce(browser, app, profile);
    for (let run = 0; run < RUNS; run++) {
      // Interleaved, and the order alternates so neither app always goes first.
      const order = run % 2 ? [...timed].reverse() : timed;
      for (const app of order) samples[profileName][app.name].push(await measureOnce(browser, app, profile));
    }
  }
} finally {
  await browser.close();
}

const results = { runs: RUNS, date: new Date().toISOString(), profiles: PROFILES, apps: {} };
for (const app of apps) {
  const entry = (results.apps[app.name] = { bytes: bytes(app.dist), profiles: {} });
  for (const profileName of PROFILE_NAMES) {
    const s = samples[profileName][app.name];
    if (!s) continue;
    entry.profiles[profileName] = {
      ms: {
        load: spread(s.map((x) => x.load)),
        first_contentful_paint: spread(s.map((x) => x.paint).filter((t) => t !== null)),
        warm_load: spread(s.map((x) => x.warmLoad)),
        warm_first_contentful_paint: spread(s.map((x) => x.warmPaint).filter((t) => t !== null)),
        sign_in: spread(s.map((x) => x.signIn)),
        reload: spread(s.map((x) => x.reload)),
        callback: spread(s.map((x) => x.callback)),
      },
      reload_requests: median(s.map((x) => x.reloadRequests)),
      reload_needed_a_click: s.some((x) => x.reloadClicked),
      reload_request_list: s[s.length - 1].reloadRequestList,
      callback_requests: median(s.map((x) => x.requests)),
      callback_preflights: median(s.map((x) => x.preflights)),
      callback_provider_requests: s[s.length - 1].providerRequests,
      callback_request_list: s[s.length - 1].requestList,
      samples: s.map(({ providerRequests, requestList, reloadRequestList, ...rest }) => rest),
    };
  }
}
const [ours, base, reference] = apps.map((a) => results.apps[a.name]);
if (reference) results.auth_adds_gzip = ours.bytes.gzip - reference.bytes.gzip;
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, JSON.stringify(results, null, 2));

const kb = (n) => (n / 1000).toFixed(1);
const names = apps.map((a) => a.name);
const cell = (c, i) => String(c ?? '').padEnd(i === 0 ? 38 : 22);
const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b ? (a / b).toFixed(2) : '');
console.log(`\n${RUNS} runs each per profile, interleaved, fresh browser context per run; times are medians (interquartile range).\n`);
console.log(['', ...names, `${names[0]}/${names[1]}`].map(cell).join(''));
for (const [label, get] of [['first load, raw KB', (r) => r.bytes.raw], ['first load, gzip KB', (r) => r.bytes.gzip], ['first load, brotli KB', (r) => r.bytes.brotli]]) {
  console.log([label, ...apps.map((a) => kb(get(results.apps[a.name]))), ratio(get(ours), get(base))].map(cell).join(''));
}
for (const profileName of PROFILE_NAMES) {
  const of = (r) => r.profiles[profileName];
  const timing = (key) => (r) => of(r)?.ms[key];
  const show = (t) => (t ? `${Math.round(t.median)} (${Math.round(t.q1)}-${Math.round(t.q3)})` : '');
  for (const [label, get, fmt = (v) => v] of [
    ['first contentful paint ms', timing('first_contentful_paint'), show],
    ['load ms', timing('load'), show],
    ['repeat visit: first contentful paint ms', timing('warm_first_contentful_paint'), show],
    ['repeat visit (warm cache) ms', timing('warm_load'), show],
    ['sign-in ms', timing('sign_in'), show],
    ['reload to person ms', timing('reload'), show],
    ['reload requests', (r) => of(r)?.reload_requests],
    ['reload needed a click', (r) => (of(r) ? (of(r).reload_needed_a_click ? 'yes' : 'no') : undefined)],
    ['callback ms', timing('callback'), show],
    ['callback requests', (r) => of(r)?.callback_requests],
    ['callback preflights', (r) => of(r)?.callback_preflights],
  ]) {
    const values = apps.map((a) => get(results.apps[a.name]));
    const [a, b] = [get(ours), get(base)];
    const r = a && typeof a === 'object' ? ratio(a.median, b?.median) : ratio(a, b);
    console.log([`${profileName}: ${label}`, ...values.map((v) => (v == null ? '' : fmt(v))), r].map(cell).join(''));
  }
}
if (reference) console.log(`\nwhat the auth module adds (${names[0]} - ${names[2]}), gzip: ${kb(results.auth_adds_gzip)} KB`);
console.log(`JSON: ${outPath}`);
