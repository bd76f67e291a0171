#!/usr/bin/env node
// The demo CRM: a small CRM web site for the Omnibridge demo and e2e tests, with no dependencies.
//
//   node tools/demo-crm/server.mjs [--port N] [--host 127.0.0.1] [--data FILE]
//
// --port 0 (the default) takes an ephemeral port. The first line on stdout is {"port":N}.
// SIGINT and SIGTERM close the server and exit 0. Data comes from data/crm.json and lives in
// memory: contacts and activities created while it runs are gone when it stops.
//
// Every page is built on the server with the `html` tagged template below: each interpolated value
// is HTML-escaped unless it is itself the output of `html`, so no data can become markup. There is
// deliberately no Content-Security-Policy: the e2e tests use this site to catch an extension that
// turns data into HTML, and a CSP would hide such a bug instead of showing it.
//
// Routes (docs/crm-adapters.md has the generic-adapter templates that use them):
//   GET  /                          dashboard
//   GET  /search?phone=|email=|q=   one match → 302 to the record; several → list; none → no match
//   GET  /contacts, /contacts/<id>, /contacts/new?firstName=&lastName=&phone=&email=&account=
//   POST /contacts                  (form) create → 303 to the record
//   GET  /cases, /cases/<id>, /chats, /chats/<id>
//   GET  /record/<type>/<id>        302 to /contacts|cases|chats/<id>  (type singular or plural)
//   GET  /record/contact/new?…      302 to /contacts/new?…
//   GET  /activities, /activities/new?subject=&body=&recordId=
//   POST /activities                (form) log an activity → 303 to the record or the list
//   GET  /api/contacts?phone=|email=|q=   JSON search
//   GET  /api/activities, POST /api/activities (JSON {subject, body, recordId?}) → 201
//   GET  /api/hits                  JSON list of the paths requested so far (for tests)
//   GET  /healthz, /static/crm.css

import http from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const MAX_BODY = 64 * 1024;
const MAX_HITS = 1000;

// ---------------------------------------------------------------------------------------------
// HTML building: escape everything that is not already trusted markup.

class Html {
  constructor(text) {
    this.text = text;
  }
  toString() {
    return this.text;
  }
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function render(value) {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

export function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** A path segment or query value for an href: percent-encoded, then HTML-escaped by `html`. */
const seg = (v) => encodeURIComponent(String(v));
const qs = (params) =>
  Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');

// ---------------------------------------------------------------------------------------------
// Data.

export function loadData(file) {
  const data = JSON.parse(readFileSync(file, 'utf8'));
  for (const key of ['contacts', 'cases', 'chats']) {
    if (!Array.isArray(data[key])) throw new Error(`${file}: "${key}" must be a list`);
  }
  return data;
}

/** decodeURIComponent that answers null instead of throwing on a malformed escape. */
const dec = (s) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
};

const digits = (s) => String(s ?? '').replace(/[^0-9]/g, '');

/** Same number if the digits are equal, or one ends with the other and it has at least 7 digits
 *  (a national number against the same number with its country code). */
export function samePhone(a, b) {
  const x = digits(a);
  const y = digits(b);
  if (x.length < 3 || y.length < 3) return false;
  if (x === y) return true;
  const [short, long] = x.length < y.length ? [x, y] : [y, x];
  return short.length >= 7 && long.endsWith(short);
}

const fullName = (c) => `${c.firstName ?? ''} ${c.lastName ?? ''}`.trim();

class Store {
  constructor(data) {
    this.company = data.company ?? 'Demo CRM';
    this.contacts = data.contacts.map((c) => ({ ...c }));
    this.cases = data.cases.map((c) => ({ ...c }));
    this.chats = data.chats.map((c) => ({ ...c }));
    this.activities = [];
    this.nextContact = 1 + Math.max(1000, ...this.contacts.map((c) => Number(c.id) || 0));
    this.nextActivity = 1;
  }
  contact(id) {
    return this.contacts.find((c) => c.id === id);
  }
  /** Contacts matching a phone number, an e-mail address or (q) either one or a name. */
  search({ phone, email, q }) {
    if (phone) return this.contacts.filter((c) => samePhone(c.phone, phone) || samePhone(c.mobile, phone));
    if (email) {
      const e = email.trim().toLowerCase();
      return this.contacts.filter((c) => String(c.email ?? '').toLowerCase() === e);
    }
    if (q) {
      const t = q.trim();
      if (t.includes('@')) return this.search({ email: t });
      if (/^[+0-9 ().-]+$/.test(t) && digits(t).length >= 3) return this.search({ phone: t });
      const lower = t.toLowerCase();
      return this.contacts.filter(
        (c) => fullName(c).toLowerCase().includes(lower) || String(c.account ?? '').toLowerCase().includes(lower),
      );
    }
    return [];
  }
  addContact(fields) {
    const c = {
      id: String(this.nextContact++),
      firstName: fields.firstName ?? '',
      lastName: fields.lastName ?? '',
      title: fields.title ?? '',
      account: fields.account ?? '',
      phone: fields.phone ?? '',
      mobile: '',
      email: fields.email ?? '',
      city: fields.city ?? '',
      tier: 'New',
      notes: fields.notes ?? '',
    };
    this.contacts.push(c);
    return c;
  }
  addActivity({ subject, body, recordId }) {
    const a = {
      id: String(this.nextActivity++),
      subject: String(subject ?? '').slice(0, 500) || '(no subject)',
      body: String(body ?? '').slice(0, 20000),
      recordId: recordId ? String(recordId) : '',
      at: new Date().toISOString(),
    };
    this.activities.unshift(a);
    return a;
  }
}

// ---------------------------------------------------------------------------------------------
// Pages.

function layout(store, { title, page, section, recordType, recordId, query }, body) {
  const nav = [
    ['/', 'Home', 'home'],
    ['/contacts', 'Contacts', 'contacts'],
    ['/cases', 'Cases', 'cases'],
    ['/chats', 'Chats', 'chats'],
    ['/activities', 'Activities', 'activities'],
  ];
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${store.company} CRM</title>
<link rel="stylesheet" href="/static/crm.css">
</head>
<body data-page="${page}" data-record-type="${recordType ?? ''}" data-record-id="${recordId ?? ''}">
<header class="topbar">
  <a class="brand" href="/"><span class="logo" aria-hidden="true">N</span>${store.company} <small>CRM</small></a>
  <form class="global-search" action="/search" method="get" role="search">
    <input type="search" name="q" value="${query ?? ''}" placeholder="Search contacts by name, phone or e-mail" aria-label="Search">
    <button type="submit">Search</button>
  </form>
  <span class="user" title="Signed in">Agent 1001</span>
</header>
<div class="shell">
<nav class="sidenav" aria-label="Main">
  <ul>${nav.map(([href, label, key]) => html`<li><a href="${href}"${key === section ? html` aria-current="page"` : ''}>${label}</a></li>`)}</ul>
</nav>
<main id="main">
${body}
</main>
</div>
</body>
</html>
`;
}

const fmtTime = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso ?? '') : d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
};

const badge = (text) => html`<span class="badge badge-${String(text).toLowerCase().replace(/[^a-z]/g, '')}">${text}</span>`;

function contactRows(contacts) {
  return contacts.map(
    (c) => html`<tr>
      <td><a href="/contacts/${seg(c.id)}">${fullName(c)}</a></td>
      <td>${c.account}</td>
      <td class="mono">${c.phone}</td>
      <td>${c.email}</td>
      <td>${badge(c.tier ?? '')}</td>
    </tr>`,
  );
}

function contactTable(contacts) {
  return html`<table class="grid">
    <thead><tr><th scope="col">Name</th><th scope="col">Account</th><th scope="col">Phone</th><th scope="col">E-mail</th><th scope="col">Tier</th></tr></thead>
    <tbody>${contactRows(contacts)}</tbody>
  </table>`;
}

function activityList(activities) {
  if (activities.length === 0) return html`<p class="muted">No activities logged yet.</p>`;
  return html`<ul class="timeline">${activities.map(
    (a) => html`<li data-activity-id="${a.id}"><div class="when">${fmtTime(a.at)}</div>
      <div class="what"><strong>${a.subject}</strong>${a.body ? html`<p class="pre">${a.body}</p>` : ''}</div></li>`,
  )}</ul>`;
}

function homePage(store) {
  const openCases = store.cases.filter((c) => c.status !== 'Closed');
  const waitingChats = store.chats.filter((c) => c.status === 'Waiting');
  return layout(store, { title: 'Home', page: 'home', section: 'home' }, html`
<h1>Good morning</h1>
<section class="tiles">
  <a class="tile" href="/contacts"><span class="n">${store.contacts.length}</span> contacts</a>
  <a class="tile" href="/cases"><span class="n">${openCases.length}</span> open cases</a>
  <a class="tile" href="/chats"><span class="n">${waitingChats.length}</span> waiting chats</a>
  <a class="tile" href="/activities"><span class="n">${store.activities.length}</span> activities today</a>
</section>
<div class="columns">
  <section class="card"><h2>Recent contacts</h2>${contactTable(store.contacts.slice(0, 6))}</section>
  <section class="card"><h2>Latest activity</h2>${activityList(store.activities.slice(0, 5))}</section>
</div>`);
}

function contactsPage(store) {
  return layout(store, { title: 'Contacts', page: 'contacts', section: 'contacts' }, html`
<div class="pagehead"><h1>Contacts</h1><a class="button" href="/contacts/new">New contact</a></div>
<section class="card">${contactTable(store.contacts)}</section>`);
}

function contactPage(store, c) {
  const cases = store.cases.filter((x) => x.contactId === c.id);
  const chats = store.chats.filter((x) => x.contactId === c.id);
  const activities = store.activities.filter((a) => a.recordId === c.id);
  const field = (label, value, id) => html`<div class="field"><dt>${label}</dt><dd${id ? html` id="${id}"` : ''}>${value || html`<span class="muted">—</span>`}</dd></div>`;
  return layout(store, { title: fullName(c), page: 'contact', section: 'contacts', recordType: 'contact', recordId: c.id }, html`
<div class="record-head">
  <div class="avatar" aria-hidden="true">${(c.firstName || '?').slice(0, 1)}${(c.lastName || '').slice(0, 1)}</div>
  <div>
    <p class="kicker">Contact</p>
    <h1 id="record-name">${fullName(c)}</h1>
    <p class="sub">${c.title}${c.title && c.account ? ' · ' : ''}${c.account}</p>
  </div>
  <div class="actions">
    <a class="button secondary" href="/activities/new?${qs({ recordId: c.id, subject: `Call with ${fullName(c)}` })}">Log a call</a>
  </div>
</div>
<div class="columns">
  <section class="card record" data-record-id="${c.id}">
    <h2>Details</h2>
    <dl class="fields">
      ${field('Phone', c.phone, 'record-phone')}
      ${field('Mobile', c.mobile)}
      ${field('E-mail', c.email, 'record-email')}
      ${field('City', c.city)}
      ${field('Tier', c.tier ? badge(c.tier) : '')}
      ${field('Contact id', c.id)}
    </dl>
    ${c.notes ? html`<h3>Notes</h3><p class="pre">${c.notes}</p>` : ''}
  </section>
  <section class="card">
    <h2>Cases <span class="count">${cases.length}</span></h2>
    ${cases.length ? html`<ul class="related">${cases.map((x) => html`<li><a href="/cases/${seg(x.id)}">${x.subject}</a> ${badge(x.status)}</li>`)}</ul>` : html`<p class="muted">No cases.</p>`}
    <h2>Chats <span class="count">${chats.length}</span></h2>
    ${chats.length ? html`<ul class="related">${chats.map((x) => html`<li><a href="/chats/${seg(x.id)}">${x.subject}</a> ${badge(x.status)}</li>`)}</ul>` : html`<p class="muted">No chats.</p>`}
    <h2>Activity</h2>
    ${activityList(activities)}
  </section>
</div>`);
}

function newContactPage(store, p) {
  const input = (name, label, type = 'text') =>
    html`<label class="input"><span>${label}</span><input type="${type}" name="${name}" id="new-${name}" value="${p.get(name) ?? ''}"></label>`;
  return layout(store, { title: 'New contact', page: 'new-contact', section: 'contacts', recordType: 'contact' }, html`
<div class="pagehead"><h1>New contact</h1></div>
<form class="card form" method="post" action="/contacts">
  <div class="grid2">
    ${input('firstName', 'First name')}
    ${input('lastName', 'Last name')}
    ${input('phone', 'Phone', 'tel')}
    ${input('email', 'E-mail', 'email')}
    ${input('account', 'Account')}
    ${input('title', 'Title')}
  </div>
  <label class="input"><span>Notes</span><textarea name="notes" rows="3">${p.get('notes') ?? ''}</textarea></label>
  <div class="form-actions"><button type="submit">Save contact</button> <a href="/contacts">Cancel</a></div>
</form>`);
}

function searchPage(store, label, found, newLink) {
  return layout(store, { title: `Search: ${label}`, page: found.length ? 'search-results' : 'search-empty', section: 'contacts', query: label }, html`
<div class="pagehead"><h1 id="search-title">Search results (${found.length})</h1></div>
<p class="sub">for <q id="search-term">${label}</q></p>
${found.length
    ? html`<section class="card">${contactTable(found)}</section>`
    : html`<section class="card empty" id="no-match">
        <h2>No match</h2>
        <p>No contact has this phone number or e-mail address.</p>
        <a class="button" id="new-contact-link" href="${newLink}">New contact</a>
      </section>`}`);
}

function casesPage(store) {
  return layout(store, { title: 'Cases', page: 'cases', section: 'cases' }, html`
<div class="pagehead"><h1>Cases</h1></div>
<section class="card"><table class="grid">
  <thead><tr><th scope="col">Case</th><th scope="col">Subject</th><th scope="col">Contact</th><th scope="col">Channel</th><th scope="col">Status</th></tr></thead>
  <tbody>${store.cases.map((c) => {
    const who = store.contact(c.contactId);
    return html`<tr><td class="mono"><a href="/cases/${seg(c.id)}">${c.id}</a></td><td>${c.subject}</td>
      <td>${who ? html`<a href="/contacts/${seg(who.id)}">${fullName(who)}</a>` : ''}</td><td>${c.channel}</td><td>${badge(c.status)}</td></tr>`;
  })}</tbody></table></section>`);
}

function casePage(store, c) {
  const who = store.contact(c.contactId);
  return layout(store, { title: `Case ${c.id}`, page: 'case', section: 'cases', recordType: 'case', recordId: c.id }, html`
<div class="record-head">
  <div class="avatar case" aria-hidden="true">C</div>
  <div><p class="kicker">Case ${c.id}</p><h1 id="record-name">${c.subject}</h1>
  <p class="sub">${badge(c.status)} ${badge(c.priority ?? '')} via ${c.channel} · queue ${c.queue}</p></div>
</div>
<div class="columns">
  <section class="card record" data-record-id="${c.id}">
    <h2>Description</h2><p class="pre">${c.description}</p>
    <dl class="fields"><div class="field"><dt>Opened</dt><dd>${fmtTime(c.opened)}</dd></div></dl>
  </section>
  <section class="card"><h2>Contact</h2>
    ${who ? html`<p><a href="/contacts/${seg(who.id)}">${fullName(who)}</a></p><p class="mono">${who.phone}</p><p>${who.email}</p>` : html`<p class="muted">Unknown</p>`}
    <h2>Activity</h2>${activityList(store.activities.filter((a) => a.recordId === c.id))}
  </section>
</div>`);
}

function chatsPage(store) {
  return layout(store, { title: 'Chats', page: 'chats', section: 'chats' }, html`
<div class="pagehead"><h1>Chats</h1></div>
<section class="card"><table class="grid">
  <thead><tr><th scope="col">Chat</th><th scope="col">Subject</th><th scope="col">Customer</th><th scope="col">Queue</th><th scope="col">Status</th></tr></thead>
  <tbody>${store.chats.map((c) => {
    const who = store.contact(c.contactId);
    return html`<tr><td class="mono"><a href="/chats/${seg(c.id)}">${c.id}</a></td><td>${c.subject}</td>
      <td>${who ? fullName(who) : ''}</td><td>${c.queue}</td><td>${badge(c.status)}</td></tr>`;
  })}</tbody></table></section>`);
}

function chatPage(store, c) {
  const who = store.contact(c.contactId);
  const transcript = Array.isArray(c.transcript) ? c.transcript : [];
  return layout(store, { title: `Chat ${c.id}`, page: 'chat', section: 'chats', recordType: 'chat', recordId: c.id }, html`
<div class="record-head">
  <div class="avatar chat" aria-hidden="true">✉</div>
  <div><p class="kicker">Chat ${c.id}</p><h1 id="record-name">${c.subject}</h1>
  <p class="sub">${badge(c.status)} · queue ${c.queue} · started ${fmtTime(c.started)}</p></div>
</div>
<div class="columns">
  <section class="card record" data-record-id="${c.id}">
    <h2>Conversation</h2>
    <ol class="transcript">${transcript.map((m) => html`<li class="msg from-${m.from === 'customer' ? 'customer' : 'agent'}">
      <span class="who">${m.from === 'customer' && who ? fullName(who) : m.from}</span>
      <span class="text">${m.text}</span><span class="at">${fmtTime(m.at)}</span></li>`)}</ol>
    <form class="reply" method="post" action="/activities">
      <input type="hidden" name="recordId" value="${c.id}">
      <input type="hidden" name="subject" value="Chat reply">
      <label class="input"><span>Reply</span><textarea name="body" rows="2"></textarea></label>
      <button type="submit">Send</button>
    </form>
  </section>
  <section class="card"><h2>Customer</h2>
    ${who ? html`<p><a href="/contacts/${seg(who.id)}">${fullName(who)}</a></p><p>${who.email}</p>` : html`<p class="muted">Unknown</p>`}
  </section>
</div>`);
}

function activitiesPage(store) {
  return layout(store, { title: 'Activities', page: 'activities', section: 'activities' }, html`
<div class="pagehead"><h1>Activities</h1><a class="button" href="/activities/new">Log an activity</a></div>
<section class="card">${activityList(store.activities)}</section>`);
}

function newActivityPage(store, p) {
  const recordId = p.get('recordId') ?? p.get('contactId') ?? '';
  const who = store.contact(recordId);
  return layout(store, { title: 'Log an activity', page: 'new-activity', section: 'activities', recordType: 'activity' }, html`
<div class="pagehead"><h1>Log an activity</h1></div>
<form class="card form" method="post" action="/activities">
  <label class="input"><span>Subject</span><input type="text" name="subject" id="activity-subject" value="${p.get('subject') ?? ''}"></label>
  <label class="input"><span>Regarding (record id)</span><input type="text" name="recordId" id="activity-record" value="${recordId}"></label>
  ${who ? html`<p class="sub">Contact: <a href="/contacts/${seg(who.id)}">${fullName(who)}</a></p>` : ''}
  <label class="input"><span>Notes</span><textarea name="body" id="activity-body" rows="5">${p.get('body') ?? ''}</textarea></label>
  <div class="form-actions"><button type="submit">Save activity</button></div>
</form>`);
}

function notFoundPage(store, path) {
  return layout(store, { title: 'Not found', page: 'not-found' }, html`
<section class="card empty"><h1>Not found</h1><p>Nothing lives at <code>${path}</code>.</p><p><a href="/">Back to the home page</a></p></section>`);
}

// ---------------------------------------------------------------------------------------------
// HTTP.

const TYPE_ROUTES = { contact: 'contacts', contacts: 'contacts', case: 'cases', cases: 'cases', chat: 'chats', chats: 'chats' };

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readFields(req) {
  const text = await readBody(req);
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') {
    let v;
    try {
      v = JSON.parse(text);
    } catch {
      throw Object.assign(new Error('malformed JSON'), { status: 400 });
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw Object.assign(new Error('expected a JSON object'), { status: 400 });
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' ? x : x == null ? '' : String(x)]));
  }
  return Object.fromEntries(new URLSearchParams(text));
}

export function createDemoCrm({ data }) {
  const store = new Store(data);
  const hits = [];
  const css = readFileSync(join(here, 'static', 'crm.css'));

  const server = http.createServer(async (req, res) => {
    const send = (status, body, type = 'text/html; charset=utf-8', extra = {}) => {
      res.writeHead(status, {
        'Content-Type': type,
        'Cache-Control': 'no-store',
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        ...extra,
      });
      res.end(req.method === 'HEAD' ? undefined : String(body));
    };
    const json = (status, value) => send(status, JSON.stringify(value), 'application/json; charset=utf-8');
    const redirect = (status, location) => send(status, '', 'text/plain; charset=utf-8', { Location: location });

    let url;
    try {
      url = new URL(req.url ?? '/', 'http://demo-crm.invalid');
    } catch {
      return json(400, { error: 'bad request target' });
    }
    const path = url.pathname;
    const p = url.searchParams;
    hits.push(path + url.search);
    if (hits.length > MAX_HITS) hits.shift();

    try {
      const get = req.method === 'GET' || req.method === 'HEAD';
      const post = req.method === 'POST';
      let m;

      if (get && path === '/healthz') return send(200, 'ok\n', 'text/plain; charset=utf-8');
      if (get && path === '/static/crm.css') return send(200, css, 'text/css; charset=utf-8');
      if (get && path === '/favicon.ico') return send(204, '', 'image/x-icon');
      if (get && path === '/api/hits') return json(200, { hits });
      if (get && path === '/') return send(200, homePage(store));

      if (get && path === '/search') {
        const phone = (p.get('phone') ?? '').trim();
        const email = (p.get('email') ?? '').trim();
        const q = (p.get('q') ?? '').trim();
        const label = phone || email || q;
        const found = label ? store.search(phone ? { phone } : email ? { email } : { q }) : [];
        if (found.length === 1) return redirect(302, `/contacts/${seg(found[0].id)}`);
        const isEmail = email || (q.includes('@') && !phone);
        const newLink = '/contacts/new?' + qs(isEmail ? { email: email || q } : /^[+0-9 ().-]+$/.test(label) ? { phone: label } : { lastName: label });
        return send(200, searchPage(store, label, found, newLink));
      }
      if (get && path === '/api/contacts') {
        const phone = (p.get('phone') ?? '').trim();
        const email = (p.get('email') ?? '').trim();
        const q = (p.get('q') ?? '').trim();
        const found = phone ? store.search({ phone }) : email ? store.search({ email }) : q ? store.search({ q }) : store.contacts;
        return json(200, { count: found.length, contacts: found });
      }

      if (get && path === '/contacts') return send(200, contactsPage(store));
      if (get && path === '/contacts/new') return send(200, newContactPage(store, p));
      if (post && path === '/contacts') {
        const f = await readFields(req);
        if (!(f.firstName || f.lastName)) return send(400, newContactPage(store, new URLSearchParams(f)));
        const c = store.addContact(f);
        return redirect(303, `/contacts/${seg(c.id)}`);
      }
      if (get && (m = /^\/contacts\/([^/]+)$/.exec(path))) {
        const c = store.contact(dec(m[1]));
        return c ? send(200, contactPage(store, c)) : send(404, notFoundPage(store, path));
      }
      if (get && path === '/cases') return send(200, casesPage(store));
      if (get && (m = /^\/cases\/([^/]+)$/.exec(path))) {
        const c = store.cases.find((x) => x.id === dec(m[1]));
        return c ? send(200, casePage(store, c)) : send(404, notFoundPage(store, path));
      }
      if (get && path === '/chats') return send(200, chatsPage(store));
      if (get && (m = /^\/chats\/([^/]+)$/.exec(path))) {
        const c = store.chats.find((x) => x.id === dec(m[1]));
        return c ? send(200, chatPage(store, c)) : send(404, notFoundPage(store, path));
      }
      if (get && (m = /^\/record\/([^/]+)\/([^/]+)$/.exec(path))) {
        const route = TYPE_ROUTES[String(dec(m[1])).toLowerCase()];
        if (!route) return send(404, notFoundPage(store, path));
        if (m[2] === 'new') {
          return route === 'contacts' ? redirect(302, `/contacts/new${url.search}`) : send(404, notFoundPage(store, path));
        }
        return redirect(302, `/${route}/${m[2]}`);
      }

      if (get && path === '/activities') return send(200, activitiesPage(store));
      if (get && path === '/activities/new') return send(200, newActivityPage(store, p));
      if (post && path === '/activities') {
        const f = await readFields(req);
        const a = store.addActivity({ subject: f.subject, body: f.body, recordId: f.recordId ?? f.contactId });
        const back = store.contact(a.recordId)
          ? `/contacts/${seg(a.recordId)}`
          : store.cases.some((c) => c.id === a.recordId)
            ? `/cases/${seg(a.recordId)}`
            : store.chats.some((c) => c.id === a.recordId)
              ? `/chats/${seg(a.recordId)}`
              : '/activities';
        return redirect(303, back);
      }
      if (get && path === '/api/activities') return json(200, { activities: store.activities });
      if (post && path === '/api/activities') {
        const f = await readFields(req);
        if (!f.subject) return json(400, { error: 'subject is required' });
        return json(201, { activity: store.addActivity({ subject: f.subject, body: f.body, recordId: f.recordId ?? f.contactId }) });
      }

      if (!get && !post) return send(405, 'method not allowed\n', 'text/plain; charset=utf-8', { Allow: 'GET, HEAD, POST' });
      if (path.startsWith('/api/')) return json(404, { error: 'not found' });
      return send(404, notFoundPage(store, path));
    } catch (e) {
      const status = e && typeof e.status === 'number' ? e.status : 500;
      if (!res.headersSent) return json(status, { error: status === 500 ? 'internal error' : e.message });
      res.destroy();
    }
  });
  return { server, store, hits };
}

// ---------------------------------------------------------------------------------------------
// Command line.

function parseArgs(argv) {
  const args = { port: 0, host: '127.0.0.1', data: join(here, 'data', 'crm.json') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--port') args.port = Number(value());
    else if (a.startsWith('--port=')) args.port = Number(a.slice(7));
    else if (a === '--host') args.host = value();
    else if (a === '--data') args.data = value();
    else if (a === '--help' || a === '-h') args.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new Error('--port must be 0..65535');
  return args;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`demo-crm: ${e.message}\nusage: node tools/demo-crm/server.mjs [--port N] [--host ADDR] [--data FILE]\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write('usage: node tools/demo-crm/server.mjs [--port N] [--host ADDR] [--data FILE]\n');
    return;
  }
  const { server } = createDemoCrm({ data: loadData(args.data) });
  server.on('error', (e) => {
    process.stderr.write(`demo-crm: ${e.message}\n`);
    process.exit(1);
  });
  server.listen(args.port, args.host, () => {
    process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
    process.stderr.write(`demo-crm: listening on http://${args.host}:${server.address().port}/\n`);
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
}
