import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ADAPTER_KINDS, createAdapter, planPop } from './index.js';
import type { CrmSettings } from './types.js';

const ORIGINS: Record<string, CrmSettings> = {
  generic: { origin: 'http://127.0.0.1:9', adapter: 'generic', templates: { search: '/s?q={{query}}' } },
  salesforce: { origin: 'https://a.lightning.force.com', adapter: 'salesforce' },
  dynamics: { origin: 'https://a.crm.dynamics.com', adapter: 'dynamics' },
  zendesk: { origin: 'https://a.zendesk.com', adapter: 'zendesk' },
  servicenow: { origin: 'https://a.service-now.com', adapter: 'servicenow' },
  oracle: { origin: 'https://a.custhelp.com', adapter: 'oracle' },
  hubspot: { origin: 'https://app.hubspot.com', adapter: 'hubspot', options: { portalId: '1' } },
};

test('createAdapter: one adapter per kind, ids match', () => {
  for (const kind of ADAPTER_KINDS) {
    const a = createAdapter(ORIGINS[kind]!);
    assert.equal(a.id, kind);
    assert.equal(typeof a.searchUrl, 'function');
    assert.equal(typeof a.recordUrl, 'function');
    assert.equal(typeof a.newRecordUrl, 'function');
    if (a.mainWorld) {
      assert.equal(typeof a.mainWorld.run, 'function');
      for (const op of a.mainWorld.preferFor) assert.ok(a.mainWorld.ops.includes(op), `${kind}: ${op}`);
    }
  }
});

test('createAdapter: clear errors for unknown adapters and non-http(s) origins', () => {
  assert.throws(() => createAdapter({ origin: 'https://x', adapter: 'siebel' } as unknown as CrmSettings), /unknown adapter "siebel"; expected one of generic, salesforce/);
  assert.throws(() => createAdapter(null as unknown as CrmSettings), /must be an object/);
  for (const kind of ADAPTER_KINDS) {
    const base = ORIGINS[kind]!;
    for (const origin of ['file:///etc/passwd', 'javascript:alert(1)', 'chrome-extension://abcdef/', 'ws://127.0.0.1:1', 'data:,x']) {
      assert.throws(() => createAdapter({ ...base, origin }), /https: or http:/, `${kind} ${origin}`);
    }
    assert.throws(() => createAdapter({ ...base, origin: '' }), /non-empty/, kind);
    assert.throws(() => createAdapter({ ...base, origin: 'https://x/y' }), /without a path/, kind);
  }
});

test('createAdapter: origins are normalised; every URL stays on the origin', () => {
  const a = createAdapter({ origin: 'HTTPS://Acme.Zendesk.com:443/', adapter: 'zendesk' });
  assert.equal(a.origin, 'https://acme.zendesk.com');
  assert.equal(a.recordUrl('user', '1'), 'https://acme.zendesk.com/agent/users/1');
});

test('planPop: navigate, main world with fallback, unsupported', () => {
  const g = createAdapter(ORIGINS.generic!);
  assert.deepEqual(planPop(g, { op: 'search', query: { phone: '1' } }), { kind: 'navigate', url: 'http://127.0.0.1:9/s?q=1' });
  assert.equal(planPop(g, { op: 'record', recordType: 'contact', recordId: '1' }).kind, 'unsupported');
  const d = createAdapter(ORIGINS.dynamics!);
  const p = planPop(d, { op: 'search', query: {} });
  assert.deepEqual(p, { kind: 'mainWorld', request: { op: 'search', query: {} }, fallbackUrl: null });
  assert.equal(planPop(d, { op: 'bogus' } as never).kind, 'unsupported');
});
