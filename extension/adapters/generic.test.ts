import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAdapter } from './index.js';
import type { CrmSettings } from './types.js';
import { HOSTILE } from './test-support.js';

const DEMO: CrmSettings = {
  origin: 'http://127.0.0.1:8099',
  adapter: 'generic',
  templates: {
    search: '/search?q={{query}}',
    record: '/record/{{recordType}}/{{recordId}}',
    newRecord: '/record/{{recordType}}/new?{{fields}}',
    activity: '/activities/new?subject={{subject}}&body={{body}}&contactId={{recordId}}',
  },
};

const demo = () => createAdapter(DEMO);

test('generic: builds every URL from the templates', () => {
  const a = demo();
  assert.equal(a.id, 'generic');
  assert.equal(a.searchUrl({ phone: '+15551234567' }), 'http://127.0.0.1:8099/search?q=%2B15551234567');
  assert.equal(a.searchUrl({ email: 'ann@example.com' }), 'http://127.0.0.1:8099/search?q=ann%40example.com');
  assert.equal(a.recordUrl('contact', 'c-1001'), 'http://127.0.0.1:8099/record/contact/c-1001');
  assert.equal(
    a.newRecordUrl('contact', { phone: '+1 555', firstName: 'Ann' }),
    'http://127.0.0.1:8099/record/contact/new?phone=%2B1%20555&firstName=Ann',
  );
  assert.equal(
    a.logActivityUrl!({ subject: 'Call', body: 'Line 1\nLine 2', recordId: 'c-1' }),
    'http://127.0.0.1:8099/activities/new?subject=Call&body=Line%201%0ALine%202&contactId=c-1',
  );
  assert.equal(
    a.logActivityUrl!({ subject: 'Call', body: '' }),
    'http://127.0.0.1:8099/activities/new?subject=Call&body=&contactId=',
  );
});

test('generic: {{ani}}, {{phone}}, {{email}} and at least one value for a search', () => {
  const a = createAdapter({
    origin: 'https://crm.example.com/',
    adapter: 'generic',
    templates: { search: '/find?phone={{ani}}&p2={{phone}}&mail={{email}}' },
  });
  assert.equal(a.searchUrl({ phone: '123' }), 'https://crm.example.com/find?phone=123&p2=123&mail=');
  assert.equal(a.searchUrl({ email: 'x@y.z' }), 'https://crm.example.com/find?phone=&p2=&mail=x%40y.z');
  assert.equal(a.searchUrl({}), null);
  assert.equal(a.searchUrl({ phone: '  ' }), null);
  const phoneOnly = createAdapter({ origin: 'https://crm.example.com', adapter: 'generic', templates: { search: '/s?phone={{ani}}' } });
  assert.equal(phoneOnly.searchUrl({ email: 'x@y.z' }), null, 'no value for any placeholder the template uses');
  // Methods without a template give null.
  assert.equal(phoneOnly.recordUrl('contact', '1'), null);
  assert.equal(phoneOnly.newRecordUrl('contact', {}), null);
  assert.equal(phoneOnly.logActivityUrl!({ subject: 's', body: 'b' }), null);
});

test('generic: {{field.X}} placeholders, missing ones expand to empty in the query', () => {
  const a = createAdapter({
    origin: 'https://crm.example.com',
    adapter: 'generic',
    templates: { newRecord: '/new/{{recordType}}?first={{field.firstName}}&tel={{ field.phone }}' },
  });
  assert.equal(a.newRecordUrl('lead', { firstName: 'Zoë', phone: HOSTILE.amp }), 'https://crm.example.com/new/lead?first=Zo%C3%AB&tel=a%26b%3Dc');
  assert.equal(a.newRecordUrl('lead', {}), 'https://crm.example.com/new/lead?first=&tel=');
  assert.equal(a.newRecordUrl('', {}), null, 'an empty value in the path');
});

test('generic: hostile values are percent-encoded and never change the URL structure', () => {
  const a = demo();
  for (const [name, value] of Object.entries(HOSTILE)) {
    if (name === 'loneSurrogate') continue;
    const s = a.searchUrl({ phone: value });
    assert.ok(s, name);
    const u = new URL(s);
    assert.equal(u.origin, 'http://127.0.0.1:8099', name);
    assert.equal(u.pathname, '/search', name);
    assert.equal(u.hash, '', name);
    assert.deepEqual([...u.searchParams.keys()], ['q'], name);
    assert.equal(u.searchParams.get('q'), value, name);

    const n = a.newRecordUrl('contact', { [value]: value, phone: value });
    const nu = new URL(n!);
    assert.equal(nu.pathname, '/record/contact/new', name);
    assert.equal(nu.searchParams.get(value), value, name);
    assert.equal(nu.searchParams.get('phone'), value, name);
    assert.equal(nu.hash, '', name);
  }
  assert.equal(
    a.searchUrl({ phone: HOSTILE.unicode }),
    'http://127.0.0.1:8099/search?q=Zo%C3%AB%20%E6%9D%B1%E4%BA%AC%20%F0%9F%98%80',
  );
  assert.equal(a.searchUrl({ phone: "it's (me)!*" }), 'http://127.0.0.1:8099/search?q=it%27s%20%28me%29%21%2A');
});

test('generic: path values stay one segment; "." and ".." are refused', () => {
  const a = demo();
  assert.equal(a.recordUrl('contact', HOSTILE.slash), 'http://127.0.0.1:8099/record/contact/a%2Fb');
  assert.equal(a.recordUrl('contact', HOSTILE.traversal), 'http://127.0.0.1:8099/record/contact/..%2F..%2Fadmin');
  assert.equal(a.recordUrl('contact', HOSTILE.pctLiteral), 'http://127.0.0.1:8099/record/contact/%252e%252e');
  assert.equal(a.recordUrl('contact', HOSTILE.dots), null);
  assert.equal(a.recordUrl('contact', HOSTILE.dot), null);
  assert.equal(a.recordUrl(HOSTILE.dots, '1'), null);
  assert.equal(a.recordUrl('contact', ''), null);
  assert.equal(a.recordUrl('contact', HOSTILE.js), 'http://127.0.0.1:8099/record/contact/javascript%3Aalert%281%29');
  assert.equal(a.recordUrl('contact', HOSTILE.hash), 'http://127.0.0.1:8099/record/contact/x%23frag');
  assert.equal(a.recordUrl('contact', HOSTILE.loneSurrogate), null, 'not encodable as UTF-8');
});

test('generic: a template may name another http(s) origin; values cannot', () => {
  const a = createAdapter({
    origin: 'https://crm.example.com',
    adapter: 'generic',
    templates: { search: 'https://search.example.net:8443/q?n={{ani}}', record: '/r/{{recordId}}' },
  });
  assert.equal(a.searchUrl({ phone: '1' }), 'https://search.example.net:8443/q?n=1');
  assert.equal(a.searchUrl({ phone: '//evil.example/' }), 'https://search.example.net:8443/q?n=%2F%2Fevil.example%2F');
  assert.equal(a.recordUrl('x', '//evil.example'), 'https://crm.example.com/r/%2F%2Fevil.example');
  assert.equal(a.recordUrl('x', 'https://evil.example/'), 'https://crm.example.com/r/https%3A%2F%2Fevil.example%2F');
});

test('generic: bad templates and origins throw clear errors', () => {
  const make = (templates: CrmSettings['templates'], origin = 'https://crm.example.com') => () =>
    createAdapter({ origin, adapter: 'generic', templates });
  assert.throws(make({ search: 'javascript:alert({{ani}})' }), /http\(s\)/);
  assert.throws(make({ search: 'data:text/html,{{ani}}' }), /http\(s\)/);
  assert.throws(make({ search: '//evil.example/{{ani}}' }), /path starting with/);
  assert.throws(make({ search: 'search?q={{ani}}' }), /path starting with/);
  assert.throws(make({ search: 'https://{{ani}}.example.com/' }), /host has no placeholder/);
  assert.throws(make({ search: '/s?q={{nope}}' }), /unknown placeholder \{\{nope\}\}/);
  assert.throws(make({ search: '/s?q={{recordId}}' }), /unknown placeholder/);
  assert.throws(make({ record: '/r/{{field.x}}/{{recordId}}' }), /unknown placeholder/);
  assert.throws(make({ search: '/s?q={{ani}' }), /malformed placeholder/);
  assert.throws(make({ search: '/s?q={ani}}' }), /malformed placeholder/);
  assert.throws(make({ search: '/s' }), /needs \{\{ani\}\}/);
  assert.throws(make({ record: '/r/{{recordType}}' }), /needs \{\{recordId\}\}/);
  assert.throws(make({ newRecord: '/n/{{fields}}' }), /only appear after "\?"/);
  assert.throws(make({}), /at least one/);
  assert.throws(make({ search: '' }), /non-empty/);
  assert.throws(make({ search: '/s?q={{ani}}' }, 'ftp://crm.example.com'), /https: or http:/);
  assert.throws(make({ search: '/s?q={{ani}}' }, 'javascript:alert(1)'), /https: or http:/);
  assert.throws(make({ search: '/s?q={{ani}}' }, 'https://crm.example.com/app'), /without a path/);
  assert.throws(make({ search: '/s?q={{ani}}' }, 'https://u:p@crm.example.com'), /credentials/);
  assert.throws(make({ search: '/s?q={{ani}}' }, 'not a url'), /not a URL/);
});
