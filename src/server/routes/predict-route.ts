/**
 * POST /predict: validate (schema), canonicalise names, score, queue for the store, count.
 * A batch is all or nothing: any bad record rejects the whole request before anything is scored
 * or written, so a client can simply fix and resend it.
 */
import type { FastifyInstance } from 'fastify';
import { sendError } from '../../http/error-reply.js';
import { type RecordBins, recordBinnerOf } from '../../model/record-binner.js';
import type { PredictionRecord, ScoredPrediction } from '../../store/prediction-store.js';
import type { AppContext } from '../app-context.js';
import { waitForCommit } from '../commit-wait.js';
import { HttpError } from '../error-handler.js';
import { batchAnswer, singleAnswer } from '../prediction-answer.js';
import type { RecordFields } from '../record-fields.js';
import { ErrorBody } from '../schemas/common-schemas.js';
import { predictBodySchema } from '../schemas/predict-schemas.js';

type InputRecord = Record<string, number | string | null | undefined>;

const QUEUE_FULL = { status: 503, code: 'CW_STORE_QUEUE_FULL', headers: { 'retry-after': '1' } } as const;

function queueFullMessage(ctx: AppContext): string {
  return `the prediction log is behind (${ctx.writer.size} predictions queued); retry shortly`;
}

function queueFull(ctx: AppContext): HttpError {
  return new HttpError(QUEUE_FULL.status, QUEUE_FULL.code, queueFullMessage(ctx), QUEUE_FULL.headers);
}

/** `fields` are the served schema's (the app's): a reload to another schema is refused (build-app.ts). */
export function registerPredictRoute(app: FastifyInstance, ctx: AppContext, fields: RecordFields): void {
  app.post(
    '/predict',
    {
      schema: {
        summary: 'Score one customer, or a batch as { "records": [...] }',
        tags: ['prediction'],
        body: predictBodySchema(ctx.config.batchLimit, fields),
        response: { '4xx': ErrorBody, '5xx': ErrorBody },
      },
      // A full queue makes the request wait for room (at most queueWaitMs) before its body is read, so
      // the bytes wait in TCP buffers and closed-loop clients slow to the store's pace; if no room comes
      // it is refused before the body is read, parsed and validated, work that would be thrown away.
      // Only a queue with no room at all: a request refused here would have been refused below whatever
      // it holds. It answers without throwing (no stack trace per refusal). A callback, not an async
      // function: no promise per request on the single-record hot path.
      onRequest: (_request, reply, done) => {
        if (ctx.writer.hasRoom(1)) {
          done();
          return;
        }
        void ctx.writer.waitForRoom(1, ctx.config.queueWaitMs).then((room) => {
          if (room) done();
          else
            sendError(reply, QUEUE_FULL.status, QUEUE_FULL.code, queueFullMessage(ctx), QUEUE_FULL.headers);
        });
      },
    },
    async (request, reply) => {
      const body = request.body as InputRecord | { records: InputRecord[] };
      const batch = 'records' in body && Array.isArray(body.records);
      const inputs: InputRecord[] = batch
        ? (body as { records: InputRecord[] }).records
        : [body as InputRecord];
      // Under overload, refuse before parsing features and scoring: that work would be thrown away. A
      // batch may wait for room for what is left of queueWaitMs since the request arrived.
      if (
        !ctx.writer.hasRoom(inputs.length) &&
        !(await ctx.writer.waitForRoom(inputs.length, ctx.config.queueWaitMs - reply.elapsedTime))
      )
        throw queueFull(ctx);
      const count = inputs.length;
      // A batch is read into columns once (record-columns.ts): scoring, binning and the store's rows
      // read them a feature at a time instead of looking up every feature of every record by name. One
      // record is one object, which costs less than a column per feature.
      const columns = count > 1 ? fields.columns(inputs, (i) => `body/records/${i}`) : undefined;
      const features = columns ? undefined : fields.canonical(inputs[0]!, batch ? 'body/records/0' : 'body');
      const loaded = ctx.models.current;
      if (!loaded) throw new HttpError(503, 'CW_NO_MODEL', 'no model is loaded', { 'retry-after': '5' });
      const { model, recorder } = loaded;
      const scores = columns ? model.scoreTable(columns.table) : [model.scoreRecord(features!)];
      const threshold = model.info.threshold;
      const version = model.info.version;
      const now = ctx.clock();
      const records: (ScoredPrediction | PredictionRecord)[] = new Array(count);
      for (let i = 0; i < count; i++) {
        const score = scores[i]!;
        const id = ctx.newId();
        const userId = fields.userIdOf(inputs[i]!);
        const predictedClass = score >= threshold ? 1 : 0;
        // A batch's features are its columns; one record keeps its object.
        records[i] = features
          ? { id, createdAt: now, userId, modelVersion: version, features, score, predictedClass }
          : { id, createdAt: now, userId, modelVersion: version, score, predictedClass };
      }
      // One binning per request serves the counters and the monitor's window.
      const binner = recordBinnerOf(model.profile);
      let bins: RecordBins;
      if (columns) {
        if (!ctx.writer.enqueueColumns(records, columns)) throw queueFull(ctx);
        bins = binner.binColumns(columns, scores);
      } else {
        if (!ctx.writer.enqueue(records as PredictionRecord[])) throw queueFull(ctx);
        bins = binner.bin([features!], scores);
      }
      recorder.recordBatch(records, bins);
      ctx.observer?.observePredictions(records, bins);
      if (ctx.config.ack === 'commit') await waitForCommit(ctx, records.length);
      // The answer's text is written here (prediction-answer.ts), not serialised from objects.
      return reply
        .header('content-type', 'application/json; charset=utf-8')
        .send(batch ? batchAnswer(records, version) : singleAnswer(records[0]!, version));
    },
  );
}
