// The MV3 service worker. Every listener is registered synchronously at top level so that events
// that wake the worker are never lost; work waits behind `init`. This is the one background module
// that touches chrome.*; the logic lives in controller.ts, native-port.ts, router.ts.
import {type EffectiveSettings, enterpriseLayer, mergeSettings, originPattern} from '../shared/settings';
import type {ToContent} from '../shared/messages';
import {createAdapter} from '../../adapters/index';
import type {MainWorldResult} from '../../adapters/types';
import {Controller, type Platform} from './controller';
import {NativePort} from './native-port';
import {RouteError} from './router';
import {SessionState} from './session-state';

const CONTENT_SCRIPT_ID = 'omnibridge-crm';
const KEEPALIVE_ALARM = 'omnibridge.reconnect';

let settings: EffectiveSettings = mergeSettings({}, {});
let managedRaw: Record<string, unknown> = {};

async function readManaged(): Promise<Record<string, unknown>> {
  try {
    return (await chrome.storage.managed.get(null)) as Record<string, unknown>;
  } catch {
    return {};  // no policy on this machine
  }
}

async function loadSettings(): Promise<void> {
  const [local, managed] = await Promise.all([
    chrome.storage.local.get(null) as Promise<Record<string, unknown>>, readManaged(),
  ]);
  managedRaw = managed;
  settings = mergeSettings(local, managed);
}

const platform: Platform = {
  sendToTab: (tabId, message: ToContent) => chrome.tabs.sendMessage(tabId, message, {frameId: 0}),
  setBadge: (b) => {
    void chrome.action.setBadgeText({text: b.text});
    void chrome.action.setBadgeBackgroundColor({color: b.color});
    void chrome.action.setTitle({title: b.title});
  },
  openTab: async (url) => {
    await chrome.tabs.create({url});
  },
  runMainWorld: async (tabId, crm, request) => {
    let adapter;
    try {
      adapter = createAdapter(crm);
    } catch (e) {
      return {ok: false, done: false, error: `invalid CRM settings: ${String(e)}`};
    }
    const mw = adapter.mainWorld;
    if (!mw || !mw.ops.includes(request.op)) {
      return {ok: false, done: false, error: `${adapter.id} has no page API for ${request.op}`};
    }
    const [res] = await chrome.scripting.executeScript({
      target: {tabId, frameIds: [0]}, world: 'MAIN', func: mw.run, args: [request],
    });
    return (res?.result as MainWorldResult | undefined) ?? {ok: false, done: false, error: 'no result'};
  },
  now: () => Date.now(),
  setTimer: (cb, ms) => setTimeout(cb, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  log: (...args) => console.warn('omnibridge:', ...args),
};

const port = new NativePort(
    {
      connect: (name) => chrome.runtime.connectNative(name),
      lastError: () => chrome.runtime.lastError?.message,
      setTimer: (cb, ms) => setTimeout(cb, ms),
      clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
      random: Math.random,
    },
    {
      hostName: settings.hostName,
      extensionVersion: chrome.runtime.getManifest().version,
      settings: () => enterpriseLayer(managedRaw),
    });

const session = new SessionState(
    {
      get: (keys) => chrome.storage.session.get(keys) as Promise<Record<string, unknown>>,
      set: (items) => chrome.storage.session.set(items),
    },
    () => Date.now());

const controller = new Controller(port, session, platform, () => settings, () => ({
  extensionId: chrome.runtime.id,
  extensionOrigin: `chrome-extension://${chrome.runtime.id}`,
  isCrmOrigin: (origin) => settings.crm.some((c) => c.origin === origin),
}));

/** Registers the content script for exactly the configured CRM origins the extension may access. */
async function syncContentScripts(): Promise<void> {
  const patterns: string[] = [];
  for (const c of settings.crm) {
    const pattern = originPattern(c.origin);
    if (await chrome.permissions.contains({origins: [pattern]})) patterns.push(pattern);
  }
  const existing = await chrome.scripting.getRegisteredContentScripts({ids: [CONTENT_SCRIPT_ID]});
  if (patterns.length === 0) {
    if (existing.length) await chrome.scripting.unregisterContentScripts({ids: [CONTENT_SCRIPT_ID]});
    return;
  }
  const script: chrome.scripting.RegisteredContentScript = {
    id: CONTENT_SCRIPT_ID, js: ['content.js'], matches: patterns, runAt: 'document_idle',
    allFrames: false, persistAcrossSessions: true,
  };
  if (existing.length) await chrome.scripting.updateContentScripts([script]);
  else await chrome.scripting.registerContentScripts([script]);
  // Tabs already open on a newly added origin get the agent bar now, not at their next load (the
  // content script ignores a second injection).
  const before = new Set(existing[0]?.matches ?? []);
  const added = patterns.filter((p) => !before.has(p));
  if (added.length) {
    for (const tab of await chrome.tabs.query({url: added})) {
      if (tab.id === undefined) continue;
      await chrome.scripting.executeScript({target: {tabId: tab.id, frameIds: [0]}, files: ['content.js']})
          .catch((e) => platform.log('injecting into an open CRM tab failed', e));
    }
  }
}

async function settingsChanged(): Promise<void> {
  await loadSettings();
  port.setHostName(settings.hostName);
  await syncContentScripts().catch((e) => platform.log('content script registration failed', e));
  await controller.republish();
}

const init: Promise<void> = (async () => {
  await loadSettings();
  port.setHostName(settings.hostName);
  port.start();
  await syncContentScripts().catch((e) => platform.log('content script registration failed', e));
  await chrome.alarms.create(KEEPALIVE_ALARM, {periodInMinutes: 0.5});
  await controller.republish();
})();

// ---- top-level listeners ----------------------------------------------------------------------

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  init.then(() => controller.router.dispatch(message, sender))
      .then((result) => sendResponse({ok: true, result}))
      .catch((e: unknown) => {
        const code = e instanceof RouteError ? e.code : 'internal';
        sendResponse({ok: false, error: {code, message: String((e as Error)?.message ?? e)}});
      });
  return true;  // answered asynchronously
});

chrome.storage.onChanged.addListener((_changes, area) => {
  if (area === 'local' || area === 'managed') void init.then(settingsChanged);
});

chrome.permissions.onAdded.addListener(() => void init.then(settingsChanged));
chrome.permissions.onRemoved.addListener(() => void init.then(settingsChanged));

chrome.tabs.onRemoved.addListener((tabId) => void init.then(() => controller.tabClosed(tabId)));
chrome.tabs.onActivated.addListener(({tabId}) => void init.then(() => controller.tabFocused(tabId)));
chrome.windows.onFocusChanged.addListener((windowId) => {
  if (windowId === chrome.windows.WINDOW_ID_NONE) return;
  void init.then(async () => {
    const [tab] = await chrome.tabs.query({active: true, windowId});
    if (tab?.id !== undefined) await controller.tabFocused(tab.id);
  });
});

chrome.alarms.onAlarm.addListener((alarm) => {
  // A safety net under the in-memory backoff timer: a worker woken by the alarm reconnects.
  if (alarm.name === KEEPALIVE_ALARM) void init.then(() => port.start());
});

chrome.runtime.onInstalled.addListener(() => void init.then(settingsChanged));
chrome.runtime.onStartup.addListener(() => void init);
