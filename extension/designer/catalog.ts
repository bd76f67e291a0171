// What the designer offers, read from docs/popflow.schema.json (bundled at build time): the
// triggers, the node kinds with their fields and outcomes. Only the labels and help text are ours.
import rawSchema from '../../docs/popflow.schema.json';
import {SchemaChecker} from './schema-check';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const SCHEMA = rawSchema as unknown as Obj;
export const SCHEMA_ID = 'omnibridge.popflow/1';
export const checker = new SchemaChecker(SCHEMA);

const defs = SCHEMA.$defs as Record<string, Obj>;

/** Fields every node has; the inspector shows them apart, the edges carry next/branches. */
export const COMMON_NODE_FIELDS: ReadonlySet<string> = new Set(['id', 'kind', 'label', 'ui', 'next', 'branches']);

export type FieldWidget = 'expression' | 'template' | 'text' | 'enum' | 'number' | 'boolean' | 'map' | 'list' | 'json';

export interface FieldSpec {
  name: string;
  widget: FieldWidget;
  required: boolean;
  options?: string[];
  description?: string;
}

export interface KindSpec {
  kind: string;
  /** The schema definition's name, e.g. "ifNode". */
  def: string;
  label: string;
  group: 'Logic' | 'CRM' | 'Host';
  help: string;
  fields: FieldSpec[];
  /** Fixed outcomes from the schema (if: true/false, crmSearch: none/one/many/error). */
  outcomes: string[];
  /** Outcomes named by the flow (switch values, toast buttons). */
  dynamicOutcomes: boolean;
  /** Whether the node may have a "next" edge (not on end). */
  hasNext: boolean;
}

const KIND_TEXT: Record<string, [string, KindSpec['group'], string]> = {
  if: ['If', 'Logic', 'Goes to "true" or "false" by a condition.'],
  switch: ['Switch', 'Logic', 'Goes to the branch named by a value, else "next".'],
  set: ['Set variable', 'Logic', 'vars.<name> = an expression.'],
  unset: ['Unset variable', 'Logic', 'Removes vars.<name>.'],
  format: ['Format', 'Logic', 'Phone to E.164, dates, join, replace, slice.'],
  delay: ['Delay', 'Logic', 'Waits up to 60 s.'],
  end: ['End', 'Logic', 'Ends the run.'],
  crmSearch: ['CRM search', 'CRM', 'Searches the CRM; outcomes none / one / many / error.'],
  screenPop: ['Screen pop', 'CRM', 'Opens a record, a new record, a search page or a URL.'],
  toast: ['Toast / modal', 'CRM', 'Shows a notification, optionally with buttons.'],
  fillField: ['Fill field', 'CRM', 'Sets a field on the CRM page.'],
  setDisposition: ['Set disposition', 'CRM', 'Sets the wrap-up code.'],
  logActivity: ['Log activity', 'CRM', 'Logs an activity through the CRM or HTTP.'],
  httpRequest: ['HTTP request', 'Host', 'GET/POST JSON from the host (credentials by name).'],
  setAgentState: ['Set agent state', 'Host', 'Ready / not ready on the ACD.'],
  launchApp: ['Launch app', 'Host', 'Starts an allowlisted desktop program.'],
};

export const TRIGGER_TEXT: Record<string, string> = {
  'interaction.offered': 'Interaction offered',
  'interaction.connected': 'Interaction connected',
  'interaction.held': 'Interaction held',
  'interaction.resumed': 'Interaction resumed',
  'interaction.transferred': 'Interaction transferred',
  'interaction.ended': 'Interaction ended',
  'interaction.missed': 'Interaction missed',
  'interaction.wrapupStarted': 'Wrap-up started',
  'interaction.wrapupEnded': 'Wrap-up ended',
  'routing.offerAccepted': 'Routing offer accepted',
  'routing.offerDeclined': 'Routing offer declined',
  'agent.stateChanged': 'Agent state changed',
  'button.clicked': 'Flow button clicked',
  'connect.event': 'Connect API event',
};

function widgetOf(prop: unknown): Pick<FieldSpec, 'widget' | 'options' | 'description'> {
  if (!isObj(prop)) return {widget: 'json'};
  const description = typeof prop.description === 'string' ? prop.description : undefined;
  const base = description ? {description} : {};
  if (typeof prop.$ref === 'string') {
    const name = prop.$ref.split('/').pop()!;
    if (name === 'expression') return {widget: 'expression', ...base};
    if (name === 'template') return {widget: 'template', ...base};
    if (name === 'templateMap' || name === 'headers') return {widget: 'map', ...base};
    return {widget: 'text', ...base};
  }
  if (Array.isArray(prop.enum)) return {widget: 'enum', options: prop.enum.map(String), ...base};
  if (prop.type === 'number' || prop.type === 'integer') return {widget: 'number', ...base};
  if (prop.type === 'boolean') return {widget: 'boolean', ...base};
  if (prop.type === 'array' && isObj(prop.items) && prop.items.$ref === '#/$defs/template') return {widget: 'list', ...base};
  return {widget: 'json', ...base};
}

function buildKinds(): KindSpec[] {
  const node = defs.node as Obj;
  const kinds: KindSpec[] = [];
  for (const ref of node.oneOf as Obj[]) {
    const def = String(ref.$ref).split('/').pop()!;
    const d = defs[def]!;
    const props = d.properties as Obj;
    const kind = String((props.kind as Obj).const);
    const required = new Set((d.required as string[]) ?? []);
    const fields: FieldSpec[] = [];
    for (const [name, prop] of Object.entries(props)) {
      if (COMMON_NODE_FIELDS.has(name)) continue;
      fields.push({name, required: required.has(name), ...widgetOf(prop)});
    }
    const branches = props.branches;
    let outcomes: string[] = [];
    let dynamicOutcomes = false;
    if (isObj(branches)) {
      if (isObj(branches.properties)) outcomes = Object.keys(branches.properties);
      if (branches.additionalProperties !== false) dynamicOutcomes = true;
    }
    const [label, group, help] = KIND_TEXT[kind] ?? [kind, 'Logic', ''];
    kinds.push({kind, def, label, group, help, fields, outcomes, dynamicOutcomes, hasNext: 'next' in props});
  }
  return kinds;
}

export const KINDS: readonly KindSpec[] = buildKinds();
export const KIND_BY_NAME: ReadonlyMap<string, KindSpec> = new Map(KINDS.map((k) => [k.kind, k]));

export const TRIGGERS: readonly string[] =
  ((((SCHEMA.properties as Obj).trigger as Obj).properties as Obj).event as Obj).enum as string[];

/** Triggers that take a name (the event name for connect.event, the button label for button.clicked). */
export const NAMED_TRIGGERS: ReadonlySet<string> = new Set(['connect.event', 'button.clicked']);

/** Outcome handles a node of this kind shows, given its current fields and branches. */
export function outcomesOf(kind: string, props: Obj, branches: readonly string[] = []): string[] {
  const spec = KIND_BY_NAME.get(kind);
  if (!spec) return [];
  const out = [...spec.outcomes];
  if (kind === 'toast' && Array.isArray(props.buttons)) {
    for (const b of props.buttons) if (isObj(b) && typeof b.id === 'string' && b.id) out.push(b.id);
    if (props.buttons.length) out.push('timeout');
  }
  if (spec.dynamicOutcomes) for (const b of branches) if (!out.includes(b)) out.push(b);
  return out;
}

/** Initial fields of a node dropped from the palette: every required field, with a sensible value. */
export function defaultProps(kind: string): Obj {
  switch (kind) {
    case 'if': return {condition: "interaction.queue == 'vip'"};
    case 'switch': return {value: 'interaction.queue'};
    case 'set': return {name: 'x', value: "''"};
    case 'unset': return {name: 'x'};
    case 'format': return {op: 'e164', input: 'interaction.ani', into: 'phone'};
    case 'crmSearch': return {field: 'phone', value: '{{ interaction.ani }}'};
    case 'screenPop': return {target: 'record', recordType: 'Contact'};
    case 'toast': return {message: 'Call from {{ interaction.ani }}'};
    case 'fillField': return {field: 'description', value: '{{ interaction.ani }}'};
    case 'setDisposition': return {value: 'resolved'};
    case 'logActivity': return {subject: 'Call with {{ interaction.ani }}'};
    case 'httpRequest': return {method: 'GET', url: 'https://'};
    case 'setAgentState': return {state: 'notReady'};
    case 'delay': return {seconds: 1};
    case 'launchApp': return {app: 'app'};
    default: return {};
  }
}

const SAMPLE_VALUE: Record<FieldWidget, unknown> = {
  expression: 'x', template: 'x', text: 'x', enum: 'x', number: 1, boolean: true, map: {}, list: [], json: {},
};

/**
 * Whether a field applies to a node with these props: false when the schema says it "is not used
 * with this setting" (e.g. `query` on a screenPop whose target is record). The inspector hides
 * such fields unless they hold a value (then the value shows with its error).
 */
export function fieldApplies(kind: string, props: Obj, field: FieldSpec): boolean {
  const spec = KIND_BY_NAME.get(kind);
  if (!spec) return true;
  const probe = {...props, id: 'probe', kind, [field.name]: field.options?.[0] ?? SAMPLE_VALUE[field.widget]};
  return !checker.check(probe, checker.resolve(`#/$defs/${spec.def}`))
      .some((p) => p.path.length === 1 && p.path[0] === field.name && p.message === 'is not used with this setting');
}
