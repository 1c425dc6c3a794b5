/**
 * The simulators against a real server running a model that is not Expresso (the generated table with
 * awkward names, test/helpers/train-generic-model.ts): `simulate predictions --model --data` reads the
 * held-out CSV by the model's schema and sends its own field names, the id column names the customers,
 * and `simulate feedback` delivers the Yes/No labels as churn 1/0, which join.
 *
 * Needs the server and store branches of issue 17 (a non-Expresso request schema and store columns):
 * before they are merged the server refuses these records.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningServer, runServe } from '../../src/cli/commands/serve.js';
import { runSimulateFeedback, runSimulatePredictions } from '../../src/cli/commands/simulate.js';
import { generateGenericData, writeGenericCsv } from '../helpers/generic-data.js';
import { type GenericModel, trainGenericModel } from '../helpers/train-generic-model.js';

const SHAPE = { numeric: 6, categorical: 4 } as const;
let dir: string;
let generic: GenericModel;
let server: RunningServer;
let holdout: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'churnwatch-sim-generic-'));
  generic = await trainGenericModel(dir, { rows: 4000, ...SHAPE, seed: 3, trees: 10 });
  holdout = join(dir, 'holdout.csv');
  writeGenericCsv(holdout, generateGenericData({ rows: 600, ...SHAPE, seed: 44 }));
  server = await runServe({
    port: '0',
    host: '127.0.0.1',
    modelPath: generic.modelDir,
    storeUrl: `sqlite:${join(dir, 'sim.db')}`,
    logLevel: 'warn',
    env: {},
  });
});

after(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const common = {
  concurrency: 2,
  batch: 20,
  speed: 1000,
  seed: 7,
  loop: false,
  quiet: true,
} as const;

test('predictions with the schema’s field names, then labels through the positive label, all join', async () => {
  const handoff = join(dir, 'sent.jsonl');
  const sent = await runSimulatePredictions({
    ...common,
    url: server.url,
    data: holdout,
    model: generic.modelDir,
    rate: 5000,
    rows: 400,
    scenario: 'sudden-drift',
    handoff,
  });
  assert.equal(sent.rejected, 0, sent.firstRejection);
  assert.equal(sent.rowsSent, 400);

  const fed = await runSimulateFeedback({
    url: server.url,
    coverage: 1,
    minDelayMs: 0,
    maxDelayMs: 10,
    speed: 1000,
    by: 'user_id',
    seed: 11,
    handoff,
    quiet: true,
  });
  assert.equal(fed.rejected, 0);
  assert.equal(fed.sent, 400);
  assert.equal(fed.byStatus.joined, 400, JSON.stringify(fed.byStatus));

  // The customers are the CSV's ids, as the store keeps them.
  const model = (await (await fetch(`${server.url}/model`)).json()) as { version: string };
  assert.ok(model.version);
});

test('without --model: the schema from GET /model when it describes one, else CW_SIM_NO_SCHEMA asking for --model', async () => {
  const run = runSimulatePredictions({
    ...common,
    url: server.url,
    data: holdout,
    rate: 5000,
    rows: 10,
    scenario: 'stable',
    handoff: undefined,
  });
  try {
    const result = await run;
    assert.equal(result.rejected, 0, result.firstRejection);
  } catch (error) {
    const e = error as Error & { code?: string; hint?: string };
    assert.equal(e.code, 'CW_SIM_NO_SCHEMA', e.message);
    assert.match(e.hint ?? '', /--model models\/latest/);
  }
});
