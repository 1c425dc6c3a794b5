#!/usr/bin/env node
// Takes the picture of the built-in dashboard in docs/images/dashboard.png: runs `churnwatch demo` in a
// temporary directory (synthetic data, small model, drift after 1 minute), waits until the traffic has
// run for --after seconds (default 120), screenshots http://127.0.0.1:<port>/dashboard (the default
// range, fitted to the data) in headless Chromium, 1400 px wide, full page, reduces it to 256 colours (png-palette.mjs), then stops the demo.
//
//   node scripts/screenshot-dashboard.mjs [--out docs/images/dashboard.png] [--after 120] [--port 8765]
//                                         [--chromium /usr/bin/chromium] [--keep DIR]
//
// --keep DIR reuses DIR for data/ and models/ (a second run skips data generation and training; delete
// DIR/data/demo.db between runs, or the range starts at the earlier run's predictions).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { paletteOf } from './png-palette.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(root, 'docs', 'images', 'dashboard.png') },
    after: { type: 'string', default: '120' },
    port: { type: 'string', default: '8765' },
    chromium: { type: 'string', default: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
    keep: { type: 'string' },
  },
});
const port = Number(values.port);
const afterMs = Number(values.after) * 1000;
const dir = values.keep ? resolve(values.keep) : await mkdtemp(join(tmpdir(), 'churnwatch-shot-'));
const base = `http://127.0.0.1:${port}`;

// Small data and model so that a first run takes about a minute before the traffic starts.
const flags = {
  dir,
  port,
  host: '127.0.0.1',
  'drift-after': '1m',
  rows: 50_000,
  trees: 60,
  prometheus: 'http://127.0.0.1:9',
};
const demo = spawn(
  process.execPath,
  [
    join(root, 'bin', 'churnwatch.js'),
    'demo',
    ...Object.entries(flags).flatMap(([name, value]) => [`--${name}`, String(value)]),
    '--quiet',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CHURNWATCH_LOG_LEVEL: 'warn' } },
);
const exited = new Promise((done) => demo.on('exit', done));
let output = '';
demo.stdout.on('data', (chunk) => {
  output += chunk;
  process.stdout.write(chunk);
});

try {
  // The demo prints its URLs once the traffic starts.
  while (!output.includes('dashboard:')) {
    if (demo.exitCode !== null) throw new Error(`the demo exited with ${demo.exitCode}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const started = Date.now();
  console.log(`traffic started; screenshot in ${afterMs / 1000} s`);
  await new Promise((r) => setTimeout(r, afterMs));

  const browser = await chromium.launch({
    executablePath: values.chromium,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${base}/dashboard`);
    await page.waitForSelector('body[data-loaded]', { timeout: 30_000 });
    await page.waitForTimeout(500);
    await page.screenshot({ path: values.out, fullPage: true });
  } finally {
    await browser.close();
  }
  // Anti-aliased charts make a full-page PNG large: 256 colours keep it readable at a third of the size.
  await paletteOf(values.out);
  const { size } = await stat(values.out);
  console.log(
    `${values.out}: ${Math.round(size / 1024)} KB, ${Math.round((Date.now() - started) / 1000)} s of traffic`,
  );
} finally {
  demo.kill('SIGINT');
  await exited;
  if (!values.keep) await rm(dir, { recursive: true, force: true });
}
