// The designer's document and its conversion to and from the flow JSON (omnibridge.popflow/1).
// Pure: no React, no chrome.* — unit-tested in tests/unit/extension/designer-model.test.ts.
//
// On the canvas a flow is: one trigger node (id TRIGGER_ID, which no flow node id can be: ids
// start with a letter), one step node per flow node, and edges. An edge's sourceHandle is the
// outcome it stands for: "next" for the node's `next`, anything else for `branches[<handle>]`; the
// trigger's edge is the flow's `start`.
import {COMMON_NODE_FIELDS, KIND_BY_NAME, SCHEMA, SCHEMA_ID, checker, outcomesOf} from './catalog';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const TRIGGER_ID = '__trigger';
export const NEXT = 'next';

export interface XY {
  x: number;
  y: number;
}

export interface TriggerData {
  event: string;
  name?: string;
  filter?: string;
}

export interface StepData {
  kind: string;
  label?: string;
  /** The node's own fields (everything but id, kind, label, ui, next, branches). */
  props: Obj;
}

export interface DocNode {
  id: string;
  type: 'trigger' | 'step';
  position: XY;
  data: TriggerData | StepData;
}

export interface DocEdge {
  id: string;
  source: string;
  sourceHandle: string;
  target: string;
}

export interface FlowMeta {
  name: string;
  description?: string;
}

export interface Doc {
  meta: FlowMeta;
  nodes: DocNode[];
  edges: DocEdge[];
}

export function edgeId(source: string, handle: string): string {
  // One edge per (source, outcome): connecting an outcome again replaces its edge.
  return `e:${source}:${handle}`;
}

export function isStep(n: DocNode): n is DocNode & {data: StepData} {
  return n.type === 'step';
}

export function triggerOf(doc: Doc): TriggerData {
  const t = doc.nodes.find((n) => n.id === TRIGGER_ID);
  return (t?.data as TriggerData | undefined) ?? {event: 'interaction.offered'};
}

export function emptyDoc(name = 'New flow'): Doc {
  return {
    meta: {name},
    nodes: [{id: TRIGGER_ID, type: 'trigger', position: {x: 40, y: 160}, data: {event: 'interaction.offered'}}],
    edges: [],
  };
}

/** A fresh node id for `kind` that the document does not use yet (kind1, kind2, …). */
export function freshId(doc: Doc, kind: string): string {
  const used = new Set(doc.nodes.map((n) => n.id));
  for (let i = 1; ; ++i) {
    const id = `${kind}${i}`;
    if (!used.has(id)) return id;
  }
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Simple layered layout for flows without positions: breadth-first from the start node. */
function layout(flow: Obj, ids: string[]): Map<string, XY> {
  const nodes = (flow.nodes as Obj[]).filter(isObj);
  const byId = new Map(nodes.map((n) => [String(n.id), n]));
  const depth = new Map<string, number>();
  const queue: string[] = [];
  if (typeof flow.start === 'string' && byId.has(flow.start)) {
    depth.set(flow.start, 0);
    queue.push(flow.start);
  }
  while (queue.length) {
    const id = queue.shift()!;
    const n = byId.get(id)!;
    const targets = [...(isObj(n.branches) ? Object.values(n.branches) : []), n.next];
    for (const t of targets) {
      if (typeof t === 'string' && byId.has(t) && !depth.has(t)) {
        depth.set(t, depth.get(id)! + 1);
        queue.push(t);
      }
    }
  }
  let maxDepth = 0;
  for (const d of depth.values()) maxDepth = Math.max(maxDepth, d);
  const rows = new Map<number, number>();
  const out = new Map<string, XY>();
  for (const id of ids) {
    const d = depth.get(id) ?? maxDepth + 1;
    const row = rows.get(d) ?? 0;
    rows.set(d, row + 1);
    out.set(id, {x: 300 + d * 260, y: 60 + row * 140});
  }
  return out;
}

/**
 * Flow JSON → designer document. Tolerant (a draft may be invalid): anything it cannot place is
 * kept where the validator will name it; throws only when `flow` is not a flow-shaped object.
 */
export function flowToDoc(flow: unknown): Doc {
  if (!isObj(flow)) throw new Error('a flow is a JSON object');
  if (!Array.isArray(flow.nodes)) throw new Error('a flow has a "nodes" list');
  const raw = flow.nodes.filter(isObj);
  const ids = raw.map((n, i) => (typeof n.id === 'string' && n.id ? n.id : `node${i + 1}`));
  const auto = layout(flow, ids);
  const trig = isObj(flow.trigger) ? flow.trigger : {};
  const trigger: TriggerData = {event: typeof trig.event === 'string' ? trig.event : 'interaction.offered'};
  if (typeof trig.name === 'string') trigger.name = trig.name;
  if (typeof trig.filter === 'string') trigger.filter = trig.filter;
  const flowUi = isObj(flow.ui) ? flow.ui : {};
  const tpos = isObj(flowUi.trigger) ? flowUi.trigger : {};
  const nodes: DocNode[] = [{
    id: TRIGGER_ID, type: 'trigger', data: trigger,
    position: {x: num(tpos.x) ?? 40, y: num(tpos.y) ?? 60},
  }];
  const edges: DocEdge[] = [];
  raw.forEach((n, i) => {
    const id = ids[i]!;
    const ui = isObj(n.ui) ? n.ui : {};
    const props: Obj = {};
    for (const [k, v] of Object.entries(n)) if (!COMMON_NODE_FIELDS.has(k)) props[k] = v;
    const data: StepData = {kind: typeof n.kind === 'string' ? n.kind : 'end', props};
    if (typeof n.label === 'string') data.label = n.label;
    const p = auto.get(id)!;
    nodes.push({id, type: 'step', data, position: {x: num(ui.x) ?? p.x, y: num(ui.y) ?? p.y}});
    if (isObj(n.branches)) {
      for (const [outcome, target] of Object.entries(n.branches)) {
        if (typeof target === 'string') edges.push({id: edgeId(id, outcome), source: id, sourceHandle: outcome, target});
      }
    }
    if (typeof n.next === 'string') edges.push({id: edgeId(id, NEXT), source: id, sourceHandle: NEXT, target: n.next});
  });
  if (typeof flow.start === 'string' && flow.start) {
    edges.unshift({id: edgeId(TRIGGER_ID, NEXT), source: TRIGGER_ID, sourceHandle: NEXT, target: flow.start});
  }
  const meta: FlowMeta = {name: typeof flow.name === 'string' ? flow.name : ''};
  if (typeof flow.description === 'string') meta.description = flow.description;
  return {meta, nodes, edges};
}

const round = (v: number) => Math.round(v);

/** Designer document → flow JSON, in the order the host documents (fields, then edges, then ui). */
export function docToFlow(doc: Doc): Obj {
  const trigger = triggerOf(doc);
  const trig: Obj = {event: trigger.event};
  if (trigger.name !== undefined && trigger.name !== '') trig.name = trigger.name;
  if (trigger.filter !== undefined && trigger.filter.trim() !== '') trig.filter = trigger.filter;
  const start = doc.edges.find((e) => e.source === TRIGGER_ID)?.target ?? '';
  const triggerNode = doc.nodes.find((n) => n.id === TRIGGER_ID);
  const flow: Obj = {schema: SCHEMA_ID, name: doc.meta.name};
  if (doc.meta.description) flow.description = doc.meta.description;
  flow.trigger = trig;
  flow.start = start;
  flow.nodes = doc.nodes.filter(isStep).map((n) => {
    const out: Obj = {id: n.id, kind: n.data.kind};
    if (n.data.label) out.label = n.data.label;
    for (const [k, v] of Object.entries(n.data.props)) if (v !== undefined) out[k] = v;
    const branches: Obj = {};
    for (const e of doc.edges) {
      if (e.source !== n.id) continue;
      if (e.sourceHandle === NEXT) out.next = e.target;
      else branches[e.sourceHandle] = e.target;
    }
    if (Object.keys(branches).length) out.branches = branches;
    out.ui = {x: round(n.position.x), y: round(n.position.y)};
    return out;
  });
  if (triggerNode) flow.ui = {trigger: {x: round(triggerNode.position.x), y: round(triggerNode.position.y)}};
  return flow;
}

// ---- validation --------------------------------------------------------------------------------

export interface Diagnostic {
  /** Node id; absent for the flow itself, TRIGGER_ID for the trigger. */
  node?: string;
  field?: string;
  column?: number;
  message: string;
  severity: 'error' | 'warning';
  source: 'designer' | 'host';
}

/**
 * Checks a flow as the designer can: the JSON Schema (each node against its kind's definition, so
 * messages name the field), ids, references and reachability. Expression syntax is the host's job
 * (its diagnostics come back from draft saves and tests, see hostDiagnostics).
 */
export function validateFlow(flow: Obj): Diagnostic[] {
  const out: Diagnostic[] = [];
  const add = (d: Omit<Diagnostic, 'source' | 'severity'> & {severity?: Diagnostic['severity']}) =>
    out.push({severity: 'error', source: 'designer', ...d});

  // The flow without its nodes: top-level and trigger problems.
  const props = SCHEMA.properties as Obj;
  for (const key of ['schema', 'name', 'description'] as const) {
    if (flow[key] === undefined) {
      if ((SCHEMA.required as string[]).includes(key)) add({field: key, message: `${key} is required`});
      continue;
    }
    for (const p of checker.check(flow[key], props[key] as Obj)) add({field: key, message: `${key} ${p.message}`});
  }
  if (isObj(flow.trigger)) {
    for (const p of checker.check(flow.trigger, props.trigger as Obj)) {
      const field = typeof p.path[0] === 'string' ? p.path[0] : 'event';
      add({node: TRIGGER_ID, field, message: `${field} ${p.message}`});
    }
  } else {
    add({node: TRIGGER_ID, field: 'event', message: 'the flow needs a trigger'});
  }

  const nodes = Array.isArray(flow.nodes) ? flow.nodes.filter(isObj) : [];
  if (nodes.length === 0) add({message: 'add at least one node after the trigger'});
  if (nodes.length > 500) add({message: 'a flow has at most 500 nodes'});

  const ids = new Set<string>();
  for (const n of nodes) {
    const id = String(n.id ?? '');
    if (ids.has(id)) add({node: id, field: 'id', message: `the id '${id}' is used by another node`});
    ids.add(id);
    const spec = KIND_BY_NAME.get(String(n.kind));
    if (!spec) {
      add({node: id, field: 'kind', message: `'${String(n.kind)}' is not a node kind`});
      continue;
    }
    const seen = new Set<string>();
    for (const p of checker.check(n, checker.resolve(`#/$defs/${spec.def}`))) {
      const field = typeof p.path[0] === 'string' ? p.path[0] : undefined;
      const where = p.path.length > 1 ? p.path.slice(1).join('.') : '';
      const message = field ? `${field}${where ? ` (${where})` : ''} ${p.message}` : p.message;
      if (seen.has(message)) continue;
      seen.add(message);
      add({node: id, ...(field ? {field} : {}), message});
    }
  }

  // References and reachability.
  if (typeof flow.start !== 'string' || flow.start === '') {
    add({node: TRIGGER_ID, field: 'start', message: 'connect the trigger to the first node'});
  } else if (!ids.has(flow.start)) {
    add({node: TRIGGER_ID, field: 'start', message: `the start node '${flow.start}' does not exist`});
  }
  const edgesOf = (n: Obj): Array<[string, unknown]> => [
    ...(isObj(n.branches) ? Object.entries(n.branches) : []),
    ...(n.next !== undefined ? [[NEXT, n.next] as [string, unknown]] : []),
  ];
  for (const n of nodes) {
    const id = String(n.id ?? '');
    for (const [outcome, target] of edgesOf(n)) {
      if (typeof target === 'string' && !ids.has(target)) {
        add({node: id, field: outcome === NEXT ? 'next' : 'branches', message: `${outcome} goes to '${target}', which does not exist`});
      }
    }
    // A branch whose outcome the node can never produce (e.g. a deleted toast button).
    const outcomes = outcomesOf(String(n.kind), n, isObj(n.branches) ? Object.keys(n.branches) : []);
    if (isObj(n.branches) && !KIND_BY_NAME.get(String(n.kind))?.dynamicOutcomes) {
      for (const b of Object.keys(n.branches)) {
        if (!outcomes.includes(b)) add({node: id, field: 'branches', message: `'${b}' is not an outcome of this node`});
      }
    }
  }
  const reach = new Set<string>();
  const byId = new Map(nodes.map((n) => [String(n.id ?? ''), n]));
  const stack = typeof flow.start === 'string' && byId.has(flow.start) ? [flow.start] : [];
  while (stack.length) {
    const id = stack.pop()!;
    if (reach.has(id)) continue;
    reach.add(id);
    for (const [, t] of edgesOf(byId.get(id)!)) if (typeof t === 'string' && byId.has(t)) stack.push(t);
  }
  for (const id of ids) {
    if (!reach.has(id)) {
      add({node: id, message: 'no path from the trigger reaches this node', severity: 'warning'});
    }
  }
  return out;
}

/** The host's diagnostics ({node, field, column?, message, severity}) in the designer's form. */
export function hostDiagnostics(list: unknown): Diagnostic[] {
  if (!Array.isArray(list)) return [];
  const out: Diagnostic[] = [];
  for (const d of list) {
    if (!isObj(d) || typeof d.message !== 'string') continue;
    const diag: Diagnostic = {
      message: d.message, severity: d.severity === 'warning' ? 'warning' : 'error', source: 'host',
    };
    if (typeof d.node === 'string' && d.node) diag.node = d.node;
    if (typeof d.field === 'string' && d.field) {
      diag.field = d.field;
      // The host names trigger fields "trigger.filter" (or "filter" without a node).
      if (!diag.node && (d.field.startsWith('trigger') || d.field === 'filter' || d.field === 'start')) {
        diag.node = TRIGGER_ID;
        diag.field = d.field.replace(/^trigger\.?/, '') || 'event';
      }
    }
    if (typeof d.column === 'number') diag.column = d.column;
    out.push(diag);
  }
  return out;
}

/** Renames a node, rewriting the edges that touch it. Returns null when the id is taken or invalid. */
export function renameNode(doc: Doc, from: string, to: string): Doc | null {
  if (from === to) return doc;
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(to) || doc.nodes.some((n) => n.id === to)) return null;
  return {
    ...doc,
    nodes: doc.nodes.map((n) => (n.id === from ? {...n, id: to} : n)),
    edges: doc.edges.map((e) => {
      const source = e.source === from ? to : e.source;
      const target = e.target === from ? to : e.target;
      return {...e, id: edgeId(source, e.sourceHandle), source, target};
    }),
  };
}

/** Adds (or replaces) the edge for one outcome of `source`. Refuses self-loops and edges into the trigger. */
export function connect(doc: Doc, source: string, handle: string, target: string): Doc {
  if (source === target || target === TRIGGER_ID) return doc;
  const id = edgeId(source, handle);
  return {...doc, edges: [...doc.edges.filter((e) => e.id !== id), {id, source, sourceHandle: handle, target}]};
}

/** Removes nodes (never the trigger) and the edges that touch them, and the listed edges. */
export function removeItems(doc: Doc, nodeIds: readonly string[], edgeIds: readonly string[] = []): Doc {
  const gone = new Set(nodeIds.filter((id) => id !== TRIGGER_ID));
  const goneEdges = new Set(edgeIds);
  return {
    ...doc,
    nodes: doc.nodes.filter((n) => !gone.has(n.id)),
    edges: doc.edges.filter((e) => !gone.has(e.source) && !gone.has(e.target) && !goneEdges.has(e.id)),
  };
}

/** Drops edges from outcomes a node no longer has (e.g. after a toast button was removed). */
export function pruneEdges(doc: Doc): Doc {
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const edges = doc.edges.filter((e) => {
    const n = byId.get(e.source);
    if (!n || !byId.has(e.target)) return false;
    if (n.type === 'trigger') return e.sourceHandle === NEXT;
    const data = n.data as StepData;
    const spec = KIND_BY_NAME.get(data.kind);
    if (e.sourceHandle === NEXT) return spec?.hasNext ?? false;
    if (spec?.dynamicOutcomes && data.kind === 'switch') return true;
    return outcomesOf(data.kind, data.props).includes(e.sourceHandle);
  });
  return edges.length === doc.edges.length ? doc : {...doc, edges};
}
