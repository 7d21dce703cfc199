#!/usr/bin/env node
// chromium.js — drive Debian's headless Chromium (/usr/bin/chromium) through
// playwright-core for wsactor's browser interop tests.
//
// Usage: node chromium.js URL SCREENSHOT_PATH [--eval-file f.js] [--timeout MS]
//
// Opens URL in a fresh profile (a new temporary user data dir, removed on
// exit), optionally runs f.js in the page as a classic <script>, waits until
// window.__wsTestDone === true (default timeout 30000 ms), prints
// JSON.stringify(window.__wsTestResult) as one line on stdout, writes a PNG
// screenshot to SCREENSHOT_PATH, and exits 0 — or 1 if the result has
// ok:false or the wait timed out (then it prints
// {"ok":false,"error":"timeout …","partial":<__wsTestResult or null>}).
//
// Stderr: JSON lines {"event":"console","type":"log","text":"…"} and
// {"event":"pageerror","message":"…"} from the page, for debugging.
//
// CHROMIUM_PATH overrides /usr/bin/chromium. No browser is ever downloaded.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

function usage(msg) {
  process.stderr.write(`chromium.js: ${msg}\n`);
  process.exit(2);
}

const positional = [];
let evalFile = null;
let timeout = 30000;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--eval-file') {
    if (i + 1 >= argv.length) usage('--eval-file needs a value');
    evalFile = argv[++i];
  } else if (a === '--timeout') {
    if (i + 1 >= argv.length) usage('--timeout needs a value');
    timeout = Number(argv[++i]);
    if (!Number.isInteger(timeout) || timeout <= 0) usage(`bad --timeout ${argv[i]}`);
  } else if (a.startsWith('--')) {
    usage(`unknown argument ${a}`);
  } else positional.push(a);
}
if (positional.length !== 2) usage('want URL SCREENSHOT_PATH');
const [url, screenshotPath] = positional;

const log = (obj) => process.stderr.write(JSON.stringify(obj) + '\n');

async function main() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wstest-chromium-'));
  // launch() refuses --user-data-dir; launchPersistentContext is how a
  // fresh, throw-away profile is given.
  let context = null;
  let code = 1;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      headless: true,
      timeout,
      // Test servers on loopback use throw-away certificates
      // (httptest's); wss:// to them must not be refused either.
      ignoreHTTPSErrors: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--ignore-certificate-errors',
      ],
    });
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (m) => log({ event: 'console', type: m.type(), text: m.text() }));
    page.on('pageerror', (e) => log({ event: 'pageerror', message: String(e && e.message) }));

    await page.goto(url, { timeout });
    if (evalFile) await page.addScriptTag({ content: fs.readFileSync(evalFile, 'utf8') });

    let result;
    try {
      await page.waitForFunction(() => window.__wsTestDone === true, null, { timeout, polling: 50 });
      result = await page.evaluate(() => (window.__wsTestResult === undefined ? null : window.__wsTestResult));
      code = result && result.ok === false ? 1 : 0;
    } catch (err) {
      const partial = await page.evaluate(() => (window.__wsTestResult === undefined ? null : window.__wsTestResult)).catch(() => null);
      result = { ok: false, error: `timeout waiting for window.__wsTestDone: ${err.message.split('\n')[0]}`, partial };
      code = 1;
    }
    process.stdout.write(JSON.stringify(result) + '\n');
    await page.screenshot({ path: screenshotPath, fullPage: true, timeout });
  } catch (err) {
    process.stdout.write(JSON.stringify({ ok: false, error: String(err && err.message) }) + '\n');
    code = 1;
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
  process.stdout.write('', () => process.exit(code));
}

main();
