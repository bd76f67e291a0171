// A tiny CRM for the e2e tests when tools/demo-crm is not there: contacts with phone numbers, a
// search page (a single hit redirects to the record, as CRMs do for an exact phone match) and
// record pages. Listens on 127.0.0.1, port 0.
import {createServer} from 'node:http';

export const CONTACTS = [
  {id: '1001', name: 'Alice Example', phone: '+15551234', email: 'alice@example.com'},
  {id: '1002', name: 'Bob Sample', phone: '+15555678', email: 'bob@example.com'},
  {id: '1003', name: 'Carol Test', phone: '+15550000', email: 'carol@example.com'},
];

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)} · Demo CRM</title>
<style>body{font:15px system-ui,sans-serif;margin:0;background:#f5f7fa;color:#1d2733}
header{background:#0b5cad;color:#fff;padding:12px 20px;font-weight:600}main{padding:20px;max-width:820px}
table{border-collapse:collapse;width:100%;background:#fff}td,th{padding:8px;border-bottom:1px solid #e3e8ee;text-align:left}
.card{background:#fff;padding:16px 20px;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.1)}</style></head>
<body><header>Demo CRM</header><main>${body}</main></body></html>`;

const digits = (s) => String(s ?? '').replace(/[^0-9]/g, '');

export function startCrmFixture() {
  const hits = [];
  /** performance.timeOrigin + performance.now() of each hit, parallel to `hits`. */
  const hitTimes = [];
  const server = createServer((req, res) => {
    // (hits: every path requested, for the tests; hitTimes: when, for the benchmark)
    const url = new URL(req.url, 'http://x');
    hits.push(url.pathname + url.search);
    hitTimes.push(performance.timeOrigin + performance.now());
    const send = (code, html, headers = {}) => {
      res.writeHead(code, {'content-type': 'text/html; charset=utf-8', ...headers});
      res.end(html);
    };
    if (url.pathname === '/') {
      const rows = CONTACTS.map((c) => `<tr><td><a href="/contacts/${c.id}">${esc(c.name)}</a></td><td>${esc(c.phone)}</td></tr>`).join('');
      return send(200, page('Contacts', `<h1>Contacts</h1><table>${rows}</table>`));
    }
    if (url.pathname === '/search') {
      const phone = digits(url.searchParams.get('phone'));
      const email = (url.searchParams.get('email') ?? '').toLowerCase();
      const found = CONTACTS.filter((c) => (phone && digits(c.phone) === phone) || (email && c.email === email));
      if (found.length === 1) return send(302, '', {location: `/contacts/${found[0].id}`});
      const rows = found.map((c) => `<tr><td><a href="/contacts/${c.id}">${esc(c.name)}</a></td></tr>`).join('');
      return send(200, page('Search', `<h1 id="search-title">Search results (${found.length})</h1><table>${rows}</table>`));
    }
    const m = /^\/contacts\/([0-9]+)$/.exec(url.pathname);
    if (m) {
      const c = CONTACTS.find((x) => x.id === m[1]);
      if (!c) return send(404, page('Not found', '<h1>Not found</h1>'));
      return send(200, page(c.name, `<div class="card" data-record-id="${c.id}"><h1 id="record-name">${esc(c.name)}</h1>
        <p>Phone <span id="record-phone">${esc(c.phone)}</span></p><p>E-mail ${esc(c.email)}</p>
        <label>Notes <textarea name="notes"></textarea></label></div>`));
    }
    send(404, page('Not found', '<h1>Not found</h1>'));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address();
      resolve({
        origin: `http://127.0.0.1:${port}`,
        kind: 'fixture',
        hitList: hits,
        hits: async () => [...hits],
        hitTimes,
        templates: {search: '/search?phone={{ani}}', record: '/contacts/{{recordId}}', newRecord: '/contacts/new?{{fields}}'},
        close: () => new Promise((r) => {
          server.closeAllConnections?.();
          server.close(() => r());
        }),
      });
    });
  });
}
