// Starts tools/demo-crm/server.mjs on port 0 and checks its search, record pages, escaping,
// activity log, the generic-adapter templates it ships, and that it stops on SIGTERM / SIGINT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const serverPath = join(root, 'tools', 'demo-crm', 'server.mjs');

/** Spawns the server and resolves with {child, port, origin} once it printed its first line. */
function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serverPath, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${err}`));
    }, 10000);
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      try {
        const first = JSON.parse(out.slice(0, nl));
        assert.deepEqual(Object.keys(first), ['port']);
        assert.ok(Number.isInteger(first.port) && first.port > 0);
        resolve({ child, port: first.port, origin: `http://127.0.0.1:${first.port}` });
      } catch (e) {
        child.kill('SIGKILL');
        reject(e);
      }
    });
    child.on('error', reject);
  });
}

function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

let srv;
const started = [];
before(async () => {
  srv = await startServer();
  started.push(srv.child);
});
after(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const get = (path, init = {}) => fetch(srv.origin + path, { redirect: 'manual', ...init });
const text = async (path) => {
  const r = await get(path);
  assert.equal(r.status, 200, path);
  assert.match(r.headers.get('content-type'), /^text\/html; charset=utf-8/);
  return r.text();
};
/** Markup the site itself never emits: finding any means data became HTML. */
const INJECTED = [/<img\b/i, /<script\b/i, /<svg\b/i, /<b>/i, /<a href="javascript:/i, /onfocus="alert/i, /<\/textarea><img/i];
const assertNoInjection = (body, where) => {
  for (const re of INJECTED) assert.doesNotMatch(body, re, where);
};

test('home page lists contacts and links the stylesheet', async () => {
  const body = await text('/');
  assert.match(body, /<link rel="stylesheet" href="\/static\/crm.css">/);
  assert.match(body, /Alice Example/);
  assert.match(body, /data-page="home"/);
  const css = await get('/static/crm.css');
  assert.equal(css.status, 200);
  assert.match(css.headers.get('content-type'), /^text\/css/);
  assertNoInjection(body, 'home');
});

test('search: exactly one match redirects to the record', async () => {
  for (const [q, id] of [
    ['phone=5551234', '1001'],
    ['phone=%2B15551234', '1001'],
    ['phone=%2B1%20555%20010%204477', '1001'], // the mobile number
    ['email=BOB%40example.com', '1002'],
    ['q=carol%40example.com', '1003'],
    ['q=%2B46%208%20555%20012%2034', '1004'],
    ['q=Zo%C3%AB', '1005'],
  ]) {
    const r = await get(`/search?${q}`);
    assert.equal(r.status, 302, q);
    assert.equal(r.headers.get('location'), `/contacts/${id}`, q);
  }
});

test('search: several matches list them; none offers a new contact', async () => {
  const several = await text('/search?phone=%2B1%20555%20020%203000');
  assert.match(several, /id="search-title">Search results \(2\)/);
  assert.match(several, /href="\/contacts\/1006"/);
  assert.match(several, /href="\/contacts\/1007"/);
  assert.match(several, /data-page="search-results"/);

  const none = await text('/search?phone=%2B1%20999%20000');
  assert.match(none, /id="no-match"/);
  assert.match(none, /Search results \(0\)/);
  assert.match(none, /id="new-contact-link" href="\/contacts\/new\?phone=%2B1%20999%20000"/);

  const noneEmail = await text('/search?q=nobody%40example.com');
  assert.match(noneEmail, /href="\/contacts\/new\?email=nobody%40example.com"/);
  const empty = await text('/search');
  assert.match(empty, /Search results \(0\)/);
});

test('record pages for contacts, cases and chats', async () => {
  const c = await text('/contacts/1002');
  assert.match(c, /<body data-page="contact" data-record-type="contact" data-record-id="1002">/);
  assert.match(c, /<h1 id="record-name">Bob Sample<\/h1>/);
  assert.match(c, /<dd id="record-phone">\+15555678<\/dd>/);
  assert.match(c, /href="\/cases\/5001"/);
  assert.match(c, /Sample &amp; Sons Hardware/);

  const k = await text('/cases/5001');
  assert.match(k, /data-record-type="case" data-record-id="5001"/);
  assert.match(k, /POS terminal drops the card reader/);
  const h = await text('/chats/7002');
  assert.match(h, /data-record-type="chat" data-record-id="7002"/);
  assert.match(h, /注文の状況 \(order status\)/);
  assert.match(h, /Where is order #4471\? 😀/);
  assert.match(await text('/cases'), /href="\/cases\/5004"/);
  assert.match(await text('/chats'), /href="\/chats\/7003"/);

  for (const path of ['/contacts/9999', '/cases/1', '/chats/%E0%A4%A', '/nope']) {
    const r = await get(path);
    assert.equal(r.status, 404, path);
    assertNoInjection(await r.text(), path);
  }
});

test('markup in data shows as text everywhere', async () => {
  const contact = await text('/contacts/1008');
  assert.match(contact, /<h1 id="record-name">&lt;img src=x onerror=alert\(1\)&gt; &quot;Quote&#39; &amp; &lt;b&gt;Bold&lt;\/b&gt;<\/h1>/);
  assert.match(contact, /&lt;script&gt;alert\(&#39;title&#39;\)&lt;\/script&gt;/);
  assertNoInjection(contact, 'contact 1008');
  for (const path of ['/', '/contacts', '/cases', '/cases/5004', '/chats', '/chats/7003', '/search?q=test', '/search?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E%22zz']) {
    assertNoInjection(await text(path), path);
  }
  const list = await text('/search?q=test');
  assert.match(list, /&lt;img src=x onerror=alert\(1\)&gt;/);
  // Attribute values: a quote cannot end the attribute.
  const form = await text('/contacts/new?firstName=%22%20autofocus%20onfocus%3D%22alert(1)&phone=%2B1%20555&email=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E');
  assert.match(form, /id="new-firstName" value="&quot; autofocus onfocus=&quot;alert\(1\)"/);
  assert.match(form, /id="new-phone" value="\+1 555"/);
  assertNoInjection(form, 'new contact form');
  const act = await text('/activities/new?subject=%3Cscript%3Ex%3C%2Fscript%3E&body=%3C%2Ftextarea%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&recordId=1001');
  assert.match(act, /<textarea name="body" id="activity-body" rows="5">&lt;\/textarea&gt;&lt;img src=x onerror=alert\(1\)&gt;<\/textarea>/);
  assertNoInjection(act, 'activity form');
});

test('new contact: pre-filled form, then POST creates it and search finds it', async () => {
  const form = await text('/contacts/new?firstName=Gina&lastName=Newcaller&phone=%2B1%20555%20777%208888&email=gina%40example.com');
  assert.match(form, /data-page="new-contact"/);
  assert.match(form, /id="new-firstName" value="Gina"/);
  assert.match(form, /id="new-email" value="gina@example.com"/);
  const r = await get('/contacts', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'firstName=Gina&lastName=Newcaller&phone=%2B1+555+777+8888&email=gina%40example.com',
  });
  assert.equal(r.status, 303);
  const location = r.headers.get('location');
  assert.match(location, /^\/contacts\/[0-9]+$/);
  const s = await get('/search?phone=5557778888');
  assert.equal(s.headers.get('location'), location);
  const bad = await get('/contacts', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'phone=1' });
  assert.equal(bad.status, 400);
});

test('activity log: JSON API, form post, shown on the record', async () => {
  const r = await get('/api/activities', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ subject: 'Inbound call <b>', body: 'Asked about <img src=x onerror=alert(1)>', recordId: '1001' }),
  });
  assert.equal(r.status, 201);
  const { activity } = await r.json();
  assert.equal(activity.subject, 'Inbound call <b>');
  assert.equal(activity.recordId, '1001');
  const list = await (await get('/api/activities')).json();
  assert.ok(list.activities.some((a) => a.id === activity.id));
  const page = await text('/contacts/1001');
  assert.match(page, /<strong>Inbound call &lt;b&gt;<\/strong>/);
  assertNoInjection(page, 'contact with activity');

  const form = await get('/activities', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'subject=Chat+reply&body=On+my+way&recordId=7001',
  });
  assert.equal(form.status, 303);
  assert.equal(form.headers.get('location'), '/chats/7001');

  const malformed = await get('/api/activities', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
  assert.equal(malformed.status, 400);
  assert.deepEqual(await malformed.json(), { error: 'malformed JSON' });
  const nosubject = await get('/api/activities', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(nosubject.status, 400);
  const big = await get('/api/activities', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ subject: 'x', body: 'y'.repeat(70 * 1024) }) }).catch((e) => e);
  assert.ok(big instanceof Error || big.status === 413, 'a body over 64 KiB is refused');
  const put = await get('/contacts/1001', { method: 'PUT' });
  assert.equal(put.status, 405);
});

test('JSON contact search and request log', async () => {
  const r = await (await get('/api/contacts?phone=5555678')).json();
  assert.equal(r.count, 1);
  assert.equal(r.contacts[0].id, '1002');
  const hits = await (await get('/api/hits')).json();
  assert.ok(hits.hits.includes('/api/contacts?phone=5555678'));
});

test('adapter-settings.json templates route to the right pages', async () => {
  const settings = JSON.parse(readFileSync(join(root, 'tools', 'demo-crm', 'adapter-settings.json'), 'utf8'));
  assert.equal(settings.adapter, 'generic');
  assert.equal(settings.origin, 'http://127.0.0.1:PORT');
  const origin = settings.origin.replace('PORT', String(srv.port));
  // The generic adapter's expansion, for plain values: each placeholder percent-encoded.
  const expand = (template, values) =>
    origin + template.replace(/\{\{\s*([A-Za-z.]+)\s*\}\}/g, (_, n) => (n === 'fields' ? values.fields : encodeURIComponent(values[n] ?? '')));
  const { templates } = settings;

  let r = await fetch(expand(templates.search, { query: '+15551234' }), { redirect: 'manual' });
  assert.equal(r.headers.get('location'), '/contacts/1001');
  r = await fetch(expand(templates.search, { query: 'bob@example.com' }), { redirect: 'manual' });
  assert.equal(r.headers.get('location'), '/contacts/1002');
  for (const [type, id, where] of [['contact', '1003', '/contacts/1003'], ['case', '5002', '/cases/5002'], ['chat', '7001', '/chats/7001']]) {
    r = await fetch(expand(templates.record, { recordType: type, recordId: id }), { redirect: 'manual' });
    assert.equal(r.status, 302, type);
    assert.equal(r.headers.get('location'), where, type);
  }
  r = await fetch(expand(templates.newRecord, { recordType: 'contact', fields: 'phone=%2B1%20555%200199&lastName=Caller' }), { redirect: 'manual' });
  assert.equal(r.headers.get('location'), '/contacts/new?phone=%2B1%20555%200199&lastName=Caller');
  const form = await text(r.headers.get('location'));
  assert.match(form, /id="new-phone" value="\+1 555 0199"/);
  const act = await text(new URL(expand(templates.activity, { subject: 'Call', body: 'Notes & more', recordId: '1001' })).pathname + new URL(expand(templates.activity, { subject: 'Call', body: 'Notes & more', recordId: '1001' })).search);
  assert.match(act, /id="activity-subject" value="Call"/);
  assert.match(act, /id="activity-record" value="1001"/);
  assert.match(act, />Notes &amp; more<\/textarea>/);
});

test('SIGTERM and SIGINT stop the server cleanly', async () => {
  const second = await startServer();
  started.push(second.child);
  second.child.kill('SIGINT');
  assert.deepEqual(await exited(second.child), { code: 0, signal: null });

  // Keep a connection open, then stop the main server.
  const res = await get('/');
  await res.text();
  srv.child.kill('SIGTERM');
  const t0 = Date.now();
  assert.deepEqual(await exited(srv.child), { code: 0, signal: null });
  assert.ok(Date.now() - t0 < 3000);
  await assert.rejects(fetch(srv.origin + '/healthz'));
});

test('bad arguments exit 2 with usage', async () => {
  const child = spawn(process.execPath, [serverPath, '--port', 'x'], { stdio: ['ignore', 'ignore', 'pipe'] });
  started.push(child);
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  assert.deepEqual(await exited(child), { code: 2, signal: null });
  assert.match(err, /--port must be 0\.\.65535/);
});
