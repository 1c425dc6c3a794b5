/**
 * The route's own stages of one single-record POST /predict, each timed alone in a loop (CPU time per
 * call), with the same pieces the route uses: the body's parse, the route's compiled body validator
 * (taken from Fastify), canonicalisation, scoring, binning, the counters, the monitor's window, the
 * store row, the id and the answer. Complements the CPU profile of bench/predict-path.bench.ts, which
 * has the parts these loops cannot isolate (HTTP, Fastify, the writer thread, GC under load).
 *
 * Usage: node --import tsx bench/predict-stages.bench.ts [--models <dir holding latest>]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RawFeatures } from '../src/data/feature-types.js';
import { createMetrics } from '../src/metrics/create-metrics.js';
import { loadModel } from '../src/model/model-io.js';
import { recordBinnerOf } from '../src/model/record-binner.js';
import { createLiveMonitor } from '../src/monitor/live-monitor.js';
import { buildApp } from '../src/server/build-app.js';
import { mayPoisonPrototype } from '../src/server/json-body.js';
import { singleAnswer } from '../src/server/prediction-answer.js';
import { createPredictionIdGenerator } from '../src/server/prediction-id.js';
import { recordFieldsOf } from '../src/server/record-fields.js';
import { createBatchedWriter } from '../src/store/batched-writer.js';
import { openStore } from '../src/store/open-store.js';
import type { PredictionRecord } from '../src/store/prediction-store.js';
import { rowLayout, toPredictionRows } from '../src/store/store-columns.js';
import { customerRequests } from '../test/helpers/server-harness.js';
import { trainSmallModel } from '../test/helpers/train-small-model.js';

const { values: args } = parseArgs({ options: { models: { type: 'string' } } });
const model = await loadModel(join(args.models ?? (await trainSmallModel(50_000, 11)), 'latest'));
const text = JSON.stringify(customerRequests(1, 5)[0]);
const input = JSON.parse(text) as Record<string, string | number | null>;
const fields = recordFieldsOf(model.schema);

// The route's own body validator, as Fastify compiled it.
const store = openStore('sqlite::memory:', { features: model.schema.features });
await store.migrate();
const app = await buildApp({ store, model, createWriter: createBatchedWriter, docs: false, logger: false });
let validate: ((body: unknown) => boolean) | undefined;
app.addHook('preHandler', (request, _reply, done) => {
  if (request.url === '/predict') validate ??= request.getValidationFunction('body') as typeof validate;
  done();
});
await app.inject({
  method: 'POST',
  url: '/predict',
  payload: text,
  headers: { 'content-type': 'application/json' },
});
await app.close();
if (!validate) throw new Error('no validator');

const metrics = createMetrics({ storeKind: 'sqlite', defaultMetrics: false });
const recorder = metrics.useModel(model);
const monitor = createLiveMonitor();
monitor.registerMetrics?.(metrics.registry, () => model);
const binner = recordBinnerOf(model.profile);
const newId = createPredictionIdGenerator();
const layout = rowLayout(model.schema.features);
const features = fields.canonical(input, 'body');
const score = model.scoreRecord(features);
const record: PredictionRecord = {
  id: newId(),
  createdAt: Date.now(),
  userId: fields.userIdOf(input),
  modelVersion: model.info.version,
  features,
  score,
  predictedClass: score >= model.info.threshold ? 1 : 0,
};
const records = [record];
const featureList: RawFeatures[] = [features];
const bins = binner.bin(featureList, [score]);
let sink: unknown;

const stages: [string, () => void][] = [
  ['parse (JSON.parse and the prototype check)', () => (sink = mayPoisonPrototype(text) || JSON.parse(text))],
  ['validation (the route schema)', () => (sink = validate!(input))],
  ['canonicalisation', () => (sink = fields.canonical(input, 'body'))],
  ['scoring', () => (sink = model.scoreRecord(features))],
  ['binning (shared by metrics and monitor)', () => (sink = binner.bin(featureList, [score]))],
  ['metrics (counters)', () => recorder.recordBatch(records, bins)],
  ['live monitor (window push)', () => monitor.observePredictions(records, bins)],
  ['queue (the store row)', () => (sink = toPredictionRows(records, layout))],
  ['id', () => (sink = newId())],
  ['serialisation', () => (sink = singleAnswer(record, model.info.version))],
];

const N = 200_000;
for (let round = 0; round < 3; round++) {
  const line: string[] = [];
  for (const [name, run] of stages) {
    for (let i = 0; i < 5_000; i++) run();
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) run();
    const c = process.cpuUsage(c0);
    line.push(`${name}: ${(((c.user + c.system) / N) * 1000).toFixed(0)} ns`);
  }
  process.stdout.write(`round ${round + 1}\n  ${line.join('\n  ')}\n`);
}
void sink;
await store.close();
