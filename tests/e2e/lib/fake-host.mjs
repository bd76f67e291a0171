#!/usr/bin/env node
// Test double for omnibridge-host, used only when the real host and pbx-sim are not built
// (E2E_BACKEND=fake): speaks native-messaging frames on stdin/stdout and relays them, as JSON
// lines, to the FakeBackend in the test process (port in OB_FAKE_BUS_PORT). Exits on EOF, as the
// real host must.
import {connect} from 'node:net';

const bus = connect(Number(process.env.OB_FAKE_BUS_PORT), '127.0.0.1');
let inbuf = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  inbuf = Buffer.concat([inbuf, chunk]);
  while (inbuf.length >= 4) {
    const n = inbuf.readUInt32LE(0);
    if (inbuf.length < 4 + n) break;
    bus.write(inbuf.subarray(4, 4 + n).toString('utf8') + '\n');
    inbuf = inbuf.subarray(4 + n);
  }
});
process.stdin.on('end', () => process.exit(0));
let lines = '';
bus.setEncoding('utf8');
bus.on('data', (d) => {
  lines += d;
  let i;
  while ((i = lines.indexOf('\n')) >= 0) {
    const body = Buffer.from(lines.slice(0, i), 'utf8');
    lines = lines.slice(i + 1);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length, 0);
    process.stdout.write(Buffer.concat([head, body]));
  }
});
bus.on('close', () => process.exit(0));
bus.on('error', () => process.exit(1));
