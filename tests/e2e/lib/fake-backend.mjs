// The stand-in for pbx-sim + omnibridge-host while those are not built (E2E_BACKEND=fake). It
// takes the same control commands as pbx-sim ({"cmd":"call",…}, {"cmd":"actions"}) and answers
// the extension with the frames docs/protocol.md specifies, including the default pop. After a
// host restart it re-sends live interactions and their popflow.run, as a resyncing host may: the
// extension must not pop twice. It is a test double for the extension's side only.
import {createServer} from 'node:net';

export class FakeBackend {
  constructor({reasonCodes = ['Break', 'Lunch', 'ACW'], interfaces = ['Local/1001@agents/n', 'Local/1001@omnibridge-task/n']} = {}) {
    this.reasonCodes = reasonCodes;
    this.interfaces = interfaces;
    this.calls = new Map();
    this.actionsLog = [];
    this.hosts = new Set();
    this.agent = {agentId: '1001', state: 'notReady', reason: 'Break', since: new Date().toISOString(), paused: [...interfaces], reasonCodes};
    this.next = 1;
  }

  async start() {
    this.bus = createServer((s) => this.onHost(s));
    this.ctl = createServer((s) => this.onControl(s));
    await Promise.all([this.bus, this.ctl].map((srv) => new Promise((r) => srv.listen(0, '127.0.0.1', r))));
    this.busPort = this.bus.address().port;
    this.controlPort = this.ctl.address().port;
    return this;
  }

  async stop() {
    for (const h of this.hosts) h.destroy();
    await Promise.all([this.bus, this.ctl].map((srv) => new Promise((r) => srv.close(() => r()))));
  }

  onHost(sock) {
    sock.setEncoding('utf8');
    const host = {sock, hello: false, send: (f) => sock.write(JSON.stringify(f) + '\n')};
    this.hosts.add(host);
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.onFrame(host, JSON.parse(line));
        } catch {
          host.send({type: 'error', code: 'invalid_json', message: 'bad frame'});
        }
      }
    });
    sock.on('close', () => this.hosts.delete(host));
    sock.on('error', () => {});
  }

  broadcast(frame) {
    for (const h of this.hosts) if (h.hello) h.send(frame);
  }

  onFrame(host, f) {
    if (f.type === 'hello') {
      host.hello = true;
      host.send({type: 'hello', re: f.id, protocol: 1, version: '0.0.0-fake', capabilities: ['ping', 'agent', 'calls']});
      host.send({type: 'cti.status', state: 'up', driver: 'fake'});
      host.send({type: 'agent.state', ...this.agent});
      for (const c of this.calls.values()) {
        host.send({type: 'interaction.update', interaction: c});
        if (c.state === 'offered' && c.ani) host.send(this.popRun(c));
      }
      return;
    }
    if (!host.hello) return host.send({type: 'error', re: f.id, code: 'handshake_required', message: 'hello first'});
    switch (f.type) {
      case 'ping':
        return host.send({type: 'pong', re: f.id, payload: f.payload});
      case 'agent.setState': {
        const paused = f.state === 'notReady';
        for (const itf of this.interfaces) {
          this.actionsLog.push({Action: 'QueuePause', Interface: itf, Paused: paused ? 'true' : 'false', ...(f.reason ? {Reason: f.reason} : {})});
        }
        host.send({type: 'ack', re: f.id});
        this.agent = {...this.agent, state: paused ? 'notReady' : 'ready', since: new Date().toISOString(), paused: paused ? [...this.interfaces] : []};
        if (paused && f.reason) this.agent.reason = f.reason;
        else delete this.agent.reason;
        setTimeout(() => this.broadcast({type: 'agent.state', ...this.agent}), 5);
        return;
      }
      case 'call.hangup': {
        const c = this.calls.get(f.interactionId);
        if (!c) return host.send({type: 'error', re: f.id, code: 'not_found', message: 'no such interaction'});
        this.actionsLog.push({Action: 'Hangup', Channel: `Local/1001@agents-${c.interactionId};1`});
        host.send({type: 'ack', re: f.id});
        return this.end(c.interactionId);
      }
      case 'call.dial':
        if (typeof f.number !== 'string' || !f.number) {
          return host.send({type: 'error', re: f.id, code: 'invalid_request', message: 'number missing'});
        }
        this.actionsLog.push({Action: 'Originate', Channel: 'Local/1001@agents/n', Exten: f.number});
        return host.send({type: 'ack', re: f.id});
      case 'routing.accept':
      case 'routing.decline':
        this.routing.push({type: f.type, interactionId: f.interactionId});
        host.send({type: 'ack', re: f.id});
        return this.broadcast({type: 'routing.offerWithdrawn', interactionId: f.interactionId});
      case 'crm.event':
        this.crmEvents.push(f);
        return;
      default:
        return host.send({type: 'error', re: f.id, code: 'not_available', message: `${f.type} is not in the fake`});
    }
  }

  crmEvents = [];
  routing = [];

  popRun(c) {
    return {type: 'popflow.run', runId: `run-${c.interactionId}-${this.next++}`, interactionId: c.interactionId, flow: 'default',
      actions: [{kind: 'screenPop', target: 'search', query: c.ani}]};
  }

  end(id) {
    const c = this.calls.get(id);
    if (!c) return;
    this.calls.delete(id);
    this.broadcast({type: 'interaction.update', interaction: {...c, state: 'ended'}});
    this.broadcast({type: 'interaction.ended', interactionId: id});
  }

  onControl(sock) {
    sock.setEncoding('utf8');
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        let reply;
        try {
          reply = this.command(JSON.parse(line));
        } catch (e) {
          reply = {ok: false, error: String(e)};
        }
        sock.write(JSON.stringify(reply) + '\n');
      }
    });
    sock.on('error', () => {});
  }

  command(c) {
    switch (c.cmd) {
      case 'call': {
        const id = `fake-${Date.now()}-${this.next++}`;
        const call = {interactionId: id, channel: 'voice', direction: 'inbound', state: 'offered', ani: c.from,
          callerName: c.name ?? '', dnis: '', queue: c.queue ?? '', data: {}, since: new Date().toISOString()};
        this.calls.set(id, call);
        this.broadcast({type: 'interaction.update', interaction: call});
        if (call.ani) this.broadcast(this.popRun(call));
        return {ok: true, id, linkedid: id};
      }
      case 'answer': {
        const call = [...this.calls.values()].find((x) => !c.id || x.interactionId === c.id);
        if (!call) return {ok: false, error: 'no call'};
        call.state = 'connected';
        call.since = new Date().toISOString();
        this.broadcast({type: 'interaction.update', interaction: call});
        return {ok: true};
      }
      case 'hangup': {
        const one = c.linkedid ?? c.id;
        const ids = one ? [one] : [...this.calls.keys()];
        ids.forEach((id) => this.end(id));
        return {ok: true};
      }
      case 'offer': {
        const offer = {interactionId: c.id ?? `task-${this.next++}`, channel: c.channel ?? 'chat', queue: c.queue ?? 'support',
          subject: c.subject ?? '', customer: c.customer ?? '', url: c.url ?? '', timeoutSeconds: c.timeoutSeconds ?? 30};
        this.broadcast({type: 'routing.offer', offer});
        return {ok: true, id: offer.interactionId};
      }
      case 'actions':
        return {ok: true, actions: this.actionsLog};
      case 'routing':
        return {ok: true, routing: this.routing};
      case 'crmEvents':
        return {ok: true, events: this.crmEvents};
      default:
        return {ok: false, error: `unknown cmd ${c.cmd}`};
    }
  }
}
