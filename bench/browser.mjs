// What the benchmark (bench.mjs) and the waterfall (waterfall.mjs) share: the profiles, the
// marks each document records, and driving headless Chromium through a sign-in.
import { chromium } from 'playwright-core';

export const PROFILES = {
  plain: null,
  mobile: { latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8, cpuSlowdown: 4 },
};
const PROVIDER = process.env.PROVIDER_URL ?? 'http://127.0.0.1:9000';
const PERSON = 'Alice Liddell';

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// Runs in every document before the app: notes when "Sign in" and the person's name first
// appear (performance.now(): ms since this document's navigation start; Date.now(): wall clock).
// Appear means painted: each mark is taken in the first task after the next animation frame,
// not when the element enters the DOM (before issue 11's shell, ours inserted its button about
// 36 ms before its first paint on the mobile profile, the baseline about 10 ms).
const INSTRUMENT = `(() => {
  const marks = (window.__bench = {});
  const seen = {};
  const mark = (name) => {
    if (seen[name]) return;
    seen[name] = true;
    requestAnimationFrame(() => setTimeout(() => { marks[name] = { now: performance.now(), epoch: Date.now() }; }));
  };
  const check = () => {
    if (!document.body) return;
    for (const b of document.querySelectorAll('button')) {
      if (b.textContent.trim() === 'Sign in' && b.offsetParent !== null && !b.disabled) { mark('signIn'); break; }
    }
    if (document.body.textContent.includes(${JSON.stringify(PERSON)})) mark('person');
  };
  new MutationObserver(check).observe(document, { childList: true, subtree: true, characterData: true });
})();`;

export async function waitForMark(page, name) {
  await page.waitForFunction((n) => window.__bench && window.__bench[n], name, { timeout: 60000 });
  return page.evaluate((n) => window.__bench[n], name);
}

// The wall-clock time the person appeared in a document that started at or after `since`,
// polling through navigations (a document that goes away mid-check is skipped). An app that
// comes back signed out (the baseline keeps its tokens in memory and has no silent restore)
// gets its "Sign in" clicked at once, as the least a person would have to do.
export async function waitForPersonSince(page, since) {
  let clicked = false;
  for (let i = 0; i < 6000; i++) {
    const marks = await page.evaluate(() => window.__bench).catch(() => undefined);
    if (marks?.person && marks.person.epoch >= since) return { at: marks.person.epoch, clicked };
    if (!clicked && marks?.signIn && marks.signIn.epoch >= since && !marks.person) {
      clicked = await clickSignIn(page).then(() => true).catch(() => false);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the person never appeared after the reload, at ${page.url()}`);
}

// When this document first painted any content (its first contentful paint, ms since its
// navigation start), waiting for it if it has not happened yet; null after 10 s without.
export function firstContentfulPaint(page) {
  return page.evaluate(() => new Promise((resolve) => {
    setTimeout(() => resolve(null), 10000);
    new PerformanceObserver((list, observer) => {
      const entry = list.getEntriesByName('first-contentful-paint')[0];
      if (entry) { observer.disconnect(); resolve(entry.startTime); }
    }).observe({ type: 'paint', buffered: true });
  }));
}

export async function providerCounts() {
  return (await fetch(`${PROVIDER}/__bench/counts`)).json();
}

export async function newContext(browser) {
  const context = await browser.newContext();
  await context.addInitScript(INSTRUMENT);
  return context;
}

// A page of `context` on `profile`: network and CPU throttled through the DevTools protocol,
// for every request and navigation the page makes. Returns the page and its CDP session.
export async function newPage(context, profile) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  if (profile) {
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: profile.latency,
      downloadThroughput: profile.downloadThroughput,
      uploadThroughput: profile.uploadThroughput,
    });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: profile.cpuSlowdown });
  }
  return { page, cdp };
}

// Clicks the visible "Sign in" button, in the page, and returns the click's wall-clock time.
export function clickSignIn(page) {
  return page.evaluate(() => {
    const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Sign in' && b.offsetParent !== null);
    const at = Date.now();
    button.click();
    return at;
  });
}

// Clicks "Sign in" on `page` (already at the app, its CDP session `cdp`) and holds the
// provider's redirect back at the network layer (CDP Fetch: the callback is the end of a
// redirect chain, which page.route() does not see). Returns the callback URL, not yet opened.
export async function holdCallback(page, cdp, appUrl) {
  let callbackUrl;
  cdp.on('Fetch.requestPaused', (event) => {
    callbackUrl = event.request.url;
    cdp.send('Fetch.failRequest', { requestId: event.requestId, errorReason: 'Aborted' }).catch(() => {});
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: `${appUrl}/callback?*`, requestStage: 'Request' }] });
  await waitForMark(page, 'signIn');
  await clickSignIn(page);
  for (let i = 0; i < 3000 && !callbackUrl; i++) await new Promise((r) => setTimeout(r, 10));
  if (!callbackUrl) throw new Error(`${appUrl}: the provider never redirected back`);
  await cdp.send('Fetch.disable');
  return callbackUrl;
}

// The q-quantile by linear interpolation between the closest ranks.
export const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const low = Math.floor(at);
  return s[low] + (s[Math.min(low + 1, s.length - 1)] - s[low]) * (at - low);
};
export const median = (xs) => quantile(xs, 0.5);
