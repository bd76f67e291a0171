// The Experience Designer: palette, canvas (React Flow), inspector, test and versions panels.
// Everything from a flow or the host is rendered as React text children or attribute values:
// no React HTML-injection prop anywhere, so a label like "<img onerror=…>" shows as those characters.
import {
  Background, Controls, Handle, MarkerType, Position, ReactFlow, ReactFlowProvider, applyEdgeChanges,
  applyNodeChanges, useReactFlow, type Connection, type Edge, type EdgeChange, type Node, type NodeChange,
  type NodeProps,
} from '@xyflow/react';
import {createElement as h, Fragment, useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type ReactNode} from 'react';
import {KINDS, KIND_BY_NAME, NAMED_TRIGGERS, TRIGGERS, TRIGGER_TEXT, defaultProps, fieldApplies, outcomesOf, type FieldSpec} from './catalog';
import {
  NEXT, TRIGGER_ID, connect, docToFlow, emptyDoc, flowToDoc, freshId, hostDiagnostics, isStep, pruneEdges,
  removeItems, renameNode, triggerOf, validateFlow, type Diagnostic, type Doc, type DocNode, type StepData,
  type TriggerData,
} from './model';
import * as host from './host';
import {describeAction, edgeTaken, readTrace, type TraceStep, type TraceView} from './trace';

type Obj = Record<string, unknown>;
const DND_TYPE = 'application/x-omnibridge-palette';

export const SAMPLES: Record<string, Obj> = {
  'VIP caller': {
    interactionId: 'test-vip', channel: 'voice', direction: 'inbound', state: 'offered',
    ani: '+15551234', callerName: 'Alice Example', dnis: '7000', queue: 'vip', data: {},
  },
  'Support caller': {
    interactionId: 'test-support', channel: 'voice', direction: 'inbound', state: 'offered',
    ani: '+15555678', callerName: 'Bob Sample', dnis: '7001', queue: 'support', data: {},
  },
  'Chat': {
    interactionId: 'test-chat', channel: 'chat', direction: 'inbound', state: 'offered',
    ani: '', callerName: 'Carol', dnis: '', queue: 'digital', data: {subject: 'Order 42'},
  },
};

// ---- history ------------------------------------------------------------------------------------

interface History {
  doc: Doc;
  past: Doc[];
  future: Doc[];
}
const HISTORY_MAX = 200;

// ---- canvas nodes -------------------------------------------------------------------------------

interface CanvasData extends Record<string, unknown> {
  step?: StepData;
  trigger?: TriggerData;
  outcomes: string[];
  hasNext: boolean;
  errors: number;
  warnings: number;
  trace?: TraceStep[];
  /** Trigger only: the last test run started. */
  fired?: boolean;
}

function TraceBadges({steps}: {steps: TraceStep[] | undefined}): ReactNode {
  if (!steps?.length) return null;
  return h('div', {className: 'ob-trace', 'data-ob': 'trace'},
      steps.map((s) => h('div', {key: s.step, className: s.error ? 'ob-trace-step ob-trace-error' : 'ob-trace-step'},
          h('span', {className: 'ob-step-no', title: `step ${s.step}`}, `#${s.step}`),
          s.outcome ? h('span', {className: 'ob-outcome'}, ` → ${s.outcome}`) : null,
          s.effect ? h('div', {className: 'ob-effect', 'data-ob': 'effect'}, describeAction(s.effect)) : null,
          s.error ? h('div', {className: 'ob-error-text'}, s.error) : null)));
}

function StepNode({id, data, selected}: NodeProps<Node<CanvasData>>): ReactNode {
  const step = data.step!;
  const spec = KIND_BY_NAME.get(step.kind);
  const cls = ['ob-node', `ob-kind-${spec?.group ?? 'Logic'}`];
  if (selected) cls.push('ob-selected');
  if (data.errors) cls.push('ob-invalid');
  if (data.trace?.length) cls.push(data.trace.some((s) => s.error) ? 'ob-traced-error' : 'ob-traced');
  const handles = [...(data.hasNext ? [NEXT] : []), ...data.outcomes];
  return h('div', {className: cls.join(' '), 'data-node-id': id, 'data-kind': step.kind, style: {minHeight: `${handles.length * 18 + 10}px`}},
      h(Handle, {type: 'target', position: Position.Left, id: 'in'}),
      h('div', {className: 'ob-node-kind'}, spec?.label ?? step.kind),
      h('div', {className: 'ob-node-label'}, step.label || id),
      step.label ? h('div', {className: 'ob-node-id'}, id) : null,
      data.errors ? h('div', {className: 'ob-badge ob-badge-error', title: 'has errors'}, `${data.errors} error${data.errors > 1 ? 's' : ''}`) :
        data.warnings ? h('div', {className: 'ob-badge ob-badge-warning'}, `${data.warnings} warning${data.warnings > 1 ? 's' : ''}`) : null,
      h('div', {className: 'ob-handles'},
          handles.map((o, i) => {
            const top = `${((i + 1) * 100) / (handles.length + 1)}%`;
            return h(Fragment, {key: o},
                h('span', {className: o === NEXT ? 'ob-handle-label ob-next' : 'ob-handle-label', style: {top}}, o),
                h(Handle, {
                  type: 'source', position: Position.Right, id: o, className: 'ob-source', style: {top},
                  'aria-label': `${o} of ${id}`
                }));
          })),
      h(TraceBadges, {steps: data.trace}));
}

function TriggerNode({data, selected}: NodeProps<Node<CanvasData>>): ReactNode {
  const t = data.trigger!;
  const cls = ['ob-node', 'ob-trigger'];
  if (selected) cls.push('ob-selected');
  if (data.errors) cls.push('ob-invalid');
  if (data.fired) cls.push('ob-traced');
  return h('div', {className: cls.join(' '), 'data-node-id': TRIGGER_ID},
      h('div', {className: 'ob-node-kind'}, 'Trigger'),
      h('div', {className: 'ob-node-label'}, TRIGGER_TEXT[t.event] ?? t.event),
      t.name ? h('div', {className: 'ob-node-id'}, t.name) : null,
      t.filter ? h('div', {className: 'ob-node-id'}, `if ${t.filter}`) : null,
      data.errors ? h('div', {className: 'ob-badge ob-badge-error'}, `${data.errors} error${data.errors > 1 ? 's' : ''}`) : null,
      h(Handle, {type: 'source', position: Position.Right, id: NEXT, className: 'ob-source', 'aria-label': 'start'}));
}

const NODE_TYPES = {step: StepNode, trigger: TriggerNode};

// ---- inspector fields ---------------------------------------------------------------------------

function fieldId(node: string, field: string): string {
  return `f-${node}-${field}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

function Messages({id, diags}: {id: string; diags: Diagnostic[]}): ReactNode {
  if (!diags.length) return null;
  return h('ul', {id, className: 'ob-field-msgs', 'data-ob': 'field-errors'},
      diags.map((d, i) => h('li', {key: i, className: d.severity === 'warning' ? 'ob-warning' : 'ob-error'},
          `${d.source === 'host' ? 'host: ' : ''}${d.message}${d.column ? ` (column ${d.column})` : ''}`)));
}

interface FieldProps {
  nodeId: string;
  spec: FieldSpec;
  value: unknown;
  diags: Diagnostic[];
  readOnly: boolean;
  onChange: (v: unknown) => void;
}

/** Text areas for JSON-valued fields keep their own text until it parses. */
function JsonField({nodeId, spec, value, diags, readOnly, onChange}: FieldProps): ReactNode {
  const id = fieldId(nodeId, spec.name);
  const shown = value === undefined ? '' : JSON.stringify(value, null, 1);
  const [text, setText] = useState(shown);
  const [bad, setBad] = useState<string | null>(null);
  useEffect(() => setText(shown), [shown]);
  const msgId = `${id}-msg`;
  return h('div', {className: 'ob-field'},
      h('label', {htmlFor: id}, spec.name, spec.required ? ' *' : ''),
      h('textarea', {
        id, rows: 3, value: text, readOnly, spellCheck: false,
        'aria-invalid': diags.length || bad ? true : undefined, 'aria-describedby': msgId,
        onChange: (e: {target: {value: string}}) => {
          const t = e.target.value;
          setText(t);
          if (t.trim() === '') {
            setBad(null);
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(t));
            setBad(null);
          } catch {
            setBad('not valid JSON yet');
          }
        },
      }),
      h(Messages, {id: msgId, diags: bad ? [...diags, {message: bad, severity: 'error', source: 'designer'}] : diags}));
}

function Field(props: FieldProps): ReactNode {
  const {nodeId, spec, value, diags, readOnly, onChange} = props;
  const id = fieldId(nodeId, spec.name);
  const msgId = `${id}-msg`;
  const common = {
    id, disabled: readOnly, 'aria-invalid': diags.length ? true : undefined, 'aria-describedby': msgId,
    'data-field': spec.name,
  };
  let input: ReactNode;
  switch (spec.widget) {
    case 'enum':
      input = h('select', {
        ...common, value: typeof value === 'string' ? value : '',
        onChange: (e: {target: {value: string}}) => onChange(e.target.value === '' ? undefined : e.target.value),
      }, h('option', {value: ''}, spec.required ? '(choose)' : '(none)'),
      (spec.options ?? []).map((o) => h('option', {key: o, value: o}, o)));
      break;
    case 'number':
      input = h('input', {
        ...common, type: 'number', step: 'any', value: typeof value === 'number' ? String(value) : '',
        onChange: (e: {target: {value: string}}) => onChange(e.target.value === '' ? undefined : Number(e.target.value)),
      });
      break;
    case 'boolean':
      input = h('input', {
        ...common, type: 'checkbox', checked: value === true,
        onChange: (e: {target: {checked: boolean}}) => onChange(e.target.checked ? true : undefined),
      });
      break;
    case 'list':
      input = h('textarea', {
        ...common, rows: 3, value: Array.isArray(value) ? value.join('\n') : '',
        placeholder: 'one per line',
        onChange: (e: {target: {value: string}}) => onChange(e.target.value === '' ? undefined : e.target.value.split('\n')),
      });
      break;
    case 'map':
    case 'json':
      return h(JsonField, props);
    default:
      input = h('input', {
        ...common, type: 'text', spellCheck: false, value: typeof value === 'string' ? value : '',
        className: spec.widget === 'expression' ? 'ob-expr' : undefined,
        placeholder: spec.widget === 'expression' ? "expression, e.g. interaction.queue == 'vip'" :
          spec.widget === 'template' ? 'text with {{ expression }}' : '',
        onChange: (e: {target: {value: string}}) => onChange(e.target.value === '' && !spec.required ? undefined : e.target.value),
      });
  }
  return h('div', {className: 'ob-field'},
      h('label', {htmlFor: id}, spec.name, spec.required ? ' *' : '',
          spec.widget === 'expression' ? h('span', {className: 'ob-hint'}, ' expression') :
            spec.widget === 'template' ? h('span', {className: 'ob-hint'}, ' template') : null),
      input,
      h(Messages, {id: msgId, diags}));
}

// ---- the app ------------------------------------------------------------------------------------

interface Status {
  text: string;
  kind: 'info' | 'error' | 'ok';
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], {type: 'application/json'}));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function Designer(): ReactNode {
  const rf = useReactFlow();
  const [hist, setHist] = useState<History>(() => ({doc: emptyDoc(), past: [], future: []}));
  const doc = hist.doc;
  const [selected, setSelected] = useState<string | null>(null);
  const [hostDiags, setHostDiags] = useState<Diagnostic[]>([]);
  const [trace, setTrace] = useState<TraceView | null>(null);
  const [status, setStatus] = useState<Status>({text: 'Drag a node from the palette onto the canvas.', kind: 'info'});
  const [flows, setFlows] = useState<host.FlowListing[] | null>(null);
  const [flowsError, setFlowsError] = useState<string | null>(null);
  const [readOnly, setReadOnly] = useState<string | null>(null);
  const [sampleName, setSampleName] = useState('VIP caller');
  const [sampleText, setSampleText] = useState(JSON.stringify(SAMPLES['VIP caller'], null, 2));
  const [resultsText, setResultsText] = useState('{}');
  const [busy, setBusy] = useState(false);
  const coalesceKey = useRef<string | null>(null);
  const batchOpen = useRef(false);
  const fileInput = useRef<HTMLInputElement>(null);

  /** Applies a change; records it for undo unless it continues the same edit (same coalesce key). */
  const change = useCallback((fn: (d: Doc) => Doc, opts: {record?: boolean; coalesce?: string} = {}) => {
    const record = opts.record !== false;
    const sameEdit = opts.coalesce !== undefined && opts.coalesce === coalesceKey.current;
    // Unrecorded changes (React Flow's measurements, drag moves) do not end an edit being typed.
    if (record) coalesceKey.current = opts.coalesce ?? null;
    setHist((s) => {
      const next = fn(s.doc);
      if (next === s.doc) return s;
      if (!record || sameEdit) return {...s, doc: next};
      return {doc: next, past: [...s.past, s.doc].slice(-HISTORY_MAX), future: []};
    });
    if (record) setTrace(null);
  }, []);

  /** Records once for a burst of canvas changes (a keyboard delete removes nodes and edges in two calls). */
  const recordBurst = useCallback((): boolean => {
    if (batchOpen.current) return false;
    batchOpen.current = true;
    setTimeout(() => {
      batchOpen.current = false;
    }, 0);
    return true;
  }, []);

  const undo = useCallback(() => {
    coalesceKey.current = null;
    setHist((s) => (s.past.length ? {doc: s.past[s.past.length - 1]!, past: s.past.slice(0, -1), future: [s.doc, ...s.future]} : s));
    setTrace(null);
  }, []);
  const redo = useCallback(() => {
    coalesceKey.current = null;
    setHist((s) => (s.future.length ? {doc: s.future[0]!, past: [...s.past, s.doc], future: s.future.slice(1)} : s));
    setTrace(null);
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey) return;
      const t = e.target as HTMLElement | null;
      // Text fields keep their own undo.
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT' || t.isContentEditable)) return;
      const k = e.key.toLowerCase();
      if (k === 'z' && !e.shiftKey) {
        e.preventDefault();
        undo();
      } else if ((k === 'z' && e.shiftKey) || k === 'y') {
        e.preventDefault();
        redo();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [undo, redo]);

  const flow = useMemo(() => docToFlow(doc), [doc]);
  const diags = useMemo(() => [...validateFlow(flow), ...hostDiags], [flow, hostDiags]);
  const errors = diags.filter((d) => d.severity === 'error');

  // Canvas view of the document.
  const nodes: Node<CanvasData>[] = useMemo(() => doc.nodes.map((n) => {
    const mine = diags.filter((d) => d.node === n.id);
    const data: CanvasData = {
      outcomes: [], hasNext: true,
      errors: mine.filter((d) => d.severity === 'error').length,
      warnings: mine.filter((d) => d.severity === 'warning').length,
    };
    if (isStep(n)) {
      data.step = n.data;
      data.outcomes = outcomesOf(n.data.kind, n.data.props,
          doc.edges.filter((e) => e.source === n.id && e.sourceHandle !== NEXT).map((e) => e.sourceHandle));
      data.hasNext = KIND_BY_NAME.get(n.data.kind)?.hasNext ?? false;
      const steps = trace?.byNode.get(n.id);
      if (steps) data.trace = steps;
    } else {
      data.trigger = n.data as TriggerData;
      data.fired = !!trace?.triggered;
    }
    return {
      ...(n as unknown as Node<CanvasData>), data, type: n.type,
      selected: n.id === selected, deletable: n.id !== TRIGGER_ID && !readOnly,
      draggable: !readOnly, connectable: !readOnly,
      ariaLabel: n.id === TRIGGER_ID ? `Trigger: ${TRIGGER_TEXT[(n.data as TriggerData).event] ?? ''}` :
        `${KIND_BY_NAME.get((n.data as StepData).kind)?.label ?? ''} node ${n.id}`,
    };
  }), [doc, diags, trace, selected, readOnly]);

  const edges: Edge[] = useMemo(() => doc.edges.map((e) => {
    const taken = edgeTaken(trace, e) ||
      (e.source === TRIGGER_ID && !!trace?.triggered && trace.steps[0]?.node === e.target);
    return {
      id: e.id, source: e.source, sourceHandle: e.sourceHandle, target: e.target, targetHandle: 'in',
      label: e.sourceHandle === NEXT ? undefined : e.sourceHandle, selected: e.id === selected,
      animated: taken, className: taken ? 'ob-edge-taken' : undefined,
      markerEnd: {type: MarkerType.ArrowClosed}, deletable: !readOnly,
      ariaLabel: `edge ${e.source} ${e.sourceHandle} to ${e.target}`,
    };
  }), [doc.edges, trace, selected, readOnly]);

  const onNodesChange = useCallback((changes: NodeChange[]) => {
    const rest: NodeChange[] = [];
    for (const c of changes) {
      if (c.type === 'select') {
        if (c.selected) setSelected(c.id);
        else setSelected((s) => (s === c.id ? null : s));
      } else if (c.type === 'remove') {
        if (c.id !== TRIGGER_ID && !readOnly) rest.push(c);
      } else {
        rest.push(c);
      }
    }
    if (!rest.length) return;
    const removing = rest.some((c) => c.type === 'remove');
    const dragStart = rest.some((c) => c.type === 'position' && c.dragging === true);
    const record = removing ? recordBurst() : dragStart ? recordBurst() && !coalesceKey.current?.startsWith('drag') : false;
    change((d) => {
      let next: Doc = {...d, nodes: applyNodeChanges(rest as NodeChange<Node>[], d.nodes as unknown as Node[]) as unknown as DocNode[]};
      // Edges of removed nodes go with them.
      const left = new Set(next.nodes.map((n) => n.id));
      if (removing) next = {...next, edges: next.edges.filter((e) => left.has(e.source) && left.has(e.target))};
      return next;
    }, {record, ...(dragStart ? {coalesce: 'drag'} : {})});
    if (rest.some((c) => c.type === 'position' && c.dragging === false)) coalesceKey.current = null;
  }, [change, recordBurst, readOnly]);

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    for (const c of changes) {
      if (c.type === 'select') {
        if (c.selected) setSelected(c.id);
        else setSelected((s) => (s === c.id ? null : s));
      }
    }
    const removes = changes.filter((c) => c.type === 'remove');
    if (!removes.length || readOnly) return;
    const record = recordBurst();
    change((d) => ({...d, edges: applyEdgeChanges(removes, d.edges as unknown as Edge[]) as unknown as Doc['edges']}), {record});
  }, [change, recordBurst, readOnly]);

  const onConnect = useCallback((c: Connection) => {
    if (readOnly || !c.source || !c.target) return;
    change((d) => connect(d, c.source, c.sourceHandle ?? NEXT, c.target));
  }, [change, readOnly]);

  const addNode = useCallback((kind: string, position?: {x: number; y: number}) => {
    if (readOnly) return;
    let id = '';
    change((d) => {
      id = freshId(d, kind);
      const p = position ?? {x: 320 + (d.nodes.length % 4) * 60, y: 80 + (d.nodes.length % 6) * 90};
      return {...d, nodes: [...d.nodes, {id, type: 'step', position: p, data: {kind, props: defaultProps(kind)}}]};
    });
    setTimeout(() => setSelected(id), 0);
    setStatus({text: `Added ${KIND_BY_NAME.get(kind)?.label ?? kind}.`, kind: 'info'});
  }, [change, readOnly]);

  const setTrigger = useCallback((patch: Partial<TriggerData>, coalesce?: string, position?: {x: number; y: number}) => {
    change((d) => ({
      ...d,
      nodes: d.nodes.map((n) => {
        if (n.id !== TRIGGER_ID) return n;
        const t = {...(n.data as TriggerData), ...patch};
        for (const k of Object.keys(t) as Array<keyof TriggerData>) if (t[k] === undefined) delete t[k];
        if (!NAMED_TRIGGERS.has(t.event)) delete t.name;
        return {...n, data: t, ...(position ? {position} : {})};
      }),
    }), coalesce ? {coalesce} : {});
  }, [change]);

  const onDrop = useCallback((e: DragEvent) => {
    e.preventDefault();
    const raw = e.dataTransfer.getData(DND_TYPE);
    if (!raw) return;
    const position = rf.screenToFlowPosition({x: e.clientX, y: e.clientY});
    const [what, name] = raw.split(':', 2) as [string, string];
    if (what === 'kind' && KIND_BY_NAME.has(name)) addNode(name, position);
    if (what === 'trigger' && TRIGGERS.includes(name)) {
      setTrigger({event: name}, undefined, position);
      setSelected(TRIGGER_ID);
    }
  }, [rf, addNode, setTrigger]);

  // ---- host actions ----

  const refreshFlows = useCallback(async () => {
    const r = await host.listFlows();
    if (r.ok) {
      setFlows(r.value);
      setFlowsError(null);
    } else {
      setFlowsError(`${r.error.code}: ${r.error.message}`);
    }
  }, []);
  useEffect(() => {
    void refreshFlows();
  }, [refreshFlows]);

  const loadDoc = useCallback((next: Doc, ro: string | null) => {
    coalesceKey.current = null;
    setHist((s) => ({doc: next, past: [...s.past, s.doc].slice(-HISTORY_MAX), future: []}));
    setSelected(null);
    setTrace(null);
    setHostDiags([]);
    setReadOnly(ro);
    setTimeout(() => void rf.fitView({padding: 0.2, maxZoom: 1}), 50);
  }, [rf]);

  const openVersion = useCallback(async (f: host.FlowListing, version?: number | 'draft') => {
    const r = await host.getFlow(f.name, version);
    if (!r.ok) {
      setStatus({text: `Could not open ${f.name}: ${r.error.message}`, kind: 'error'});
      return;
    }
    try {
      loadDoc(flowToDoc(r.value.flow), f.readOnly ? (f.enterprise ? 'an enterprise flow' : 'read-only') : null);
      setStatus({text: `Opened ${f.name} (${String(r.value.version ?? 'active')}).`, kind: 'info'});
    } catch (e) {
      setStatus({text: `Could not open ${f.name}: ${String((e as Error).message)}`, kind: 'error'});
    }
  }, [loadDoc]);

  const failure = (what: string, e: host.HostFailure) => {
    setHostDiags(hostDiagnostics(e.diagnostics));
    setStatus({text: `${what} failed: ${e.message}${e.diagnostics?.length ? ' (see the marked nodes)' : ''}`, kind: 'error'});
  };

  const runTest = useCallback(async () => {
    let interaction: unknown;
    let results: unknown;
    try {
      interaction = JSON.parse(sampleText);
      results = resultsText.trim() ? JSON.parse(resultsText) : {};
    } catch (e) {
      setStatus({text: `The sample is not valid JSON: ${String((e as Error).message)}`, kind: 'error'});
      return;
    }
    setBusy(true);
    const r = await host.testFlow(flow, interaction, results);
    setBusy(false);
    if (!r.ok) return failure('Test', r.error);
    setHostDiags(hostDiagnostics(r.value.diagnostics));
    if (r.value.ok === false) {
      setTrace(null);
      setStatus({text: 'The host could not load this flow: see the marked nodes.', kind: 'error'});
      return;
    }
    const view = readTrace(r.value.trace);
    setTrace(view);
    setStatus({
      text: !view ? 'The host returned no trace.' : !view.triggered ? 'The trigger filter rejected this sample: nothing ran.' :
        `Test ran ${view.steps.length} step(s)${view.completed ? '' : ' and stopped'}; ${view.actions.length} action(s).`,
      kind: view && view.steps.some((s) => s.error) ? 'error' : 'ok',
    });
  }, [flow, sampleText, resultsText]);

  const runDeploy = useCallback(async (draft: boolean) => {
    if (!draft && errors.length) {
      setStatus({text: `Fix ${errors.length} error(s) before deploying.`, kind: 'error'});
      return;
    }
    setBusy(true);
    const r = draft ? await host.saveDraft(flow) : await host.deployFlow(flow);
    setBusy(false);
    if (!r.ok) return failure(draft ? 'Saving the draft' : 'Deploy', r.error);
    setHostDiags(hostDiagnostics(r.value.diagnostics));
    setStatus({text: draft ? `Draft of ${flow.name as string} saved.` : `Deployed ${flow.name as string} as version ${String(r.value.version)}.`, kind: 'ok'});
    await refreshFlows();
  }, [flow, errors.length, refreshFlows]);

  const runRollback = useCallback(async (name: string, version: number) => {
    setBusy(true);
    const r = await host.rollBack(name, version);
    setBusy(false);
    if (!r.ok) return failure('Roll back', r.error);
    setStatus({text: `${name}: version ${version} is active again.`, kind: 'ok'});
    await refreshFlows();
  }, [refreshFlows]);

  const onImport = useCallback(async (file: File) => {
    try {
      if (file.size > 512 * 1024) throw new Error('a flow is at most 512 KiB');
      loadDoc(flowToDoc(JSON.parse(await file.text())), null);
      setStatus({text: `Imported ${file.name}.`, kind: 'info'});
    } catch (e) {
      setStatus({text: `Import failed: ${String((e as Error).message)}`, kind: 'error'});
    }
  }, [loadDoc]);

  // ---- inspector ----

  const selNode = doc.nodes.find((n) => n.id === selected) ?? null;
  const selEdge = selNode ? null : doc.edges.find((e) => e.id === selected) ?? null;
  const ro = readOnly !== null;

  /** The host's message about a field is stale once the field is edited. */
  const clearHostDiag = (node: string, field: string) =>
    setHostDiags((ds) => (ds.some((d) => d.node === node && d.field === field) ? ds.filter((d) => !(d.node === node && d.field === field)) : ds));

  const setProp = (nodeId: string, field: string, value: unknown) => (clearHostDiag(nodeId, field), change((d) => pruneEdges({
    ...d,
    nodes: d.nodes.map((n) => {
      if (n.id !== nodeId || !isStep(n)) return n;
      const props = {...n.data.props};
      if (value === undefined) delete props[field];
      else props[field] = value;
      return {...n, data: {...n.data, props}};
    }),
  }), {coalesce: `${nodeId}.${field}`}));

  const setLabel = (nodeId: string, label: string) => change((d) => ({
    ...d, nodes: d.nodes.map((n) => (n.id === nodeId && isStep(n) ? {...n, data: {...n.data, ...(label ? {label} : {label: undefined})}} : n)),
  }), {coalesce: `${nodeId}.label`});

  const [idDraft, setIdDraft] = useState('');
  useEffect(() => setIdDraft(selNode?.id ?? ''), [selNode?.id]);
  const [idError, setIdError] = useState<string | null>(null);
  const commitRename = () => {
    if (!selNode || idDraft === selNode.id) return setIdError(null);
    const next = renameNode(doc, selNode.id, idDraft);
    if (!next) return setIdError('ids are 1–64 letters, digits, _ or -, start with a letter, and are unique');
    setIdError(null);
    change(() => next);
    setSelected(idDraft);
  };

  const diagsFor = (node: string | undefined, field?: string) =>
    diags.filter((d) => d.node === node && (field === undefined ? true : d.field === field));

  const outgoing = (nodeId: string, outcomes: string[]) => h('fieldset', {className: 'ob-outcomes'},
      h('legend', null, 'Goes to'),
      outcomes.map((o) => {
        const e = doc.edges.find((x) => x.source === nodeId && x.sourceHandle === o);
        const id = fieldId(nodeId, `edge-${o}`);
        return h('div', {key: o, className: 'ob-field ob-inline'},
            h('label', {htmlFor: id}, o === NEXT ? (nodeId === TRIGGER_ID ? 'start' : 'next') : o),
            h('select', {
              id, disabled: ro, value: e?.target ?? '', 'data-outcome': o,
              onChange: (ev: {target: {value: string}}) => change((d) => (ev.target.value === '' ?
                removeItems(d, [], [`e:${nodeId}:${o}`]) : connect(d, nodeId, o, ev.target.value))),
            }, h('option', {value: ''}, '(nothing: the run ends)'),
            doc.nodes.filter((n) => n.id !== nodeId && n.id !== TRIGGER_ID).map((n) => h('option', {key: n.id, value: n.id}, n.id))));
      }));

  let inspector: ReactNode;
  if (selNode && selNode.id === TRIGGER_ID) {
    const t = triggerOf(doc);
    const tid = (f: string) => fieldId(TRIGGER_ID, f);
    inspector = h(Fragment, null,
        h('h2', {id: 'inspector-title'}, 'Trigger'),
        h('div', {className: 'ob-field'},
            h('label', {htmlFor: tid('event')}, 'event *'),
            h('select', {
              id: tid('event'), value: t.event, disabled: ro, 'aria-describedby': `${tid('event')}-msg`,
              onChange: (e: {target: {value: string}}) => setTrigger({event: e.target.value}),
            }, TRIGGERS.map((ev) => h('option', {key: ev, value: ev}, `${TRIGGER_TEXT[ev] ?? ev} (${ev})`))),
            h(Messages, {id: `${tid('event')}-msg`, diags: diagsFor(TRIGGER_ID, 'event')})),
        NAMED_TRIGGERS.has(t.event) ? h('div', {className: 'ob-field'},
            h('label', {htmlFor: tid('name')}, t.event === 'connect.event' ? 'name * (the custom event\'s name)' : 'name (button label)'),
            h('input', {
              id: tid('name'), type: 'text', value: t.name ?? '', disabled: ro, 'aria-describedby': `${tid('name')}-msg`,
              'aria-invalid': diagsFor(TRIGGER_ID, 'name').length ? true : undefined,
              onChange: (e: {target: {value: string}}) => setTrigger({name: e.target.value || undefined}, 'trigger.name'),
            }),
            h(Messages, {id: `${tid('name')}-msg`, diags: diagsFor(TRIGGER_ID, 'name')})) : null,
        h('div', {className: 'ob-field'},
            h('label', {htmlFor: tid('filter')}, 'filter', h('span', {className: 'ob-hint'}, ' expression')),
            h('input', {
              id: tid('filter'), type: 'text', value: t.filter ?? '', disabled: ro, className: 'ob-expr',
              placeholder: "e.g. interaction.channel == 'voice'", 'aria-describedby': `${tid('filter')}-msg`,
              'aria-invalid': diagsFor(TRIGGER_ID, 'filter').length ? true : undefined,
              onChange: (e: {target: {value: string}}) => {
                clearHostDiag(TRIGGER_ID, 'filter');
                setTrigger({filter: e.target.value || undefined}, 'trigger.filter');
              },
            }),
            h(Messages, {id: `${tid('filter')}-msg`, diags: diagsFor(TRIGGER_ID, 'filter')})),
        h(Messages, {id: 'trigger-start-msg', diags: diagsFor(TRIGGER_ID, 'start')}),
        outgoing(TRIGGER_ID, [NEXT]));
  } else if (selNode && isStep(selNode)) {
    const spec = KIND_BY_NAME.get(selNode.data.kind);
    const nid = selNode.id;
    const outcomes = [...(spec?.hasNext ? [NEXT] : []), ...outcomesOf(selNode.data.kind, selNode.data.props,
        doc.edges.filter((e) => e.source === nid && e.sourceHandle !== NEXT).map((e) => e.sourceHandle))];
    const known = new Set(['id', 'label', ...(spec?.fields.map((f) => f.name) ?? [])]);
    const other = diagsFor(nid).filter((d) => !d.field || !known.has(d.field));
    inspector = h(Fragment, null,
        h('h2', {id: 'inspector-title'}, spec?.label ?? selNode.data.kind),
        spec?.help ? h('p', {className: 'ob-help'}, spec.help) : null,
        h('div', {className: 'ob-field'},
            h('label', {htmlFor: fieldId(nid, 'id')}, 'id *'),
            h('input', {
              id: fieldId(nid, 'id'), type: 'text', value: idDraft, disabled: ro, 'data-field': 'id',
              'aria-describedby': `${fieldId(nid, 'id')}-msg`, 'aria-invalid': idError || diagsFor(nid, 'id').length ? true : undefined,
              onChange: (e: {target: {value: string}}) => setIdDraft(e.target.value),
              onBlur: commitRename,
              onKeyDown: (e: {key: string}) => {
                if (e.key === 'Enter') commitRename();
              },
            }),
            h(Messages, {
              id: `${fieldId(nid, 'id')}-msg`,
              diags: [...diagsFor(nid, 'id'), ...(idError ? [{message: idError, severity: 'error' as const, source: 'designer' as const}] : [])],
            })),
        h('div', {className: 'ob-field'},
            h('label', {htmlFor: fieldId(nid, 'label')}, 'label'),
            h('input', {
              id: fieldId(nid, 'label'), type: 'text', value: selNode.data.label ?? '', disabled: ro, 'data-field': 'label',
              onChange: (e: {target: {value: string}}) => setLabel(nid, e.target.value),
            })),
        (spec?.fields ?? []).filter((f) => selNode.data.props[f.name] !== undefined ||
            fieldApplies(selNode.data.kind, selNode.data.props, f)).map((f) => h(Field, {
          key: `${nid}.${f.name}`, nodeId: nid, spec: f, value: selNode.data.props[f.name], readOnly: ro,
          diags: diagsFor(nid, f.name), onChange: (v: unknown) => setProp(nid, f.name, v),
        })),
        selNode.data.kind === 'switch' && !ro ? h('div', {className: 'ob-field'},
            h('label', {htmlFor: fieldId(nid, 'new-branch')}, 'add a branch (value text)'),
            h('input', {
              id: fieldId(nid, 'new-branch'), type: 'text', placeholder: 'e.g. vip, then Enter',
              onKeyDown: (e: {key: string; currentTarget: HTMLInputElement}) => {
                const v = e.currentTarget.value.trim();
                if (e.key !== 'Enter' || !v) return;
                const target = doc.nodes.find((n) => n.id !== nid && n.id !== TRIGGER_ID);
                if (target) change((d) => connect(d, nid, v, target.id));
                e.currentTarget.value = '';
              },
            })) : null,
        h(Messages, {id: `${nid}-other-msg`, diags: other}),
        outgoing(nid, outcomes),
        ro ? null : h('button', {
          type: 'button', className: 'ob-danger',
          onClick: () => {
            change((d) => removeItems(d, [nid]));
            setSelected(null);
          },
        }, 'Delete node'));
  } else if (selEdge) {
    inspector = h(Fragment, null,
        h('h2', {id: 'inspector-title'}, 'Edge'),
        h('p', null, `${selEdge.source} — ${selEdge.sourceHandle} → ${selEdge.target}`),
        ro ? null : h('button', {
          type: 'button', className: 'ob-danger',
          onClick: () => {
            change((d) => removeItems(d, [], [selEdge.id]));
            setSelected(null);
          },
        }, 'Delete edge'));
  } else {
    inspector = h(Fragment, null,
        h('h2', {id: 'inspector-title'}, 'Flow'),
        h('div', {className: 'ob-field'},
            h('label', {htmlFor: 'flow-name'}, 'name *'),
            h('input', {
              id: 'flow-name', type: 'text', value: doc.meta.name, disabled: ro, 'aria-describedby': 'flow-name-msg',
              'aria-invalid': diagsFor(undefined, 'name').length ? true : undefined,
              onChange: (e: {target: {value: string}}) => change((d) => ({...d, meta: {...d.meta, name: e.target.value}}), {coalesce: 'meta.name'}),
            }),
            h(Messages, {id: 'flow-name-msg', diags: diagsFor(undefined, 'name')})),
        h('div', {className: 'ob-field'},
            h('label', {htmlFor: 'flow-description'}, 'description'),
            h('textarea', {
              id: 'flow-description', rows: 2, value: doc.meta.description ?? '', disabled: ro,
              onChange: (e: {target: {value: string}}) => change((d) => ({...d, meta: {...d.meta, ...(e.target.value ? {description: e.target.value} : {description: undefined})}}), {coalesce: 'meta.description'}),
            })),
        h('h3', null, `Problems (${diags.length})`),
        diags.length === 0 ? h('p', {className: 'ob-ok'}, 'No problems found.') :
          h('ul', {className: 'ob-problems', 'data-ob': 'problems'}, diags.map((d, i) => h('li', {key: i},
              h('button', {
                type: 'button', className: `ob-link ${d.severity === 'warning' ? 'ob-warning' : 'ob-error'}`,
                disabled: !d.node, onClick: () => d.node && setSelected(d.node),
              }, `${d.node === TRIGGER_ID ? 'trigger' : d.node ?? 'flow'}${d.field ? ` · ${d.field}` : ''}: ${d.message}${d.column ? ` (column ${d.column})` : ''}`)))));
  }

  // ---- layout ----

  const groups = ['Logic', 'CRM', 'Host'] as const;
  const paletteItem = (key: string, label: string, title: string, onActivate: () => void, dnd: string) =>
    h('li', {key},
        h('button', {
          type: 'button', className: 'ob-palette-item', draggable: !ro, title, 'data-palette': dnd,
          disabled: ro,
          onDragStart: (e: DragEvent) => {
            e.dataTransfer.setData(DND_TYPE, dnd);
            e.dataTransfer.effectAllowed = 'copy';
          },
          onClick: onActivate,
        }, label));

  const versionsPanel = h('section', {className: 'ob-panel', 'aria-labelledby': 'versions-title'},
      h('h2', {id: 'versions-title'}, 'Deployed flows ',
          h('button', {type: 'button', className: 'ob-small', id: 'refresh-flows', onClick: () => void refreshFlows()}, 'Refresh')),
      flowsError ? h('p', {className: 'ob-error', role: 'alert'}, `The host did not list flows: ${flowsError}`) : null,
      flows === null && !flowsError ? h('p', null, 'Loading…') : null,
      flows?.length === 0 ? h('p', null, 'No flows yet.') : null,
      h('ul', {className: 'ob-flows', 'data-ob': 'flows'}, (flows ?? []).map((f) => h('li', {key: f.name, 'data-flow': f.name},
          h('div', {className: 'ob-flow-head'},
              h('strong', null, f.name),
              f.enterprise ? h('span', {className: 'ob-tag'}, 'enterprise · read-only') : null,
              h('span', {className: 'ob-active', 'data-ob': 'active-version'},
                  f.activeVersion === null ? ' no active version' : ` active: v${f.activeVersion}`)),
          h('div', {className: 'ob-flow-actions'},
              h('button', {type: 'button', onClick: () => void openVersion(f)}, 'Open'),
              f.hasDraft && !f.readOnly ? h('button', {type: 'button', onClick: () => void openVersion(f, 'draft')}, 'Open draft') : null),
          f.versions.length ? h('ol', {className: 'ob-versions', 'aria-label': `versions of ${f.name}`},
              [...f.versions].reverse().map((v) => h('li', {key: v.version, 'data-version': v.version},
                  `v${v.version}`, v.publishedAt ? h('span', {className: 'ob-time'}, ` ${v.publishedAt}`) : null,
                  v.version === f.activeVersion ? h('span', {className: 'ob-tag'}, 'active') : null,
                  h('button', {type: 'button', className: 'ob-small', onClick: () => void openVersion(f, v.version), 'aria-label': `open ${f.name} v${v.version}`}, 'open'),
                  !f.readOnly && v.version !== f.activeVersion ? h('button', {
                    type: 'button', className: 'ob-small', 'data-rollback': v.version, disabled: busy,
                    onClick: () => void runRollback(f.name, v.version), 'aria-label': `make v${v.version} of ${f.name} active`,
                  }, 'make active') : null))) : null))));

  const testPanel = h('section', {className: 'ob-panel', 'aria-labelledby': 'test-title'},
      h('h2', {id: 'test-title'}, 'Test'),
      h('div', {className: 'ob-field ob-inline'},
          h('label', {htmlFor: 'sample-select'}, 'sample'),
          h('select', {
            id: 'sample-select', value: sampleName,
            onChange: (e: {target: {value: string}}) => {
              setSampleName(e.target.value);
              const s = SAMPLES[e.target.value];
              if (s) setSampleText(JSON.stringify(s, null, 2));
            },
          }, Object.keys(SAMPLES).map((k) => h('option', {key: k, value: k}, k)))),
      h('div', {className: 'ob-field'},
          h('label', {htmlFor: 'sample-interaction'}, 'interaction (JSON)'),
          h('textarea', {id: 'sample-interaction', rows: 6, spellCheck: false, value: sampleText,
            onChange: (e: {target: {value: string}}) => setSampleText(e.target.value)})),
      h('div', {className: 'ob-field'},
          h('label', {htmlFor: 'sample-results'}, 'scripted results by node id (JSON)'),
          h('textarea', {id: 'sample-results', rows: 3, spellCheck: false, value: resultsText,
            placeholder: '{"crmSearch1": {"count": 1, "ids": ["1001"]}}',
            onChange: (e: {target: {value: string}}) => setResultsText(e.target.value)})),
      h('button', {type: 'button', id: 'run-test', onClick: () => void runTest(), disabled: busy}, 'Run test'),
      trace ? h('div', {className: 'ob-trace-panel', 'data-ob': 'trace-panel', 'aria-live': 'polite'},
          h('p', null, trace.triggered ? `${trace.steps.length} step(s), ${trace.completed ? 'completed' : 'stopped'}${trace.truncated ? ' (truncated)' : ''}` : 'not triggered (filter)'),
          h('ol', {className: 'ob-steps'}, trace.steps.map((s) => h('li', {key: s.step, className: s.error ? 'ob-error' : undefined},
              h('button', {type: 'button', className: 'ob-link', onClick: () => setSelected(s.node)}, s.node),
              s.outcome ? ` → ${s.outcome}` : '', s.next ? ` → ${s.next}` : '',
              s.effect ? h('div', {className: 'ob-effect'}, describeAction(s.effect)) : null,
              s.note ? h('div', {className: 'ob-note'}, s.note) : null,
              s.error ? h('div', null, `${s.error}${s.field ? ` (field ${s.field}${s.column ? `, column ${s.column}` : ''})` : ''}`) : null))),
          h('h3', null, 'Actions the extension would take'),
          trace.actions.length ? h('ol', {className: 'ob-actions', 'data-ob': 'actions'},
              trace.actions.map((a, i) => h('li', {key: i}, describeAction(a)))) : h('p', null, 'none'),
          trace.effects.length ? h(Fragment, null, h('h3', null, 'Host effects'),
              h('ol', {className: 'ob-actions'}, trace.effects.map((a, i) => h('li', {key: i}, describeAction(a))))) : null) : null);

  return h('div', {className: 'ob-app'},
      h('header', {className: 'ob-toolbar', role: 'toolbar', 'aria-label': 'Flow actions'},
          h('h1', null, 'Experience Designer'),
          h('span', {className: 'ob-flow-name', 'data-ob': 'flow-name'}, doc.meta.name || '(unnamed)'),
          ro ? h('span', {className: 'ob-tag', role: 'note'}, `read-only: ${readOnly}`) : null,
          h('button', {type: 'button', onClick: () => loadDoc(emptyDoc(), null)}, 'New'),
          h('button', {type: 'button', onClick: () => fileInput.current?.click()}, 'Import…'),
          h('input', {
            ref: fileInput, type: 'file', accept: 'application/json,.json', hidden: true, 'aria-hidden': true, id: 'import-file',
            onChange: (e: {target: HTMLInputElement}) => {
              const f = e.target.files?.[0];
              if (f) void onImport(f);
              e.target.value = '';
            },
          }),
          h('button', {type: 'button', onClick: () => download(`${(flow.name as string) || 'flow'}.json`, JSON.stringify(flow, null, 2))}, 'Export'),
          h('button', {type: 'button', onClick: undo, disabled: !hist.past.length, 'aria-keyshortcuts': 'Control+Z'}, 'Undo'),
          h('button', {type: 'button', onClick: redo, disabled: !hist.future.length, 'aria-keyshortcuts': 'Control+Shift+Z'}, 'Redo'),
          h('button', {type: 'button', id: 'save-draft', onClick: () => void runDeploy(true), disabled: busy || ro}, 'Save draft'),
          h('button', {type: 'button', id: 'deploy', className: 'ob-primary', onClick: () => void runDeploy(false), disabled: busy || ro}, 'Deploy'),
          h('span', {className: `ob-status ob-status-${status.kind}`, role: 'status', 'aria-live': 'polite', 'data-ob': 'status'}, status.text)),
      h('nav', {className: 'ob-palette', 'aria-label': 'Palette: drag onto the canvas, or press Enter to add'},
          h('h2', null, 'Triggers'),
          h('ul', null, TRIGGERS.map((t) => paletteItem(`t-${t}`, TRIGGER_TEXT[t] ?? t, t, () => {
            setTrigger({event: t});
            setSelected(TRIGGER_ID);
          }, `trigger:${t}`))),
          groups.map((g) => h(Fragment, {key: g},
              h('h2', null, g),
              h('ul', null, KINDS.filter((k) => k.group === g).map((k) =>
                paletteItem(`k-${k.kind}`, k.label, k.help, () => addNode(k.kind), `kind:${k.kind}`)))))),
      h('main', {
        className: 'ob-canvas', 'aria-label': 'Flow canvas', 'data-ob': 'canvas',
        onDragOver: (e: DragEvent) => {
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
        },
        onDrop,
      },
      h(ReactFlow, {
        nodes, edges, nodeTypes: NODE_TYPES, onNodesChange, onEdgesChange, onConnect,
        onPaneClick: () => setSelected(null),
        deleteKeyCode: ro ? null : ['Delete', 'Backspace'], defaultViewport: {x: 0, y: 0, zoom: 1}, minZoom: 0.2, maxZoom: 2,
        proOptions: {hideAttribution: true}, nodesFocusable: true, edgesFocusable: true,
        defaultEdgeOptions: {type: 'smoothstep'},
        isValidConnection: (c: Connection | Edge) => c.source !== c.target && c.target !== TRIGGER_ID,
      }, h(Background, null), h(Controls, {showInteractive: false}))),
      h('aside', {className: 'ob-side'},
          h('section', {className: 'ob-panel ob-inspector', 'aria-labelledby': 'inspector-title', 'data-ob': 'inspector'}, inspector),
          testPanel,
          versionsPanel));
}

export function App(): ReactNode {
  return h(ReactFlowProvider, null, h(Designer, null));
}
