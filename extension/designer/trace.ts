// Reads the host's dry-run trace (popflow.test, docs/popflow.md "Dry run") into what the canvas
// shows: per node, its steps (number, outcome, the action it would take, error); the edges taken.
import {NEXT, edgeId} from './model';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface TraceStep {
  step: number;
  node: string;
  kind: string;
  outcome?: string;
  next: string | null;
  effect?: Obj;
  result?: unknown;
  error?: string;
  field?: string;
  column?: number;
  note?: string;
}

export interface TraceView {
  flow: string;
  triggered: boolean;
  completed: boolean;
  truncated: boolean;
  steps: TraceStep[];
  actions: Obj[];
  effects: Obj[];
  byNode: Map<string, TraceStep[]>;
  /** Edge ids (model.edgeId) the run went along. */
  edgesTaken: Set<string>;
}

/** One line for an action or effect: "screenPop record Contact 1001". Plain text, never HTML. */
export function describeAction(a: Obj): string {
  const parts: string[] = [String(a.kind ?? '?')];
  const add = (k: string) => {
    const v = a[k];
    if (v === undefined || v === null || v === '') return;
    parts.push(typeof v === 'string' ? (k === 'message' || k === 'title' ? `"${v}"` : v) : `${k}=${JSON.stringify(v)}`);
  };
  switch (a.kind) {
    case 'screenPop': ['target', 'recordType', 'recordId', 'query', 'url', 'fields'].forEach(add); break;
    case 'crmSearch': ['field', 'value', 'recordType'].forEach(add); break;
    case 'toast': ['title', 'message', 'buttons'].forEach(add); break;
    case 'httpRequest': ['method', 'url', 'credential'].forEach(add); break;
    default:
      for (const k of Object.keys(a)) if (k !== 'kind') add(k);
  }
  const s = parts.join(' ');
  return s.length > 300 ? `${s.slice(0, 299)}…` : s;
}

export function readTrace(raw: unknown): TraceView | null {
  if (!isObj(raw)) return null;
  const steps: TraceStep[] = [];
  for (const s of Array.isArray(raw.steps) ? raw.steps : []) {
    if (!isObj(s) || typeof s.node !== 'string') continue;
    const step: TraceStep = {
      step: typeof s.step === 'number' ? s.step : steps.length + 1,
      node: s.node, kind: String(s.kind ?? ''), next: typeof s.next === 'string' ? s.next : null,
    };
    if (typeof s.outcome === 'string') step.outcome = s.outcome;
    if (isObj(s.effect)) step.effect = s.effect;
    if (s.result !== undefined) step.result = s.result;
    if (typeof s.error === 'string') step.error = s.error;
    if (typeof s.field === 'string') step.field = s.field;
    if (typeof s.column === 'number') step.column = s.column;
    if (typeof s.note === 'string') step.note = s.note;
    steps.push(step);
  }
  const byNode = new Map<string, TraceStep[]>();
  const edgesTaken = new Set<string>();
  for (const s of steps) {
    byNode.set(s.node, [...(byNode.get(s.node) ?? []), s]);
    if (s.next) {
      // The run left by the outcome's branch when there is one, else by next; the canvas has at
      // most one edge per (node, handle), so mark the one whose target matches.
      if (s.outcome) edgesTaken.add(`${edgeId(s.node, s.outcome)}>${s.next}`);
      edgesTaken.add(`${edgeId(s.node, NEXT)}>${s.next}`);
    }
  }
  return {
    flow: String(raw.flow ?? ''), triggered: raw.triggered !== false, completed: raw.completed === true,
    truncated: raw.truncated === true, steps,
    actions: (Array.isArray(raw.actions) ? raw.actions : []).filter(isObj),
    effects: (Array.isArray(raw.effects) ? raw.effects : []).filter(isObj),
    byNode, edgesTaken,
  };
}

/** Whether the run went along this canvas edge. */
export function edgeTaken(view: TraceView | null, e: {id: string; target: string}): boolean {
  return !!view && view.edgesTaken.has(`${e.id}>${e.target}`);
}
