// Options: the CRM origins the extension works in (host access requested at runtime for origins
// outside the manifest's list; the worker registers the content script for exactly these origins),
// the adapter per origin, the host name, and host diagnostics.
import type {Snapshot} from '../shared/messages';
import {describeAgent, describeCti, describeHost} from '../shared/describe';
import {isObject} from '../shared/protocol';
import {hostRequest, send} from '../shared/send';
import {type CrmSettings, type EffectiveSettings, mergeSettings, normalizeOrigin, originPattern} from '../shared/settings';
import {createAdapter} from '../../adapters/index';

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

async function load(): Promise<{local: Record<string, unknown>; effective: EffectiveSettings}> {
  const local = (await chrome.storage.local.get(null)) as Record<string, unknown>;
  let managed: Record<string, unknown> = {};
  try {
    managed = (await chrome.storage.managed.get(null)) as Record<string, unknown>;
  } catch {
    // no policy
  }
  return {local, effective: mergeSettings(local, managed)};
}

function cell(...children: Array<Node | string>): HTMLTableCellElement {
  const td = document.createElement('td');
  for (const c of children) td.append(c);
  return td;
}

let renderSeq = 0;

/** Rebuilds the page from storage; a newer call supersedes an older one still awaiting. */
async function render(): Promise<void> {
  const seq = ++renderSeq;
  const {effective} = await load();
  const enforcedCrm = effective.enforced.includes('crm');
  $('crm-enforced').hidden = !enforcedCrm;
  $<HTMLFormElement>('crm-form').hidden = enforcedCrm;
  const built: HTMLTableRowElement[] = [];
  for (const c of effective.crm) {
    const tr = document.createElement('tr');
    const granted = await chrome.permissions.contains({origins: [originPattern(c.origin)]});
    const extra = [
      ...Object.entries(c.templates ?? {}).map(([k, v]) => `${k}: ${v}`),
      ...Object.entries(c.options ?? {}).map(([k, v]) => `${k}: ${v}`),
    ].join('\n');
    const pre = document.createElement('span');
    pre.style.whiteSpace = 'pre-wrap';
    pre.textContent = extra || '—';
    const access = document.createElement('span');
    access.textContent = granted ? 'granted' : 'not granted';
    access.setAttribute('data-state', granted ? 'ready' : 'error');
    const actions = document.createElement('td');
    if (!granted) {
      const grant = document.createElement('button');
      grant.type = 'button';
      grant.textContent = 'Grant access';
      grant.addEventListener('click', () => void requestAccess(c.origin).then(render));
      actions.append(grant);
    }
    if (!enforcedCrm) {
      const rm = document.createElement('button');
      rm.type = 'button';
      rm.textContent = 'Remove';
      rm.setAttribute('aria-label', `Remove ${c.origin}`);
      rm.addEventListener('click', () => void removeCrm(c.origin));
      actions.append(rm);
    }
    tr.append(cell(c.origin), cell(c.adapter), cell(pre), cell(access), actions);
    built.push(tr);
  }
  if (seq !== renderSeq) return;
  $('crm-rows').replaceChildren(...built);
  $<HTMLInputElement>('host-name').value = effective.hostName;
  const hostEnforced = effective.enforced.includes('hostName');
  $<HTMLInputElement>('host-name').disabled = hostEnforced;
  $<HTMLButtonElement>('host-name-save').disabled = hostEnforced;
  $('host-enforced').hidden = !hostEnforced;
}

/** Asks for host access to one origin (must run in a click handler: it may prompt). */
async function requestAccess(origin: string): Promise<boolean> {
  return chrome.permissions.request({origins: [originPattern(origin)]});
}

async function saveCrm(list: CrmSettings[]): Promise<void> {
  await chrome.storage.local.set({crm: list});
}

async function removeCrm(origin: string): Promise<void> {
  const {effective} = await load();
  await saveCrm(effective.crm.filter((c) => c.origin !== origin));
  const pattern = originPattern(origin);
  const manifestHosts = chrome.runtime.getManifest().host_permissions ?? [];
  if (!manifestHosts.includes(pattern)) await chrome.permissions.remove({origins: [pattern]}).catch(() => false);
  await render();
}

$<HTMLFormElement>('crm-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const error = $('crm-error');
  error.textContent = '';
  const origin = normalizeOrigin($<HTMLInputElement>('crm-origin').value);
  if (!origin) {
    error.textContent = 'Enter an http or https origin, e.g. https://crm.example.com';
    return;
  }
  const adapter = $<HTMLSelectElement>('crm-adapter').value as CrmSettings['adapter'];
  const entry: CrmSettings = {origin, adapter};
  if (adapter === 'generic') {
    const templates: NonNullable<CrmSettings['templates']> = {};
    for (const k of ['search', 'record', 'newRecord'] as const) {
      const v = $<HTMLInputElement>(`tpl-${k}`).value.trim();
      if (v) templates[k] = v;
    }
    entry.templates = templates;
  }
  const optText = $<HTMLInputElement>('crm-options').value.trim();
  if (optText) {
    try {
      const o: unknown = JSON.parse(optText);
      if (!isObject(o)) throw new Error('not an object');
      entry.options = o as CrmSettings['options'];
    } catch (err) {
      error.textContent = `Adapter options must be a JSON object (${String(err)})`;
      return;
    }
  }
  try {
    createAdapter(entry);  // surfaces template mistakes here, not at pop time
  } catch (err) {
    error.textContent = err instanceof Error ? err.message : String(err);
    return;
  }
  // The permission request must start inside the user gesture, before any other await.
  requestAccess(origin).then(async (granted) => {
    if (!granted) {
      error.textContent = `Access to ${origin} was not granted; the agent bar cannot run there.`;
      return;
    }
    const {effective} = await load();
    await saveCrm([...effective.crm.filter((c) => c.origin !== origin), entry]);
    $<HTMLFormElement>('crm-form').reset();
    await render();
  }).catch((err: unknown) => {
    error.textContent = String(err);
  });
});

$<HTMLSelectElement>('crm-adapter').addEventListener('change', () => {
  $('generic-templates').hidden = $<HTMLSelectElement>('crm-adapter').value !== 'generic';
});

$('host-name-save').addEventListener('click', () => {
  const v = $<HTMLInputElement>('host-name').value.trim();
  void (v ? chrome.storage.local.set({hostName: v}) : chrome.storage.local.remove('hostName')).then(render);
});

$('reconnect').addEventListener('click', () => void send({kind: 'host.reconnect'}));
$('doctor').addEventListener('click', () => {
  const out = $('doctor-out');
  out.textContent = 'running…';
  hostRequest('doctor').then((r) => {
    out.textContent = JSON.stringify(r, null, 2);
  }, (e: unknown) => {
    out.textContent = `diagnostics failed: ${e instanceof Error ? e.message : String(e)}`;
  });
});

async function refreshStatus(): Promise<void> {
  try {
    const s = await send<Snapshot>({kind: 'status.get'});
    $('diag-host').textContent = describeHost(s.host);
    $('diag-host').setAttribute('data-state', s.host.state);
    $('diag-caps').textContent = s.host.capabilities?.join(', ') || '—';
    $('diag-cti').textContent = describeCti(s.cti);
    $('diag-agent').textContent = describeAgent(s.agent);
  } catch (e) {
    $('diag-host').textContent = `extension not answering: ${String(e)}`;
  }
}

chrome.storage.onChanged.addListener(() => void render());
void render();
void refreshStatus();
setInterval(() => void refreshStatus(), 1000);
