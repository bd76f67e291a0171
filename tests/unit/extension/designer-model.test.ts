// The Experience Designer's pure parts: flow ⇄ canvas conversion, validation against
// docs/popflow.schema.json, edits (connect, rename, remove, prune), the host's diagnostics and
// dry-run traces.
import assert from 'node:assert/strict';
import {readFileSync, readdirSync} from 'node:fs';
import {join} from 'node:path';
import {test} from 'node:test';
import {KINDS, TRIGGERS, outcomesOf} from '../../../extension/designer/catalog';
import {
  NEXT, TRIGGER_ID, connect, docToFlow, emptyDoc, flowToDoc, freshId, hostDiagnostics, pruneEdges, removeItems,
  renameNode, validateFlow, type Doc,
} from '../../../extension/designer/model';
import {describeAction, edgeTaken, readTrace} from '../../../extension/designer/trace';

const VIP = {
  schema: 'omnibridge.popflow/1',
  name: 'VIP pop',
  trigger: {event: 'interaction.offered', filter: "interaction.channel == 'voice'"},
  start: 'isVip',
  nodes: [
    {id: 'isVip', kind: 'if', condition: "interaction.queue == 'vip'", branches: {true: 'search', false: 'toast'}},
    {id: 'search', kind: 'crmSearch', field: 'phone', value: '{{ interaction.ani }}', branches: {one: 'pop', many: 'list', none: 'create'}},
    {id: 'pop', kind: 'screenPop', target: 'record', recordType: 'Contact', recordId: '{{ nodes.search.id }}'},
    {id: 'list', kind: 'screenPop', target: 'search', query: '{{ interaction.ani }}'},
    {id: 'create', kind: 'screenPop', target: 'newRecord', recordType: 'Contact', fields: {Phone: "{{ e164(interaction.ani, '1') }}"}},
    {id: 'toast', kind: 'toast', title: 'Incoming call', message: '{{ coalesce(interaction.callerName, interaction.ani) }} in {{ interaction.queue }}'},
  ],
};

/** The flow without designer positions (ui), for comparisons. */
function stripUi(flow: Record<string, unknown>): Record<string, unknown> {
  const {ui: _ui, ...rest} = flow;
  return {...rest, nodes: (rest.nodes as Array<Record<string, unknown>>).map(({ui: _u, ...n}) => n)};
}

test('catalog: every node kind and trigger of the schema is offered', () => {
  const schema = JSON.parse(readFileSync('docs/popflow.schema.json', 'utf8'));
  const kinds = schema.$defs.node.oneOf.map((r: {$ref: string}) => schema.$defs[r.$ref.split('/').pop()!].properties.kind.const);
  assert.deepEqual(KINDS.map((k) => k.kind).sort(), [...kinds].sort());
  assert.deepEqual([...TRIGGERS], schema.properties.trigger.properties.event.enum);
  assert.deepEqual(outcomesOf('if', {}), ['true', 'false']);
  assert.deepEqual(outcomesOf('crmSearch', {}), ['none', 'one', 'many', 'error']);
  assert.deepEqual(outcomesOf('toast', {buttons: [{id: 'yes', label: 'Yes'}]}), ['yes', 'timeout']);
  assert.deepEqual(outcomesOf('switch', {}, ['vip', 'gold']), ['vip', 'gold']);
  assert.equal(KINDS.find((k) => k.kind === 'end')!.hasNext, false);
});

test('flow → canvas → flow keeps the flow (round trip)', () => {
  const doc = flowToDoc(VIP);
  assert.equal(doc.nodes.length, 7);  // trigger + 6
  assert.equal(doc.nodes[0]!.id, TRIGGER_ID);
  assert.ok(doc.edges.some((e) => e.source === TRIGGER_ID && e.target === 'isVip'));
  assert.ok(doc.edges.some((e) => e.source === 'isVip' && e.sourceHandle === 'true' && e.target === 'search'));
  const back = docToFlow(doc);
  assert.deepEqual(stripUi(back), VIP);
  // positions are kept in ui and read back
  const moved: Doc = {...doc, nodes: doc.nodes.map((n) => (n.id === 'pop' ? {...n, position: {x: 1234.4, y: -5}} : n))};
  const flow2 = docToFlow(moved);
  assert.deepEqual((flow2.nodes as Array<Record<string, unknown>>).find((n) => n.id === 'pop')!.ui, {x: 1234, y: -5});
  assert.deepEqual(flowToDoc(flow2).nodes.find((n) => n.id === 'pop')!.position, {x: 1234, y: -5});
  assert.deepEqual(validateFlow(back), []);
});

test('next and branches: the "next" handle is next, others are branches', () => {
  let doc = emptyDoc('n');
  doc = {...doc, nodes: [...doc.nodes,
    {id: 'a', type: 'step', position: {x: 0, y: 0}, data: {kind: 'switch', props: {value: 'interaction.queue'}}},
    {id: 'b', type: 'step', position: {x: 0, y: 0}, data: {kind: 'end', props: {}}},
    {id: 'c', type: 'step', position: {x: 0, y: 0}, data: {kind: 'end', props: {}}}]};
  doc = connect(doc, TRIGGER_ID, NEXT, 'a');
  doc = connect(doc, 'a', 'vip', 'b');
  doc = connect(doc, 'a', NEXT, 'c');
  doc = connect(doc, 'a', NEXT, 'b');  // replaces the previous next edge
  doc = connect(doc, 'a', NEXT, 'a');  // no self-loop
  doc = connect(doc, 'b', NEXT, TRIGGER_ID);  // nothing goes into the trigger
  const flow = docToFlow(doc);
  assert.equal(flow.start, 'a');
  const a = (flow.nodes as Array<Record<string, unknown>>)[0]!;
  assert.equal(a.next, 'b');
  assert.deepEqual(a.branches, {vip: 'b'});
  // c is unreachable: a warning, not an error
  const d = validateFlow(flow);
  assert.deepEqual(d.map((x) => [x.node, x.severity]), [['c', 'warning']]);
});

test('validation names the node and the field', () => {
  const flow = structuredClone(VIP) as typeof VIP & {nodes: Array<Record<string, unknown>>};
  delete flow.nodes[0]!.condition;                       // required
  flow.nodes[1]!.field = 'fax';                          // enum
  flow.nodes[2]!.query = 'x';                            // not used with target record
  flow.nodes[3]!.bogus = 1;                              // unknown field
  flow.nodes[5]!.id = 'isVip';                           // duplicate id
  (flow.trigger as Record<string, unknown>).name = 'n';  // name only for connect/button triggers
  flow.nodes.push({id: '9bad', kind: 'delay', seconds: 99});
  const d = validateFlow(flow);
  const has = (node: string, field: string | undefined, re: RegExp) =>
    assert.ok(d.some((x) => x.node === node && x.field === field && re.test(x.message)), `${node}.${field} ${re} in ${JSON.stringify(d, null, 1)}`);
  has('isVip', 'condition', /required/);
  has('search', 'field', /one of "phone", "email", "name", "id"/);
  has('pop', 'query', /not used/);
  has('list', 'bogus', /not a field/);
  has('isVip', 'id', /used by another node/);
  has(TRIGGER_ID, 'name', /not used/);
  has('9bad', 'id', /not valid/);
  has('9bad', 'seconds', /at most 60/);
  assert.ok(d.every((x) => x.source === 'designer'));
});

test('validation: a flow needs a name, a connected trigger and existing targets', () => {
  const doc = emptyDoc('');
  const d = validateFlow(docToFlow(doc));
  assert.ok(d.some((x) => x.field === 'name' && x.severity === 'error'));
  assert.ok(d.some((x) => x.node === TRIGGER_ID && x.field === 'start'));
  assert.ok(d.some((x) => /at least one node/.test(x.message)));
  const bad = {...structuredClone(VIP), start: 'nope'};
  (bad.nodes[0] as Record<string, unknown>).branches = {true: 'ghost', maybe: 'toast'};
  const d2 = validateFlow(bad);
  assert.ok(d2.some((x) => x.node === TRIGGER_ID && /'nope' does not exist/.test(x.message)));
  assert.ok(d2.some((x) => x.node === 'isVip' && /'ghost'/.test(x.message)));
  assert.ok(d2.some((x) => x.node === 'isVip' && x.field === 'branches'));
  const connectEvent = {...structuredClone(VIP), trigger: {event: 'connect.event'}};
  assert.ok(validateFlow(connectEvent).some((x) => x.node === TRIGGER_ID && x.field === 'name' && /required/.test(x.message)));
});

test('the host\'s example flows: valid ones pass, schema-invalid ones are caught, all round-trip', () => {
  const base = 'tests/unit/popflow/flows';
  const read = (sub: string) => readdirSync(join(base, sub)).filter((f) => f.endsWith('.json'))
      .map((f) => [`${sub}/${f}`, JSON.parse(readFileSync(join(base, sub, f), 'utf8'))] as const);
  const valid = read('valid');
  assert.ok(valid.length > 0);
  for (const [name, flow] of valid) {
    const back = docToFlow(flowToDoc(flow));
    assert.deepEqual(stripUi(back), stripUi(flow), `${name} round trip`);
    assert.deepEqual(validateFlow(back).filter((d) => d.severity === 'error'), [], name);
  }
  // invalid/ holds flows the schema refuses (semantic/ needs the host: expressions, …)
  for (const [name, flow] of read('invalid')) {
    if (typeof flow !== 'object' || flow === null || Array.isArray(flow) || !Array.isArray(flow.nodes)) continue;
    assert.ok(validateFlow(flow).some((d) => d.severity === 'error'), `${name} should have an error`);
  }
});

test('edits: rename rewrites edges, remove drops edges, prune drops dead outcomes', () => {
  let doc = flowToDoc(VIP);
  assert.equal(renameNode(doc, 'search', 'pop'), null);      // taken
  assert.equal(renameNode(doc, 'search', '1x'), null);       // invalid
  doc = renameNode(doc, 'search', 'lookup')!;
  assert.ok(doc.edges.some((e) => e.source === 'isVip' && e.target === 'lookup'));
  assert.ok(doc.edges.some((e) => e.source === 'lookup' && e.sourceHandle === 'one' && e.id === 'e:lookup:one'));
  const removed = removeItems(doc, ['lookup', TRIGGER_ID]);
  assert.ok(removed.nodes.some((n) => n.id === TRIGGER_ID), 'the trigger is never removed');
  assert.ok(!removed.edges.some((e) => e.source === 'lookup' || e.target === 'lookup'));
  // a toast's button outcome disappears with the button
  let t = emptyDoc();
  t = {...t, nodes: [...t.nodes,
    {id: 'ask', type: 'step', position: {x: 0, y: 0}, data: {kind: 'toast', props: {message: 'm', buttons: [{id: 'yes', label: 'Yes'}]}}},
    {id: 'b', type: 'step', position: {x: 0, y: 0}, data: {kind: 'end', props: {}}}]};
  t = connect(connect(t, 'ask', 'yes', 'b'), 'ask', NEXT, 'b');
  t = {...t, nodes: t.nodes.map((n) => (n.id === 'ask' ? {...n, data: {kind: 'toast', props: {message: 'm'}}} : n))};
  assert.deepEqual(pruneEdges(t).edges.map((e) => e.sourceHandle), [NEXT]);
  assert.equal(freshId(flowToDoc(VIP), 'toast'), 'toast1');
});

test('import is tolerant of drafts but refuses what is not a flow', () => {
  assert.throws(() => flowToDoc('x'));
  assert.throws(() => flowToDoc({nodes: 3}));
  const doc = flowToDoc({nodes: [{kind: 'end'}, 7]});
  assert.equal(doc.nodes[1]!.id, 'node1');
  // labels are data, kept as text
  const evil = flowToDoc({...VIP, nodes: [{...VIP.nodes[5], label: '<img src=x onerror=alert(1)>'}]});
  assert.equal((evil.nodes[1]!.data as {label: string}).label, '<img src=x onerror=alert(1)>');
});

test('host diagnostics map onto nodes and fields', () => {
  const d = hostDiagnostics([
    {node: 'isVip', field: 'condition', column: 19, message: "'=' is not an operator here", severity: 'error'},
    {field: 'trigger.filter', column: 3, message: 'bad filter', severity: 'error'},
    {node: 'x', message: 'unreachable', severity: 'warning'},
    'junk', {nope: 1},
  ]);
  assert.deepEqual(d, [
    {node: 'isVip', field: 'condition', column: 19, message: "'=' is not an operator here", severity: 'error', source: 'host'},
    {node: TRIGGER_ID, field: 'filter', column: 3, message: 'bad filter', severity: 'error', source: 'host'},
    {node: 'x', message: 'unreachable', severity: 'warning', source: 'host'},
  ]);
  assert.deepEqual(hostDiagnostics(undefined), []);
});

test('trace: steps per node, edges taken, actions as text', () => {
  const view = readTrace({
    flow: 'VIP pop', triggered: true, completed: true,
    steps: [
      {step: 1, node: 'isVip', kind: 'if', outcome: 'true', next: 'search'},
      {step: 2, node: 'search', kind: 'crmSearch', effect: {kind: 'crmSearch', field: 'phone', value: '+1555'}, outcome: 'one', next: 'pop'},
      {step: 3, node: 'pop', kind: 'screenPop', effect: {kind: 'screenPop', target: 'record', recordType: 'Contact', recordId: '1001'}, next: null},
      'junk',
    ],
    actions: [{kind: 'crmSearch', field: 'phone', value: '+1555'}, {kind: 'screenPop', target: 'record', recordType: 'Contact', recordId: '1001'}],
  })!;
  assert.equal(view.steps.length, 3);
  assert.equal(view.byNode.get('pop')![0]!.step, 3);
  const doc = flowToDoc(VIP);
  const taken = doc.edges.filter((e) => edgeTaken(view, e)).map((e) => `${e.source}:${e.sourceHandle}`);
  assert.deepEqual(taken.sort(), ['isVip:true', 'search:one']);
  assert.equal(describeAction(view.actions[1]!), 'screenPop record Contact 1001');
  assert.equal(describeAction({kind: 'toast', title: 'T', message: '<b>x</b>'}), 'toast "T" "<b>x</b>"');
  assert.equal(readTrace(null), null);
});

test('fields that do not apply to the chosen target/op/method are known', async () => {
  const {fieldApplies} = await import('../../../extension/designer/catalog');
  const spec = (kind: string, name: string) => KINDS.find((k) => k.kind === kind)!.fields.find((f) => f.name === name)!;
  assert.equal(fieldApplies('screenPop', {target: 'record'}, spec('screenPop', 'recordId')), true);
  assert.equal(fieldApplies('screenPop', {target: 'record'}, spec('screenPop', 'query')), false);
  assert.equal(fieldApplies('screenPop', {target: 'search'}, spec('screenPop', 'query')), true);
  assert.equal(fieldApplies('screenPop', {target: 'search'}, spec('screenPop', 'recordType')), false);
  assert.equal(fieldApplies('format', {op: 'e164'}, spec('format', 'country')), true);
  assert.equal(fieldApplies('format', {op: 'join'}, spec('format', 'country')), false);
  assert.equal(fieldApplies('httpRequest', {method: 'GET'}, spec('httpRequest', 'body')), false);
  assert.equal(fieldApplies('httpRequest', {method: 'POST'}, spec('httpRequest', 'body')), true);
  assert.equal(fieldApplies('logActivity', {}, spec('logActivity', 'url')), false);
  assert.equal(fieldApplies('logActivity', {via: 'http'}, spec('logActivity', 'url')), true);
});
