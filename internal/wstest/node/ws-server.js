#!/usr/bin/env node
// ws-server.js — the npm `ws` WebSocketServer as a reference peer for
// wsactor's interop tests.
//
// Usage: node ws-server.js [echo] [options]
//
//   echo                           (default mode) echo every message back with
//                                  its type: text stays text, binary stays binary.
//                                  Pings are answered by ws itself.
//   --subprotocols a,b             protocols the server supports; it picks the
//                                  first one the client offers (client order).
//   --deflate                      enable permessage-deflate, threshold 0 (every
//                                  message is compressed), with optionally:
//     --server-no-context-takeover
//     --client-no-context-takeover
//     --server-max-window-bits N
//     --client-max-window-bits N   (ws then refuses offers without
//                                  client_max_window_bits: no deflate)
//   --close CODE REASON            on the first message, do not echo it:
//                                  close with CODE and REASON.
//   --max-payload N                ws maxPayload (bigger messages: close 1009).
//
// Stdout: one line {"port":N} once listening on 127.0.0.1.
// Stderr: JSON lines, one per event:
//   {"event":"headers","method":"GET","url":"/path","rawHeaders":["Host","127.0.0.1:N",...]}
//   {"event":"response-headers","lines":["HTTP/1.1 101 Switching Protocols",...]}
//   {"event":"connection","protocol":"a","extensions":"permessage-deflate; ..."}
//     (extensions: the Sec-WebSocket-Extensions header the server answered)
//   {"event":"message","type":"text"|"binary","len":N,"sha256":"hex"}
//   {"event":"close","code":N,"reason":"..."}
//   {"event":"error","message":"...","errorCode":"WS_ERR_...","closeCode":1002}
// Anything else on stderr (a crash) is not JSON.
//
// Exits when stdin closes, or on SIGTERM/SIGINT.
'use strict';

const http = require('http');
const crypto = require('crypto');
const { WebSocketServer } = require('ws');

function usage(msg) {
  process.stderr.write(`ws-server.js: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { mode: 'echo', subprotocols: null, deflate: false, deflateOpts: {}, close: null, maxPayload: null };
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
      case 'echo': o.mode = 'echo'; break;
      case '--subprotocols': o.subprotocols = next().split(',').map((s) => s.trim()).filter(Boolean); break;
      case '--deflate': o.deflate = true; break;
      case '--server-no-context-takeover': o.deflate = true; o.deflateOpts.serverNoContextTakeover = true; break;
      case '--client-no-context-takeover': o.deflate = true; o.deflateOpts.clientNoContextTakeover = true; break;
      case '--server-max-window-bits': o.deflate = true; o.deflateOpts.serverMaxWindowBits = int(next()); break;
      case '--client-max-window-bits': o.deflate = true; o.deflateOpts.clientMaxWindowBits = int(next()); break;
      case '--close': o.close = { code: int(next()), reason: next() }; break;
      case '--max-payload': o.maxPayload = int(next()); break;
      default: usage(`unknown argument ${a}`);
    }
  }
  return o;
}

const opts = parseArgs(process.argv.slice(2));

function log(obj) {
  process.stderr.write(JSON.stringify(obj) + '\n');
}

function errorEvent(err) {
  const ev = { event: 'error', message: String(err && err.message) };
  if (err && err.code) ev.errorCode = err.code;
  for (const s of Object.getOwnPropertySymbols(err || {})) {
    if (String(s) === 'Symbol(status-code)') ev.closeCode = err[s];
  }
  return ev;
}

const wssOptions = { noServer: true };
if (opts.maxPayload !== null) wssOptions.maxPayload = opts.maxPayload;
if (opts.deflate) wssOptions.perMessageDeflate = { threshold: 0, ...opts.deflateOpts };
else wssOptions.perMessageDeflate = false;
if (opts.subprotocols) {
  const supported = opts.subprotocols;
  wssOptions.handleProtocols = (offered /* Set, client order */) => {
    for (const p of offered) if (supported.includes(p)) return p;
    return false;
  };
}

const wss = new WebSocketServer(wssOptions);
wss.on('headers', (lines, req) => {
  log({ event: 'response-headers', lines });
  const ext = lines.find((l) => /^sec-websocket-extensions:/i.test(l));
  req.wsNegotiated = ext ? ext.slice(ext.indexOf(':') + 1).trim() : '';
});

const server = http.createServer((req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
  res.end('WebSocket only\n');
});
server.on('upgrade', (req, socket, head) => {
  log({ event: 'headers', method: req.method, url: req.url, httpVersion: req.httpVersion, rawHeaders: req.rawHeaders });
  socket.on('error', () => {});
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
server.on('clientError', (err, socket) => {
  log(errorEvent(err));
  socket.destroy();
});

wss.on('connection', (ws, req) => {
  log({ event: 'connection', protocol: ws.protocol, extensions: req.wsNegotiated || '' });
  let first = true;
  ws.on('message', (data, isBinary) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    log({
      event: 'message',
      type: isBinary ? 'binary' : 'text',
      len: buf.length,
      sha256: crypto.createHash('sha256').update(buf).digest('hex'),
    });
    if (opts.close && first) {
      first = false;
      ws.close(opts.close.code, opts.close.reason);
      return;
    }
    first = false;
    if (ws.readyState === ws.OPEN) ws.send(buf, { binary: isBinary });
  });
  ws.on('close', (code, reason) => log({ event: 'close', code, reason: reason.toString() }));
  ws.on('error', (err) => log(errorEvent(err)));
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});

function shutdown() {
  for (const ws of wss.clients) ws.terminate();
  server.close();
  process.exit(0);
}
process.stdin.on('end', shutdown);
process.stdin.on('close', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
