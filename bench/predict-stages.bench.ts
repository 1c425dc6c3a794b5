/**
 * The route's own stages of one single-record POST /predict, each timed alone in a loop (CPU time per
 * call), with the same pieces the route uses: the body's parse, the route's compiled body validator
 * (taken from Fastify), canonicalisation, scoring, binning, the counters, the monitor's window, the
 * store row, the id and the answer. Complements the CPU profile of bench/predict-path.bench.ts, which
 * has the parts these loops cannot isolate (HTTP, Fastify, the writer thread, GC under load).
 *
 * With --batch the same stages run on one 1,000-record request ({ "records": [...] }), as the route runs
 * them, and the figures are per record; the queue stage then also posts the packed rows to a worker
 * thread, as the SQLite store does (the structured clone is the main thread's cost). The stages marked
 * "(columns)" are the route's batch path since the batch is read into columns once (record-columns.ts);
 * the others are the record-object path they replaced, kept to compare.
 *
 * Usage: node --import tsx bench/predict-stages.bench.ts [--batch] [--models <dir holding latest>]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { RawFeatures } from '../src/data/feature-types.js';
import { createMetrics } from '../src/metrics/create-metrics.js';
import { loadModel } from '../src/model/model-io.js';
import { recordBinnerOf } from '../src/model/record-binner.js';
import { createLiveMonitor } from '../src/monitor/live-monitor.js';
import { buildApp } from '../src/server/build-app.js';
import { mayPoisonPrototype } from '../src/server/json-body.js';
import { batchAnswer, singleAnswer } from '../src/server/prediction-answer.js';
import { createPredictionIdGenerator } from '../src/server/prediction-id.js';
import { recordFieldsOf } from '../src/server/record-fields.js';
import { createBatchedWriter } from '../src/store/batched-writer.js';
import { openStore } from '../src/store/open-store.js';
import type { PredictionRecord } from '../src/store/prediction-store.js';
import { columnsToPredictionRows, rowLayout, toPredictionRows } from '../src/store/store-columns.js';
import { customerRequests } from '../test/helpers/server-harness.js';
import { trainSmallModel } from '../test/helpers/train-small-model.js';

const { values: args } = parseArgs({
  options: { models: { type: 'string' }, batch: { type: 'boolean', default: false } },
});
const BATCH = args.batch ? 1_000 : 1;
const model = await loadModel(join(args.models ?? (await trainSmallModel(50_000, 11)), 'latest'));
const requests = customerRequests(BATCH, 5);
const text = JSON.stringify(args.batch ? { records: requests } : requests[0]);
type Input = Record<string, string | number | null>;
const body = JSON.parse(text) as unknown;
const inputs: Input[] = args.batch ? (body as { records: Input[] }).records : [body as Input];
const input = inputs[0]!;
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
const featureList: RawFeatures[] = inputs.map((one, i) => fields.canonical(one, `body/records/${i}`));
const features = featureList[0]!;
const scores = BATCH === 1 ? [model.scoreRecord(features)] : model.scoreRecords(featureList);
const score = scores[0]!;
const records: PredictionRecord[] = inputs.map((one, i) => ({
  id: newId(),
  createdAt: Date.now(),
  userId: fields.userIdOf(one),
  modelVersion: model.info.version,
  features: featureList[i]!,
  score: scores[i]!,
  predictedClass: scores[i]! >= model.info.threshold ? 1 : 0,
}));
const record = records[0]!;
const bins = binner.bin(featureList, scores);
// The batch as the route reads it now: columns once (record-columns.ts), records without features.
const columns = fields.columns(inputs, (i) => `body/records/${i}`);
const scored = records.map(({ features: _, ...rest }) => rest);
const columnBins = binner.binColumns(columns, scores);
// A worker that drops what it is sent: the structured clone's cost to the sender is what is timed.
const worker = args.batch
  ? new Worker("require('node:worker_threads').parentPort.on('message', () => {})", { eval: true })
  : undefined;
let sink: unknown;

const stages: [string, () => void][] = args.batch
  ? [
      [
        'parse (JSON.parse and the prototype check)',
        () => (sink = mayPoisonPrototype(text) || JSON.parse(text)),
      ],
      ['validation (the route schema)', () => (sink = validate!(body))],
      [
        'canonicalisation',
        () => {
          for (let i = 0; i < inputs.length; i++) sink = fields.canonical(inputs[i]!, `body/records/${i}`);
        },
      ],
      ['canonicalisation (columns)', () => (sink = fields.columns(inputs, (i) => `body/records/${i}`))],
      ['scoring', () => (sink = model.scoreRecords(featureList))],
      ['scoring (columns)', () => (sink = model.scoreTable(columns.table))],
      ['binning (shared by metrics and monitor)', () => (sink = binner.bin(featureList, scores))],
      ['binning (columns)', () => (sink = binner.binColumns(columns, scores))],
      ['metrics (counters)', () => recorder.recordBatch(records, bins)],
      ['live monitor (window push)', () => monitor.observePredictions(records, bins)],
      ['live monitor (window push, column bins)', () => monitor.observePredictions(scored, columnBins)],
      ['queue (the store rows)', () => (sink = toPredictionRows(records, layout))],
      [
        'queue (the store rows, from columns)',
        () => (sink = columnsToPredictionRows(scored, columns, layout)),
      ],
      ['queue (posting them to a worker)', () => worker!.postMessage(toPredictionRows(records, layout))],
      [
        'id',
        () => {
          for (let i = 0; i < BATCH; i++) sink = newId();
        },
      ],
      ['serialisation', () => (sink = batchAnswer(records, model.info.version))],
    ]
  : [
      [
        'parse (JSON.parse and the prototype check)',
        () => (sink = mayPoisonPrototype(text) || JSON.parse(text)),
      ],
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

// Calls per timed loop: the same number of records either way.
const N = 200_000 / BATCH;
for (let round = 0; round < 3; round++) {
  const line: string[] = [];
  for (const [name, run] of stages) {
    for (let i = 0; i < Math.max(5, 5_000 / BATCH); i++) run();
    const c0 = process.cpuUsage();
    for (let i = 0; i < N; i++) run();
    const c = process.cpuUsage(c0);
    line.push(`${name}: ${(((c.user + c.system) / (N * BATCH)) * 1000).toFixed(0)} ns`);
  }
  process.stdout.write(
    `round ${round + 1}${args.batch ? ' (per record of a 1,000-record request)' : ''}\n  ${line.join('\n  ')}\n`,
  );
}
await worker?.terminate();
void sink;
await store.close();
