// h2peer.js — an RFC 8441 peer on Node's own HTTP/2 (nghttp2), independent
// of Go's: the WebSocket framing here is a minimal hand-written echo, since
// npm ws does not run over an HTTP/2 stream.
//
//   node h2peer.js server CERT.pem KEY.pem
//     Serves https on 127.0.0.1 with SETTINGS_ENABLE_CONNECT_PROTOCOL; prints
//     {"port":N}. Each extended CONNECT with :protocol websocket is answered
//     200 (with the first offered subprotocol) and its frames echoed
//     (unmasked), a close frame echoed and the stream ended. Prints one JSON
//     line per request: {"event":"request","headers":{...}}.
//
//   node h2peer.js client PORT
//     Connects to https://127.0.0.1:PORT, waits for the server's SETTINGS,
//     opens a WebSocket with an extended CONNECT, sends a masked text
//     message, reads the echo, runs the close handshake (1000) and prints
//     {"status":200,"settings":{...},"echo":"...","close":1000}.
'use strict';
const http2 = require('http2');
const fs = require('fs');
const crypto = require('crypto');

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

// parser returns a function fed with chunks; it calls onFrame(fin, opcode,
// payload) per complete frame, unmasking as needed.
function parser(onFrame) {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const fin = (buf[0] & 0x80) !== 0;
      const op = buf[0] & 0x0f;
      const masked = (buf[1] & 0x80) !== 0;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      const keyOff = off;
      if (masked) off += 4;
      if (buf.length < off + len) return;
      const payload = Buffer.from(buf.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[keyOff + (i % 4)];
      buf = buf.subarray(off + len);
      onFrame(fin, op, payload);
    }
  };
}

function frame(op, payload, mask) {
  const len = payload.length;
  let head;
  if (len < 126) head = Buffer.from([0x80 | op, len]);
  else if (len < 65536) {
    head = Buffer.alloc(4);
    head[0] = 0x80 | op;
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head = Buffer.alloc(10);
    head[0] = 0x80 | op;
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  if (!mask) return Buffer.concat([head, payload]);
  head[1] |= 0x80;
  const key = crypto.randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < len; i++) body[i] ^= key[i % 4];
  return Buffer.concat([head, key, body]);
}

function server(certPath, keyPath) {
  const srv = http2.createSecureServer({
    cert: fs.readFileSync(certPath),
    key: fs.readFileSync(keyPath),
    settings: { enableConnectProtocol: true },
  });
  srv.on('stream', (stream, headers) => {
    out({ event: 'request', headers });
    if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket') {
      stream.respond({ ':status': 400 });
      stream.end();
      return;
    }
    const resp = { ':status': 200 };
    const offered = headers['sec-websocket-protocol'];
    if (offered) resp['sec-websocket-protocol'] = offered.split(',')[0].trim();
    stream.respond(resp);
    let msg = [];
    let msgOp = 0;
    stream.on('data', parser((fin, op, payload) => {
      if (op === 9) { stream.write(frame(10, payload, false)); return; }
      if (op === 10) return;
      if (op === 8) {
        stream.write(frame(8, payload.subarray(0, 2), false));
        stream.end();
        return;
      }
      if (op !== 0) msgOp = op;
      msg.push(payload);
      if (fin) {
        stream.write(frame(msgOp, Buffer.concat(msg), false));
        msg = [];
      }
    }));
    stream.on('error', () => {});
  });
  srv.listen(0, '127.0.0.1', () => out({ port: srv.address().port }));
}

function client(port) {
  const session = http2.connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
  const result = {};
  session.on('error', (e) => { out({ ok: false, error: String(e.message) }); process.exit(1); });
  session.once('remoteSettings', (settings) => {
    result.settings = settings;
    const req = session.request({
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':path': '/echo',
      ':authority': `127.0.0.1:${port}`,
      'sec-websocket-version': '13',
      'sec-websocket-protocol': 'chat',
      origin: `https://127.0.0.1:${port}`,
    }, { endStream: false });
    req.on('response', (headers) => {
      result.status = headers[':status'];
      result.protocol = headers['sec-websocket-protocol'];
      if (result.status !== 200) { out(result); session.close(); return; }
      req.write(frame(1, Buffer.from('hello from node http2'), true));
    });
    req.on('data', parser((fin, op, payload) => {
      if (op === 1) {
        result.echo = payload.toString('utf8');
        const body = Buffer.alloc(2);
        body.writeUInt16BE(1000, 0);
        req.write(frame(8, body, true));
      } else if (op === 8) {
        result.close = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        req.end();
      }
    }));
    req.on('end', () => { result.ended = true; out(result); session.close(); });
    req.on('error', (e) => { out({ ok: false, error: String(e.message), partial: result }); session.close(); });
  });
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'server') server(a, b);
else if (mode === 'client') client(a);
else { process.stderr.write('usage: h2peer.js server CERT KEY | client PORT\n'); process.exit(2); }
