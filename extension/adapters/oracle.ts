// Oracle B2C Service (formerly RightNow), Agent Browser UI.
//
// The Browser UI is a single-page app with no documented deep-link URL for a record, a search or a
// new record, so every URL method returns null: a URL cannot do it. Everything goes through the
// Browser UI Extensibility Framework in the page (main-world/oracle.ts): open a record
// (editWorkspaceRecord), open a new pre-filled one (createWorkspaceRecord + updateField), and
// search-and-pop (Connect REST queryResults with the agent's session, then editWorkspaceRecord).
// Logging an activity is not available in the page; it belongs to the host (Connect REST).

import type { CrmAdapter, CrmSettings } from './types.js';
import { normalizeOrigin } from './util.js';
import { oracleMainWorld } from './main-world/oracle.js';

export class OracleAdapter implements CrmAdapter {
  readonly id = 'oracle';
  readonly origin: string;
  readonly mainWorld = {
    ops: ['search', 'record', 'newRecord'] as const,
    preferFor: ['search', 'record', 'newRecord'] as const,
    requires: 'ORACLE_SERVICE_CLOUD.extension_loader (a Browser UI add-in frame)',
    run: oracleMainWorld,
  };

  constructor(settings: CrmSettings) {
    this.origin = normalizeOrigin(settings.origin, 'oracle');
  }

  searchUrl(_query: { phone?: string; email?: string }): string | null {
    return null;
  }

  recordUrl(_recordType: string, _recordId: string): string | null {
    return null;
  }

  newRecordUrl(_recordType: string, _fields: Record<string, string>): string | null {
    return null;
  }

  logActivityUrl(_activity: { subject: string; body: string; recordId?: string }): string | null {
    return null;
  }
}
