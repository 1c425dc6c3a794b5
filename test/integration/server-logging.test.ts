/**
 * `churnwatch serve &` must not flood the terminal: at the default level a served request prints no
 * line; `--log-level debug` prints one per request; a wrong level is refused naming the flag.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../helpers/free-port.js';
import { localServeArgs, type ServeExit, spawnServe, waitForServing } from '../helpers/serve-process.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { trainSmallModel } from '../helpers/train-small-model.js';

const REQUESTS = 6;

/** The environment without CHURNWATCH_LOG_LEVEL, so the flag (or its absence) alone decides. */
function envWithoutLogLevel(): NodeJS.ProcessEnv {
  const { CHURNWATCH_LOG_LEVEL: _ignored, ...env } = process.env;
  return env;
}

function serve(args: readonly string[]) {
  return spawnServe(args, envWithoutLogLevel());
}

/** Starts serve with `extra` flags, sends REQUESTS requests, stops it with SIGTERM; returns its output. */
async function serveAndRequest(dir: string, extra: readonly string[]): Promise<ServeExit> {
  const models = await trainSmallModel();
  const port = await freePort();
  const run = serve([
    ...localServeArgs(port, join(models, 'latest'), `sqlite:${join(dir, 'log.db')}`),
    ...extra,
  ]);
  try {
    await waitForServing(run);
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < REQUESTS; i++) {
      const res =
        i % 2 === 0
          ? await fetch(`${base}/healthz`)
          : await fetch(`${base}/predict`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ MONTANT: 1000 + i }),
            });
      assert.equal(res.status, 200, await res.text());
    }
  } finally {
    run.child.kill('SIGTERM');
  }
  const result = await run.exited;
  assert.equal(result.code, 0, result.stderr);
  return result;
}

const requestLines = (stderr: string) =>
  stderr.split('\n').filter((line) => line.includes('"msg":"request completed"'));

describe('serve logging', () => {
  it('prints the startup lines but no line per request at the default level', () =>
    withTempDir(async (dir) => {
      const { stderr, stdout } = await serveAndRequest(dir, []);
      assert.deepEqual(requestLines(stderr), []);
      assert.match(stderr, /"msg":"model \S+ loaded from /);
      assert.match(stderr, /"msg":"store sqlite:\S+ ready"/);
      assert.match(stderr, /"msg":"serving at http:\/\/127\.0\.0\.1:\d+ /);
      assert.match(stderr, /"msg":"stopped"/);
      assert.match(stdout, /churnwatch serving .* at http:\/\/127\.0\.0\.1:\d+/);
    }));

  it('prints one line per request with --log-level debug', () =>
    withTempDir(async (dir) => {
      const { stderr } = await serveAndRequest(dir, ['--log-level', 'debug']);
      const lines = requestLines(stderr).map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.equal(lines.length, REQUESTS);
      assert.deepEqual(
        lines.map((l) => `${l.method} ${l.url} ${l.statusCode}`),
        Array.from({ length: REQUESTS }, (_, i) => (i % 2 === 0 ? 'GET /healthz 200' : 'POST /predict 200')),
      );
    }));

  it('refuses an unknown level, naming the flag, before loading anything', async () => {
    const run = serve(['--log-level', 'loud', '--model', '/nonexistent']);
    const { code, stderr } = await run.exited;
    assert.equal(code, 1);
    assert.match(
      stderr,
      /CW_SERVE_BAD_OPTION: --log-level must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/,
    );
  });
});
