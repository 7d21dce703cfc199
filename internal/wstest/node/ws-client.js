#!/usr/bin/env node
// ws-client.js — the npm `ws` client as a reference peer for wsactor's
// interop tests: connect, run a scripted exchange, report what happened.
//
// Usage: node ws-client.js URL [--script steps.json | --steps 'JSON'] [options]
//
//   --protocols a,b                offer these subprotocols
//   --deflate                      offer permessage-deflate (threshold 0), with
//     --server-no-context-takeover / --client-no-context-takeover
//     --server-max-window-bits N / --client-max-window-bits N
//   --origin O                     send Origin: O
//   --header 'Name: value'         extra request header (repeatable)
//   --max-payload N                ws maxPayload for received messages
//   --timeout MS                   per-step timeout (default 10000)
//
// Steps (a JSON array; every field but "op" optional):
//   {"op":"send","type":"text"|"binary", one of: "text":"…" | "hex":"…" |
//        "size":N,"fill":"seq"|"prng","seed":S,
//        "fragmentSize":K  (send in frames of K bytes, fin:false until the last),
//        "compress":false  (skip compression for this message)}
//   {"op":"expect","type":"text"|"binary", "text":"…" (exact) and/or
//        "len":N,"sha256":"hex" | "size":N,"fill":…,"seed":S (computed)}
//   {"op":"ping","data":"…"}        ping, wait for the pong, check its payload
//   {"op":"close","code":N,"reason":"…","expectCode":N,"expectReason":"…"}
//                                   start the close handshake, wait for it to end
//   {"op":"wait-close","expectCode":N,"expectReason":"…"}
//                                   wait for a close the peer starts (messages
//                                   and errors before it are skipped)
//   {"op":"expect-error","errorCode":"WS_ERR_…"} wait for a ws error event
//   {"op":"expect-reject","status":N}  (first step only) the handshake must be
//                                   refused with HTTP status N
//   {"op":"sleep","ms":N}
//
// Fill patterns (also in Go: wstest.Fill): "seq": byte i = i mod 256;
// "prng": xorshift32 from seed (default 1; seed 0 means 1), byte i = low byte
// of the state after step i+1. For "text", each byte b becomes 'a' + b mod 26.
//
// Stdout: one JSON line per event:
//   {"event":"upgrade","status":101,"headers":{"sec-websocket-accept":"…",…}}
//     (header names lower case; repeated headers joined with ", ")
//   {"event":"open","protocol":"…","extensions":"…"}   (extensions: the whole
//     Sec-WebSocket-Extensions response header, e.g. "permessage-deflate; server_no_context_takeover")
//   {"event":"message","type":"text","len":N,"sha256":"hex","text":"…"(text ≤ 1024 bytes)}
//   {"event":"pong","data":"…"}
//   {"event":"close","code":N,"reason":"…"}
//   {"event":"error","message":"…","errorCode":"WS_ERR_…","closeCode":N}
//   {"event":"unexpected-response","status":N,"headers":{…}}
//   {"event":"fail","step":I,"reason":"…"}     then exit 1
//   {"event":"done"}                           then exit 0
// After the last step an open connection is closed with 1000.
'use strict';

const fs = require('fs');
const crypto = require('crypto');
const WebSocket = require('ws');

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function usage(msg) {
  process.stderr.write(`ws-client.js: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { url: null, steps: [], protocols: [], deflate: false, deflateOpts: {}, origin: null, headers: {}, maxPayload: null, timeout: 10000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    const int = (v) => {
      const n = Number(v);
      if (!Number.isInteger(n)) usage(`${a}: not an integer: ${v}`);
      return n;
    };
    switch (a) {
      case '--script': o.steps = JSON.parse(fs.readFileSync(next(), 'utf8')); break;
      case '--steps': o.steps = JSON.parse(next()); break;
      case '--protocols': o.protocols = next().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--deflate': o.deflate = true; break;
      case '--server-no-context-takeover': o.deflate = true; o.deflateOpts.serverNoContextTakeover = true; break;
      case '--client-no-context-takeover': o.deflate = true; o.deflateOpts.clientNoContextTakeover = true; break;
      case '--server-max-window-bits': o.deflate = true; o.deflateOpts.serverMaxWindowBits = int(next()); break;
      case '--client-max-window-bits': o.deflate = true; o.deflateOpts.clientMaxWindowBits = int(next()); break;
      case '--origin': o.origin = next(); break;
      case '--header': {
        const h = next();
        const c = h.indexOf(':');
        if (c <= 0) usage(`--header wants 'Name: value', got ${h}`);
        o.headers[h.slice(0, c).trim()] = h.slice(c + 1).trim();
        break;
      }
      case '--max-payload': o.maxPayload = int(next()); break;
      case '--timeout': o.timeout = int(next()); break;
      default:
        if (a.startsWith('--') || o.url !== null) usage(`unknown argument ${a}`);
        o.url = a;
    }
  }
  if (!o.url) usage('missing URL');
  if (!Array.isArray(o.steps)) usage('steps must be a JSON array');
  return o;
}

// fill returns the deterministic payload described by a step.
function fill(type, size, pattern, seed) {
  const b = Buffer.alloc(size);
  if (pattern === 'prng') {
    let x = (seed >>> 0) || 1;
    for (let i = 0; i < size; i++) {
      x ^= x << 13; x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5; x >>>= 0;
      b[i] = x & 0xff;
    }
  } else if (pattern === undefined || pattern === 'seq') {
    for (let i = 0; i < size; i++) b[i] = i & 0xff;
  } else {
    throw new Error(`unknown fill ${pattern}`);
  }
  if (type === 'text') for (let i = 0; i < size; i++) b[i] = 0x61 + (b[i] % 26);
  return b;
}

function payload(step) {
  if (step.text !== undefined) return Buffer.from(step.text, 'utf8');
  if (step.hex !== undefined) return Buffer.from(step.hex, 'hex');
  return fill(step.type, step.size || 0, step.fill, step.seed || 1);
}

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

function errorEvent(err) {
  const ev = { event: 'error', message: String(err && err.message) };
  if (err && err.code) ev.errorCode = err.code;
  for (const s of Object.getOwnPropertySymbols(err || {})) {
    if (String(s) === 'Symbol(status-code)') ev.closeCode = err[s];
  }
  return ev;
}

const opts = parseArgs(process.argv.slice(2));

// Everything the connection reports goes into one queue; steps consume it.
const queue = [];
let waiter = null;
function push(ev) {
  out(ev);
  queue.push(ev);
  if (waiter) {
    const w = waiter;
    waiter = null;
    w();
  }
}

// next waits for the first queued event accepted by want (others stay queued
// unless they are failures no step can expect).
function next(want, what, timeout) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiter = null;
      reject(new Error(`timeout after ${timeout}ms waiting for ${what}`));
    }, timeout);
    const check = () => {
      for (let i = 0; i < queue.length; i++) {
        const ev = queue[i];
        if (want(ev)) {
          queue.splice(i, 1);
          clearTimeout(timer);
          resolve(ev);
          return;
        }
        if (ev.event === 'close' || ev.event === 'unexpected-response') {
          clearTimeout(timer);
          reject(new Error(`connection ended (${JSON.stringify(ev)}) while waiting for ${what}`));
          return;
        }
      }
      waiter = check;
    };
    check();
  });
}

const wsOptions = { perMessageDeflate: false, headers: opts.headers };
if (opts.deflate) wsOptions.perMessageDeflate = { threshold: 0, ...opts.deflateOpts };
if (opts.origin) wsOptions.origin = opts.origin;
if (opts.maxPayload !== null) wsOptions.maxPayload = opts.maxPayload;

const ws = new WebSocket(opts.url, opts.protocols, wsOptions);
let closed = false;
function flatHeaders(h) {
  const o = {};
  for (const [k, v] of Object.entries(h)) o[k] = Array.isArray(v) ? v.join(', ') : String(v);
  return o;
}

let negotiated = '';
ws.on('upgrade', (res) => {
  negotiated = res.headers['sec-websocket-extensions'] || '';
  out({ event: 'upgrade', status: res.statusCode, headers: flatHeaders(res.headers) });
});
// extensions: the Sec-WebSocket-Extensions response header, parameters and all.
ws.on('open', () => push({ event: 'open', protocol: ws.protocol, extensions: negotiated }));
ws.on('unexpected-response', (req, res) => {
  push({ event: 'unexpected-response', status: res.statusCode, headers: flatHeaders(res.headers) });
  res.resume();
  req.destroy();
});
ws.on('message', (data, isBinary) => {
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
  const ev = { event: 'message', type: isBinary ? 'binary' : 'text', len: buf.length, sha256: sha256(buf) };
  if (!isBinary && buf.length <= 1024) ev.text = buf.toString('utf8');
  push(ev);
});
ws.on('pong', (data) => push({ event: 'pong', data: data.toString('utf8') }));
ws.on('close', (code, reason) => {
  closed = true;
  push({ event: 'close', code, reason: reason.toString() });
});
ws.on('error', (err) => push(errorEvent(err)));

function sendOne(data, options) {
  return new Promise((resolve, reject) => ws.send(data, options, (err) => (err ? reject(err) : resolve())));
}

async function runStep(step, timeout) {
  const fail = (msg) => {
    throw new Error(msg);
  };
  switch (step.op) {
    case 'send': {
      const data = payload(step);
      const base = { binary: step.type === 'binary' };
      if (step.compress === false) base.compress = false;
      const k = step.fragmentSize || 0;
      if (k <= 0 || data.length <= k) {
        await sendOne(data, { ...base, fin: true });
        return;
      }
      for (let off = 0; off < data.length; off += k) {
        const end = Math.min(off + k, data.length);
        await sendOne(data.subarray(off, end), { ...base, fin: end === data.length });
      }
      return;
    }
    case 'expect': {
      const ev = await next((e) => e.event === 'message', 'a message', timeout);
      if (step.type && ev.type !== step.type) fail(`got a ${ev.type} message, want ${step.type}`);
      if (step.text !== undefined && ev.text !== step.text) {
        fail(`got text ${JSON.stringify(ev.text === undefined ? `<${ev.len} bytes>` : ev.text)}, want ${JSON.stringify(step.text)}`);
      }
      let want = null;
      if (step.sha256 !== undefined) want = { len: step.len, sha256: step.sha256 };
      else if (step.size !== undefined) {
        const p = fill(step.type, step.size, step.fill, step.seed || 1);
        want = { len: p.length, sha256: sha256(p) };
      } else if (step.hex !== undefined) {
        const p = Buffer.from(step.hex, 'hex');
        want = { len: p.length, sha256: sha256(p) };
      }
      if (want) {
        if (want.len !== undefined && ev.len !== want.len) fail(`got ${ev.len} bytes, want ${want.len}`);
        if (ev.sha256 !== want.sha256) fail(`got sha256 ${ev.sha256}, want ${want.sha256}`);
      }
      return;
    }
    case 'ping': {
      const data = step.data || '';
      ws.ping(Buffer.from(data, 'utf8'));
      const ev = await next((e) => e.event === 'pong', 'a pong', timeout);
      if (ev.data !== data) fail(`pong payload ${JSON.stringify(ev.data)}, want ${JSON.stringify(data)}`);
      return;
    }
    case 'close': {
      ws.close(step.code, step.reason);
      const ev = await next((e) => e.event === 'close', 'the close', timeout);
      if (step.expectCode !== undefined && ev.code !== step.expectCode) fail(`close code ${ev.code}, want ${step.expectCode}`);
      if (step.expectReason !== undefined && ev.reason !== step.expectReason) fail(`close reason ${JSON.stringify(ev.reason)}, want ${JSON.stringify(step.expectReason)}`);
      return;
    }
    case 'wait-close': {
      // Unlike next, skip messages and errors: we wait for the end.
      const ev = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiter = null;
          reject(new Error(`timeout after ${timeout}ms waiting for the peer's close`));
        }, timeout);
        const check = () => {
          const i = queue.findIndex((e) => e.event === 'close' || e.event === 'unexpected-response');
          if (i >= 0) {
            clearTimeout(timer);
            resolve(queue.splice(i, 1)[0]);
          } else waiter = check;
        };
        check();
      });
      if (ev.event !== 'close') fail(`handshake refused: ${JSON.stringify(ev)}`);
      if (step.expectCode !== undefined && ev.code !== step.expectCode) fail(`close code ${ev.code}, want ${step.expectCode}`);
      if (step.expectReason !== undefined && ev.reason !== step.expectReason) fail(`close reason ${JSON.stringify(ev.reason)}, want ${JSON.stringify(step.expectReason)}`);
      return;
    }
    case 'expect-error': {
      const ev = await next((e) => e.event === 'error', 'an error', timeout);
      if (step.errorCode !== undefined && ev.errorCode !== step.errorCode) fail(`error ${ev.errorCode}, want ${step.errorCode}`);
      return;
    }
    case 'expect-reject': {
      const ev = await next((e) => e.event === 'unexpected-response' || e.event === 'open', 'the handshake response', timeout);
      if (ev.event === 'open') fail('handshake accepted, want a refusal');
      if (step.status !== undefined && ev.status !== step.status) fail(`status ${ev.status}, want ${step.status}`);
      return;
    }
    case 'sleep':
      await new Promise((r) => setTimeout(r, step.ms || 0));
      return;
    default:
      fail(`unknown op ${JSON.stringify(step.op)}`);
  }
}

function exit(code) {
  if (!closed) ws.terminate();
  // Let stdout drain before exiting.
  process.stdout.write('', () => process.exit(code));
}

async function main() {
  const rejectFirst = opts.steps.length > 0 && opts.steps[0].op === 'expect-reject';
  let i = 0;
  try {
    if (!rejectFirst) await next((e) => e.event === 'open', 'the handshake', opts.timeout);
    for (; i < opts.steps.length; i++) {
      const step = opts.steps[i];
      await runStep(step, step.timeout || opts.timeout);
    }
  } catch (err) {
    out({ event: 'fail', step: i, reason: err.message });
    exit(1);
    return;
  }
  if (!closed && ws.readyState !== WebSocket.CONNECTING) {
    ws.close(1000);
    try {
      await next((e) => e.event === 'close', 'the final close', opts.timeout);
    } catch (err) {
      out({ event: 'fail', step: i, reason: err.message });
      exit(1);
      return;
    }
  }
  out({ event: 'done' });
  exit(0);
}

main();
