/**
 * POST /predict: validate (schema), canonicalise names, score, queue for the store, count.
 * A batch is all or nothing: any bad record rejects the whole request before anything is scored
 * or written, so a client can simply fix and resend it.
 */
import type { FastifyInstance } from 'fastify';
import { FEATURES, type FeatureName, type RawFeatures } from '../../data/customer-schema.js';
import { sendError } from '../../http/error-reply.js';
import { recordBinnerOf } from '../../model/record-binner.js';
import type { PredictionRecord } from '../../store/prediction-store.js';
import type { AppContext } from '../app-context.js';
import { HttpError } from '../error-handler.js';
import { givenTwice, spellingIndex, spellingsOf } from '../field-names.js';
import { batchAnswer, singleAnswer } from '../prediction-answer.js';
import { ErrorBody } from '../schemas/common-schemas.js';
import { predictBodySchema } from '../schemas/predict-schemas.js';

type InputRecord = Record<string, number | string | null | undefined>;

/** Both spellings of every field name to its canonical name and its position (user_id last). */
const USER_ID = 'user_id';
const CANONICAL = spellingIndex<FeatureName | typeof USER_ID>([...FEATURES.map((f) => f.name), USER_ID]);
const USER_ID_SPELLINGS = spellingsOf(USER_ID);

/** A fresh record with every feature missing; one literal so V8 gives all records one shape. */
function emptyFeatures(): Record<FeatureName, number | string | null> {
  return {
    REGION: null,
    TENURE: null,
    MONTANT: null,
    FREQUENCE_RECH: null,
    REVENUE: null,
    ARPU_SEGMENT: null,
    FREQUENCE: null,
    DATA_VOLUME: null,
    ON_NET: null,
    ORANGE: null,
    TIGO: null,
    ZONE1: null,
    ZONE2: null,
    MRG: null,
    REGULARITY: null,
    TOP_PACK: null,
    FREQ_TOP_PACK: null,
  };
}

/**
 * Canonical features of one validated record; a field (a feature or user_id) given under both
 * spellings is refused. A hand-written canonicalFields (field-names.ts) for the hot path: one bit per
 * field, one object literal per record.
 */
export function canonicalFeatures(input: InputRecord, where: string): RawFeatures {
  const out = emptyFeatures();
  let seen = 0;
  for (const key in input) {
    const target = CANONICAL.get(key);
    if (!target) continue; // unreachable after validation (unknown fields are refused)
    const bit = 1 << target.index;
    if (seen & bit) throw givenTwice('CW_PREDICT_DUPLICATE_FIELD', where, target.name);
    seen |= bit;
    if (target.name !== USER_ID) out[target.name] = input[key] ?? null;
  }
  return out;
}

/** The record's user_id under either spelling (canonicalFeatures refused a record with both). */
function userIdOf(input: InputRecord): string | null {
  for (const key of USER_ID_SPELLINGS) {
    const value = input[key];
    if (typeof value === 'string') return value;
  }
  return null;
}

const QUEUE_FULL = { status: 503, code: 'CW_STORE_QUEUE_FULL', headers: { 'retry-after': '1' } } as const;

function queueFullMessage(ctx: AppContext): string {
  return `the prediction log is behind (${ctx.writer.size} predictions queued); retry shortly`;
}

function queueFull(ctx: AppContext): HttpError {
  return new HttpError(QUEUE_FULL.status, QUEUE_FULL.code, queueFullMessage(ctx), QUEUE_FULL.headers);
}

export function registerPredictRoute(app: FastifyInstance, ctx: AppContext): void {
  app.post(
    '/predict',
    {
      schema: {
        summary: 'Score one customer, or a batch as { "records": [...] }',
        tags: ['prediction'],
        body: predictBodySchema(ctx.config.batchLimit),
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
        features[i] = canonicalFeatures(inputs[i]!, batch ? `body/records/${i}` : 'body');
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
          userId: userIdOf(inputs[i]!),
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
      // The answer's text is written here (prediction-answer.ts), not serialised from objects.
      return reply
        .header('content-type', 'application/json; charset=utf-8')
        .send(batch ? batchAnswer(records, version) : singleAnswer(records[0]!, version));
    },
  );
}
