// A waterfall of each flow (load, sign-in, callback) on the mobile profile, one cold run per
// app: every request the page makes (preflights included) with its start, its end and the
// bytes that came over the wire; the stretches a renderer's main thread was busy (the app's
// pages, and the provider's in between); and when the
// first token request started. Where bench.mjs says how long, this says where the time went.
//
// Usage: node bench/waterfall.mjs <out.json> name=url ...  (bench/run.sh calls it after
// bench.mjs, with the same servers and provider.) Prints one table per app and flow, and
// writes every request and busy stretch to <out.json>.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { PROFILES, launch, newContext, newPage, waitForMark, clickSignIn, holdCallback } from './browser.mjs';

const [outPath, ...appArgs] = process.argv.slice(2);
const apps = appArgs.map((arg) => {
  const [name, url] = arg.split('=');
  return { name, url };
});
const profile = PROFILES.mobile;
// A task on the main thread at least this long counts as busy; tasks closer than the gap
// are one stretch. (Times here are after the 4x CPU slowdown.)
const BUSY_TASK_MS = 10;
const BUSY_GAP_MS = 10;

// Every request of the page from the moment this is called, through navigations, as CDP
// reports them: times are seconds on the browser's monotonic clock, which the trace shares;
// `clock.offset` turns a wall-clock time (Date.now() in a page) into one.
function recordRequests(cdp) {
  const requests = new Map();
  const list = [];
  const clock = { offset: null };
  const handlers = {};
  const on = (event, handler) => {
    handlers[event] = handler;
    cdp.on(event, handler);
  };
  on('Network.requestWillBeSent', (e) => {
    clock.offset ??= e.wallTime - e.timestamp;
    const previous = requests.get(e.requestId);
    // A redirect reuses the request's id: the hop before it ends where the next one starts.
    if (previous && e.redirectResponse) Object.assign(previous, { end: e.timestamp, status: e.redirectResponse.status });
    const entry = { method: e.request.method, url: e.request.url, type: e.type, start: e.timestamp, end: null, bytes: 0, status: null };
    requests.set(e.requestId, entry);
    list.push(entry);
  });
  on('Network.responseReceived', (e) => {
    const entry = requests.get(e.requestId);
    if (entry) entry.status = e.response.status;
  });
  on('Network.loadingFinished', (e) => {
    const entry = requests.get(e.requestId);
    if (entry) Object.assign(entry, { end: e.timestamp, bytes: e.encodedDataLength });
  });
  on('Network.loadingFailed', (e) => {
    const entry = requests.get(e.requestId);
    if (entry) Object.assign(entry, { end: e.timestamp, failed: e.errorText });
  });
  const stop = () => Object.entries(handlers).forEach(([event, handler]) => cdp.off(event, handler));
  return { list, clock, stop };
}

// The renderer main threads' tasks from a Chromium trace (microseconds), merged into busy
// stretches.
function busyStretches(trace) {
  const { traceEvents } = JSON.parse(trace.toString());
  const mainThreads = new Set(
    traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
      .map((e) => `${e.pid}:${e.tid}`),
  );
  const tasks = traceEvents
    .filter((e) => e.ph === 'X' && /RunTask$/.test(e.name) && mainThreads.has(`${e.pid}:${e.tid}`) && e.dur >= BUSY_TASK_MS * 1000)
    .map((e) => ({ start: e.ts / 1e6, end: (e.ts + e.dur) / 1e6 }))
    .sort((a, b) => a.start - b.start);
  const stretches = [];
  for (const task of tasks) {
    const last = stretches.at(-1);
    if (last && task.start - last.end < BUSY_GAP_MS / 1000) last.end = Math.max(last.end, task.end);
    else stretches.push({ ...task });
  }
  return stretches;
}

// One flow on `page`: `begin()` starts it and returns the wall-clock ms it started at, or
// the URL of the navigation that starts it; `end()` resolves to the wall-clock ms its end
// was on screen.
async function flow(browser, page, cdp, begin, end) {
  const { list, clock, stop } = recordRequests(cdp);
  await browser.startTracing(page, { categories: ['toplevel'] });
  const beganAt = await begin();
  const endedAt = await end();
  const trace = await browser.stopTracing();
  stop();
  const t0 = typeof beganAt === 'string' ? list.find((r) => r.url === beganAt).start : beganAt / 1000 - clock.offset;
  const t1 = endedAt / 1000 - clock.offset;
  const ms = (seconds) => Math.round((seconds - t0) * 1000);
  const requests = list
    .filter((r) => r.start >= t0 - 0.001 && r.start <= t1 && !r.url.startsWith('data:'))
    .map((r) => ({
      start: ms(r.start), end: r.end == null ? null : ms(r.end), method: r.method, type: r.type,
      url: r.url.split('?')[0], status: r.status, kb: +(r.bytes / 1000).toFixed(1), ...(r.failed ? { failed: r.failed } : {}),
    }));
  const busy = busyStretches(trace)
    .filter((s) => s.end >= t0 && s.start <= t1)
    .map((s) => ({ start: ms(Math.max(s.start, t0)), end: ms(Math.min(s.end, t1)) }));
  const firstToken = requests.find((r) => /\/token$/.test(r.url) && r.method === 'POST');
  return { total: ms(t1), requests, busy, firstTokenRequest: firstToken ? firstToken.start : null };
}

const markAt = (page, name) => waitForMark(page, name).then((m) => m.epoch);

async function waterfalls(browser, app) {
  // Load, then sign-in from that page: one fresh context, as a person goes through it.
  const first = await newContext(browser);
  const { page, cdp } = await newPage(first, profile);
  const load = await flow(browser, page, cdp, async () => { await page.goto(`${app.url}/`); return `${app.url}/`; }, () => markAt(page, 'signIn'));
  const signIn = await flow(browser, page, cdp, () => clickSignIn(page), async () => {
    await page.waitForURL(`${app.url}/**`, { timeout: 60000 });
    return markAt(page, 'person');
  });
  await first.close();
  // Callback: the provider's redirect back held, then opened as a navigation of its own.
  const second = await newContext(browser);
  const { page: tab, cdp: tabCdp } = await newPage(second, profile);
  await tab.goto(`${app.url}/`);
  const callbackUrl = await holdCallback(tab, tabCdp, app.url);
  const callback = await flow(browser, tab, tabCdp, async () => { await tab.goto(callbackUrl, { waitUntil: 'commit' }); return callbackUrl; }, () => markAt(tab, 'person'));
  await second.close();
  return { load, sign_in: signIn, callback };
}

function print(name, flowName, w) {
  const bar = (start, end) => {
    const scale = 60 / Math.max(w.total, 1);
    const from = Math.max(0, Math.round(start * scale));
    const to = Math.max(from + 1, Math.round((end ?? w.total) * scale));
    return ' '.repeat(from) + '#'.repeat(to - from);
  };
  console.log(`\n${name}, ${flowName} (mobile): ${w.total} ms; first token request at ${w.firstTokenRequest ?? '-'} ms`);
  console.log(`${'start'.padStart(6)} ${'end'.padStart(6)} ${'KB'.padStart(6)}  request`);
  for (const r of w.requests) {
    const what = `${r.method} ${r.url}${r.type === 'Preflight' ? ' (preflight)' : ''} ${r.status ?? r.failed ?? ''}`;
    console.log(`${String(r.start).padStart(6)} ${String(r.end ?? '-').padStart(6)} ${String(r.kb).padStart(6)}  ${what.padEnd(70).slice(0, 70)} |${bar(r.start, r.end)}`);
  }
  for (const s of w.busy) {
    console.log(`${String(s.start).padStart(6)} ${String(s.end).padStart(6)} ${''.padStart(6)}  ${'main thread busy'.padEnd(70)} |${bar(s.start, s.end)}`);
  }
}

const browser = await launch();
const results = { profile, busy_task_ms: BUSY_TASK_MS, apps: {} };
try {
  for (const app of apps) {
    // One warm-up round (the servers' caches), not shown.
    await waterfalls(browser, app);
    results.apps[app.name] = await waterfalls(browser, app);
    for (const [flowName, w] of Object.entries(results.apps[app.name])) print(app.name, flowName, w);
  }
} finally {
  await browser.close();
}
mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, JSON.stringify(results, null, 2));
console.log(`\nJSON: ${outPath}`);
