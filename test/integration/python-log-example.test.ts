/**
 * examples/python/churn_service.py, run as a user would with Debian's python3 and scikit-learn against a
 * real `churnwatch serve` on a `churnwatch profile` artifact of the Telco reference it scored: its
 * predictions are counted, its labels join them, and estimated and realized performance appear in
 * /metrics. The service starts before churnwatch does (its calls retry until the server answers), and
 * runs a second time, resending everything: acknowledged, and counted once. Under CI=true a missing
 * /usr/bin/python3 or scikit-learn fails the test.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import pino from 'pino';
import { resolveProfileOptions, runProfile } from '../../src/cli/commands/profile.js';
import { runServe } from '../../src/cli/commands/serve.js';
import { requireBinary, startProcess } from '../helpers/external-binary.js';
import { freePort } from '../helpers/free-port.js';
import { parseMetrics, sumSeries } from '../helpers/server-harness.js';
import { repoRoot, sharedFileOrSkip, telcoPath } from '../helpers/shared-files.js';
import { waitFor } from '../helpers/wait-for.js';

const run = promisify(execFile);
const SCRIPT = join(repoRoot, 'examples', 'python', 'churn_service.py');
const ROWS = 600;

/** /usr/bin/python3 when it has scikit-learn; skips (or fails under CI) otherwise. */
async function pythonWithSklearn(t: TestContext): Promise<string | undefined> {
  const python = requireBinary(t, ['/usr/bin/python3']);
  if (!python) return undefined;
  try {
    await run(python, ['-c', 'import sklearn']);
    return python;
  } catch {
    const message = '/usr/bin/python3 has no scikit-learn (Debian: apt-get install python3-sklearn)';
    if (process.env.CI === 'true') throw new Error(message);
    t.skip(message);
    return undefined;
  }
}

test('the Python example logs its predictions and labels to a monitor-only server', async (t) => {
  const python = await pythonWithSklearn(t);
  const telco = sharedFileOrSkip(t, telcoPath(), 'telco/telco-customer-churn.csv');
  if (!python || !telco) return;
  const dir = await mkdtemp(join(tmpdir(), 'churnwatch-python-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const reference = join(dir, 'reference.csv');
  const scored = await run(python, [SCRIPT, 'reference', '--data', telco, '--out', reference]);
  assert.match(scored.stdout, /reference: 2113 rows scored/);

  const profiled = await runProfile({
    ...resolveProfileOptions(
      {
        data: reference,
        target: 'Churn',
        score: 'churn_probability',
        id: 'customerID',
        models: join(dir, 'models'),
        quiet: true,
      },
      {},
    ),
    logger: pino({ level: 'silent' }),
  });
  assert.ok(
    profiled.metadata.validation.rocAuc > 0.75,
    `reference ROC AUC ${profiled.metadata.validation.rocAuc}`,
  );
  // The service first: its first call (GET /model) finds no churnwatch and retries.
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const traffic = ['traffic', '--data', telco, '--url', url, '--rows', String(ROWS)];
  const service = startProcess(python, [SCRIPT, ...traffic]);
  t.after(() => service.stop());
  const exited = new Promise<number | null>((resolve) => service.child.once('exit', resolve));
  await waitFor(() => /churnwatch at \S+ not reachable .*; retry 1 of 5 in 0\.5 s/.test(service.output()), {
    what: 'the Python service to find no churnwatch and retry',
    timeoutMs: 60_000,
    describe: service.output,
  });
  const server = await runServe({
    port: String(port),
    host: '127.0.0.1',
    modelPath: join(dir, 'models', 'latest'),
    storeUrl: `sqlite:${join(dir, 'predictions.db')}`,
    logLevel: 'warn',
    env: {},
  });
  t.after(() => server.close());
  assert.equal(await exited, 0, service.output());
  assert.match(service.output(), /POST \/log: 100 predictions/);
  const summary = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>;
  assert.deepEqual(summary(service.output()), {
    logged: ROWS,
    already_logged: 0,
    labels: ROWS,
    joined: ROWS,
    duplicate: 0,
  });
  // Everything again, as a service that lost its answers would resend it.
  const resent = await run(python, [SCRIPT, ...traffic]);
  assert.deepEqual(summary(resent.stdout), {
    logged: ROWS,
    already_logged: ROWS,
    labels: ROWS,
    joined: 0,
    duplicate: ROWS,
  });

  const metrics = parseMetrics(await (await fetch(`${server.url}/metrics`)).text());
  const version = `model_version="${profiled.version}"`;
  assert.equal(sumSeries(metrics, 'churnwatch_predictions_total', version), ROWS);
  assert.equal(sumSeries(metrics, 'churnwatch_feedback_total', 'status="joined"'), ROWS);
  assert.equal(sumSeries(metrics, 'churnwatch_feedback_total', 'status="duplicate"'), ROWS);
  assert.equal(sumSeries(metrics, 'churnwatch_realized_confusion_total', version), ROWS);
  for (const kind of ['estimated', 'realized']) {
    const accuracy = sumSeries(
      metrics,
      'churnwatch_window_performance',
      version,
      'metric="accuracy"',
      `kind="${kind}"`,
    );
    assert.ok(accuracy > 0.6 && accuracy <= 1, `${kind} accuracy ${accuracy}`);
  }
});
