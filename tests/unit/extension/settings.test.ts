import assert from 'node:assert/strict';
import {readFileSync, readdirSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {test} from 'node:test';
import {enterpriseLayer, mergeSettings, normalizeOrigin} from '../../../extension/src/shared/settings';

test('normalizeOrigin keeps scheme, host and port only; refuses other schemes and credentials', () => {
  assert.equal(normalizeOrigin('https://Crm.Example.com/path?q=1'), 'https://crm.example.com');
  assert.equal(normalizeOrigin(' http://127.0.0.1:8080/ '), 'http://127.0.0.1:8080');
  assert.equal(normalizeOrigin('https://crm.example.com:443/'), 'https://crm.example.com');
  for (const bad of ['javascript:alert(1)', 'ftp://x/', 'https://u:p@crm.example.com/', 'crm.example.com', '']) {
    assert.equal(normalizeOrigin(bad), null, bad);
  }
});

test('managed values override local ones and are listed as enforced', () => {
  const s = mergeSettings(
      {crm: [{origin: 'https://local.example.com', adapter: 'generic'}], hostName: 'org.local.host', reasonCodes: ['Local']},
      {crm: [{origin: 'https://acme.my.salesforce.com/', adapter: 'salesforce'}, {origin: 'nonsense'}, {origin: 'https://x.example', adapter: 'unknown'}],
        reasonCodes: ['Break', 7, 'Lunch'], cti: {driver: 'ami', ami: {host: 'pbx', port: 5038}}});
  assert.deepEqual(s.crm, [{origin: 'https://acme.my.salesforce.com', adapter: 'salesforce'}]);
  assert.equal(s.hostName, 'org.local.host');
  assert.deepEqual(s.reasonCodes, ['Break', 'Lunch']);
  assert.deepEqual(s.enforced.sort(), ['crm', 'cti', 'reasonCodes']);
});

test('defaults, and the enterprise layer carries only managed cti and reasonCodes', () => {
  const s = mergeSettings({}, {});
  assert.equal(s.hostName, 'org.omnibridge.host');
  assert.deepEqual(s.crm, []);
  assert.deepEqual(enterpriseLayer({cti: {driver: 'ami'}, reasonCodes: ['Break'], crm: [], hostName: 'x', secret: 's'}),
      {cti: {driver: 'ami'}, reasonCodes: ['Break']});
});

test('the extension never turns strings into HTML (no HTML sinks in extension/src)', () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(p);
    }
  };
  walk(join(process.cwd(), 'extension/src'));
  assert.ok(files.length > 5, 'found the sources (run from the repository root)');
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    assert.doesNotMatch(text, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser/, f);
  }
});
