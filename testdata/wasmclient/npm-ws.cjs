// Preloaded (node --require) when node has no global WebSocket: gives it
// the npm ws package's, which implements the same WHATWG interface.
globalThis.WebSocket = require(process.env.WASM_NPM_WS);
