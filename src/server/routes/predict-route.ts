/**
 * POST /predict: validate (schema), canonicalise names, score, queue for the store, count.
 * A batch is all or nothing: any bad record rejects the whole request before anything is scored
 * or written, so a client can simply fix and resend it.
 */
import type { FastifyInstance } from 'fastify';
import type { RawFeatures } from '../../data/feature-types.js';
import { sendError } from '../../http/error-reply.js';
import { recordBinnerOf } from '../../model/record-binner.js';
import type { PredictionRecord } from '../../store/prediction-store.js';
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
      const features: RawFeatures[] = new Array(inputs.length);
      for (let i = 0; i < inputs.length; i++) {
        features[i] = fields.canonical(inputs[i]!, batch ? `body/records/${i}` : 'body');
      }
      const loaded = ctx.models.current;
      if (!loaded) throw new HttpError(503, 'CW_NO_MODEL', 'no model is loaded', { 'retry-after': '5' });
      const { model, recorder } = loaded;
      const scores =
        inputs.length === 1
          ? [model.scoreRecord(features[0]!)]
          : model.scoreRecords(features as RawFeatures[]);
      const threshold = model.info.threshold;
      const version = model.info.version;
      const now = ctx.clock();
      const records: PredictionRecord[] = new Array(inputs.length);
      for (let i = 0; i < inputs.length; i++) {
        const score = scores[i]!;
        records[i] = {
          id: ctx.newId(),
          createdAt: now,
          userId: fields.userIdOf(inputs[i]!),
          modelVersion: version,
          features: features[i]!,
          score,
          predictedClass: score >= threshold ? 1 : 0,
        };
      }
      if (!ctx.writer.enqueue(records)) throw queueFull(ctx);
      // One binning per request serves the counters and the monitor's window.
      const bins = recordBinnerOf(model.profile).bin(features, scores);
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
