// Benchmark: end-to-end screen-pop latency. For each of N inbound calls, from the moment the test
// tells pbx-sim to place the call (pbx-sim then writes the AMI events) to the moment the caller's
// record is in the CRM tab's DOM (stamped in the page by a MutationObserver, so polling adds
// nothing). Also splits off the CRM page's own load (navigation start → record in DOM), which is
// the CRM's share, not Omnibridge's. Prints p50/p99 against the ≤ 15 ms p99 target; asserts nothing.
//
//   node tests/bench/pop_latency/pop_latency.mjs [--calls 200]
// Backend as in tests/e2e (OMNIBRIDGE_HOST + OMNIBRIDGE_PBX_SIM, build/*/, else the FakeBackend).
import {startStack, waitFor} from '../../e2e/lib/stack.mjs';

const args = process.argv.slice(2);
const calls = Number(args[args.indexOf('--calls') + 1] || 200) || 200;
const TARGET_P99_MS = 15;

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
const fmt = (v) => `${v.toFixed(1)} ms`;

// A minimal node:test-like context for startStack's cleanup registration.
const afters = [];
const t = {after: (fn) => afters.push(fn)};
let failed = false;
try {
  const s = await startStack(t, {crmSite: 'fixture'});
  await s.waitHostReady();
  const tab = await s.openCrmTab('/');
  await tab.addInitScript(() => {
    const stamp = () => {
      if (!document.getElementById('record-name')) return false;
      window.__popAt = performance.timeOrigin + performance.now();
      window.__navStart = performance.timeOrigin;
      return true;
    };
    if (!stamp()) {
      new MutationObserver((_m, o) => {
        if (stamp()) o.disconnect();
      }).observe(document, {childList: true, subtree: true});
    }
  });
  // When the content script asks for the pop's navigation (CDP event, seen here a little later
  // than it happens, so this figure errs high).
  let navRequestedAt = 0;
  const cdp = await s.context.newCDPSession(tab);
  await cdp.send('Page.enable');
  cdp.on('Page.frameRequestedNavigation', () => {
    navRequestedAt = performance.timeOrigin + performance.now();
  });
  const total = [];
  const pageLoad = [];
  const toRequest = [];
  const toUnload = [];
  for (let i = 0; i < calls; i++) {
    const hitsBefore = s.crm.hitList.length;
    const t0 = performance.timeOrigin + performance.now();
    const reply = await s.control({cmd: 'call', from: '+15551234', name: 'Alice Example', queue: 'support'});
    const got = await waitFor(async () => {
      try {
        const r = await tab.evaluate(() => (window.__popAt ?
          {at: window.__popAt, nav: window.__navStart} : null));
        return r && r.at > t0 ? r : null;
      } catch {
        return null;  // navigating
      }
    }, `pop ${i + 1}`, 10000, 2);
    total.push(got.at - t0);
    if (navRequestedAt > t0) toUnload.push(navRequestedAt - t0);
    const searchHit = s.crm.hitList.findIndex((h, j) => j >= hitsBefore && h.startsWith('/search'));
    if (searchHit >= 0) toRequest.push(s.crm.hitTimes[searchHit] - t0);
    pageLoad.push(got.at - got.nav);
    await s.control({cmd: 'hangup', linkedid: reply?.linkedid});
    await waitFor(async () => (await s.status()).interactions.length === 0, 'the call to end', 10000, 5);
  }
  total.sort((a, b) => a - b);
  pageLoad.sort((a, b) => a - b);
  toRequest.sort((a, b) => a - b);
  toUnload.sort((a, b) => a - b);
  console.log(`pop latency over ${calls} calls (backend: ${s.backend}; pbx-sim call → record in the CRM tab's DOM)`);
  console.log(`  end to end   p50 ${fmt(pct(total, 50))}  p99 ${fmt(pct(total, 99))}  max ${fmt(total.at(-1))}`);
  console.log(`  Omnibridge's share (call → the content script requests the pop's navigation: pbx-sim, host, worker, content script)  p50 ${fmt(pct(toUnload, 50))}  p99 ${fmt(pct(toUnload, 99))}  (n=${toUnload.length})`);
  console.log(`  call → the pop's request reaches the CRM server (adds Chromium's navigation start)  p50 ${fmt(pct(toRequest, 50))}  p99 ${fmt(pct(toRequest, 99))}`);
  console.log(`  the CRM page load (navigation start → record in DOM)  p50 ${fmt(pct(pageLoad, 50))}  p99 ${fmt(pct(pageLoad, 99))}`);
  console.log(`  target: p99 ≤ ${TARGET_P99_MS} ms → ${pct(total, 99) <= TARGET_P99_MS ? 'met' : 'NOT met'}`);
} catch (e) {
  failed = true;
  console.error(e);
} finally {
  for (const fn of afters.reverse()) await fn();
}
process.exitCode = failed ? 1 : 0;
