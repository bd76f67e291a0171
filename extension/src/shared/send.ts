// Sends a message to the worker and unwraps its {ok, result} / {ok: false, error} envelope.
import type {HostRequestReply, ToWorker} from './messages';

export class WorkerError extends Error {
  constructor(readonly code: string, message: string, readonly diagnostics?: unknown[]) {
    super(message);
  }
}

export async function send<T = unknown>(message: ToWorker): Promise<T> {
  const reply = (await chrome.runtime.sendMessage(message)) as
      {ok: true; result: T} | {ok: false; error: {code: string; message: string}} | undefined;
  if (!reply) throw new WorkerError('no_reply', 'the extension did not answer');
  if (!reply.ok) throw new WorkerError(reply.error.code, reply.error.message);
  return reply.result;
}

/** A request to the host through the worker; throws WorkerError with the host's error code. */
export async function hostRequest(type: string, body: Record<string, unknown> = {}):
    Promise<Record<string, unknown>> {
  const r = await send<HostRequestReply>({kind: 'host.request', type, body});
  if (!r.ok) throw new WorkerError(r.error.code, r.error.message, r.error.diagnostics);
  return r.reply;
}
