// The shadow root's own stylesheet. `all: initial` on the host keeps the CRM's CSS out.
export const STYLES = `
:host { all: initial; }
* { box-sizing: border-box; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.bar { position: fixed; left: 12px; right: 12px; bottom: 12px; z-index: 2147483646;
  display: flex; flex-wrap: wrap; align-items: center; gap: 8px 12px; padding: 8px 12px;
  background: #15202b; color: #f4f6f8; border-radius: 10px; font-size: 13px;
  box-shadow: 0 6px 24px rgba(0,0,0,.35); }
.bar.collapsed > :not(.head) { display: none; }
.head { display: flex; align-items: center; gap: 8px; }
.dot { width: 10px; height: 10px; border-radius: 50%; background: #888; flex: none; }
.dot.ready { background: #2ecc71; } .dot.notReady { background: #e0a800; }
.dot.busy { background: #3d8bfd; } .dot.wrapup { background: #a970ff; } .dot.down { background: #ff4d4f; }
.state { font-weight: 600; } .muted { color: #9fb0c0; } .warn { color: #ffb4b4; }
.group { display: flex; align-items: center; gap: 6px; }
button, select, input { font-size: 13px; border-radius: 6px; border: 1px solid #4a5a6a;
  background: #22303c; color: #f4f6f8; padding: 4px 8px; }
button { cursor: pointer; } button:hover:not(:disabled) { background: #2c3e4e; }
button:disabled { opacity: .5; cursor: default; }
button[aria-pressed="true"] { background: #1b7f3b; border-color: #1b7f3b; }
button.primary { background: #1b7f3b; border-color: #1b7f3b; }
button.danger { background: #a12626; border-color: #a12626; }
:focus-visible { outline: 2px solid #7cc4ff; outline-offset: 2px; }
input { width: 130px; } input::placeholder { color: #8899aa; }
ul.calls { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 6px; }
ul.calls li { display: flex; align-items: center; gap: 6px; padding: 3px 8px; border-radius: 8px; background: #22303c; }
.name { font-weight: 600; max-width: 220px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.error { color: #ffb4b4; }
.stack { position: fixed; top: 12px; right: 12px; z-index: 2147483647; display: flex;
  flex-direction: column; gap: 8px; width: 320px; }
.card { background: #ffffff; color: #15202b; border-radius: 10px; padding: 12px 14px;
  box-shadow: 0 6px 24px rgba(0,0,0,.3); border-left: 5px solid #3d8bfd; font-size: 13px; }
.card.offer { border-left-color: #1b7f3b; }
.card h2 { font-size: 14px; margin: 0 0 4px; }
.card p { margin: 2px 0; overflow-wrap: anywhere; }
.card .actions { display: flex; gap: 8px; margin-top: 8px; justify-content: flex-end; }
.card button { background: #eef2f6; color: #15202b; border-color: #c5cfd9; }
.card button.primary { background: #1b7f3b; color: #fff; border-color: #1b7f3b; }
.card button.danger { background: #a12626; color: #fff; border-color: #a12626; }
.card .muted { color: #5b6b7b; }
.countdown { font-variant-numeric: tabular-nums; font-weight: 600; }
.modal-backdrop { position: fixed; inset: 0; background: rgba(0,0,0,.35); z-index: 2147483647;
  display: flex; align-items: center; justify-content: center; }
.modal-backdrop .card { width: 360px; }
`;
