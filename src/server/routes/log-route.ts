/**
 * POST /log: predictions made by a model that lives elsewhere. Each record is a /predict record (same
 * fields, spellings and checks: record-fields.ts) plus the external model's score, optionally its class,
 * a prediction id and a timestamp. The records are stored, counted and observed exactly as served
 * predictions are (predict-route.ts), under the artifact's version, so drift, data quality, prediction
 * drift and estimated and realized performance (feedback joins as usual) cover them. A batch is all or
 * nothing: every record is checked before anything is queued.
 *
 * A prediction_id already taken (stored, or accepted here and still queued: logged-ids.ts) is
 * acknowledged and listed in `already_logged`, but neither stored again nor counted nor observed: the
 * first record stands, so a client may resend a request it got no answer for. Two records of one batch
 * with one id are refused (CW_LOG_DUPLICATE_ID). With `--ack commit` the answer waits until the
 * records are stored; after a 503 CW_STORE_COMMIT_TIMEOUT resending with the same ids is the way to
 * make sure.
 */
import type { FastifyInstance } from 'fastify';
import type { RawFeatures } from '../../data/feature-types.js';
import { recordBinnerOf } from '../../model/record-binner.js';
import type { PredictionRecord } from '../../store/prediction-store.js';
import type { AppContext } from '../app-context.js';
import { parseClientTime } from '../client-time.js';
import { waitForCommit } from '../commit-wait.js';
import { HttpError } from '../error-handler.js';
import { createLoggedIds } from '../logged-ids.js';
import type { RecordFields } from '../record-fields.js';
import { ErrorBody } from '../schemas/common-schemas.js';
import { LOG_RECORD_ID } from '../schemas/log-schemas.js';
import { predictBodySchema } from '../schemas/predict-schemas.js';

interface LogInput extends Record<string, unknown> {
  score: number;
  class?: 0 | 1;
  prediction_id?: string;
  timestamp?: string | number;
}

/** `fields` are the served schema's, as /predict's (build-app.ts). */
export function registerLogRoute(app: FastifyInstance, ctx: AppContext, fields: RecordFields): void {
  const loggedIds = createLoggedIds(ctx.store, ctx.config.maxQueue);
  app.post(
    '/log',
    {
      schema: {
        summary:
          'Log a prediction made elsewhere (features + score), or a batch as { "records": [...] }: monitored like a served one',
        tags: ['prediction'],
        body: predictBodySchema(ctx.config.batchLimit, fields, LOG_RECORD_ID),
        response: { '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async (request, reply) => {
      const body = request.body as LogInput | { records: LogInput[] };
      const batch = 'records' in body && Array.isArray(body.records);
      const inputs: LogInput[] = batch ? (body as { records: LogInput[] }).records : [body as LogInput];
      const loaded = ctx.models.current;
      if (!loaded) throw new HttpError(503, 'CW_NO_MODEL', 'no model is loaded', { 'retry-after': '5' });
      const { model, recorder } = loaded;
      const threshold = model.info.threshold;
      const version = model.info.version;
      const now = ctx.clock();
      const records: PredictionRecord[] = new Array(inputs.length);
      const features: RawFeatures[] = new Array(inputs.length);
      const scores = new Float64Array(inputs.length);
      const seen = new Map<string, number>();
      for (let i = 0; i < inputs.length; i++) {
        const where = batch ? `body/records/${i}` : 'body';
        const { score, class: given, prediction_id, timestamp, ...rest } = inputs[i]!;
        features[i] = fields.canonical(rest, where);
        const createdAt = parseClientTime(timestamp, `${where}/timestamp`, now, 'CW_LOG_BAD_TIME');
        if (prediction_id !== undefined) {
          const earlier = seen.get(prediction_id);
          if (earlier !== undefined)
            throw new HttpError(
              400,
              'CW_LOG_DUPLICATE_ID',
              `${where}/prediction_id ${JSON.stringify(prediction_id)} is also body/records/${earlier}'s; one id per prediction`,
            );
          seen.set(prediction_id, i);
        }
        scores[i] = score;
        records[i] = {
          id: prediction_id ?? ctx.newId(),
          createdAt,
          userId: fields.userIdOf(rest),
          modelVersion: version,
          features: features[i]!,
          score,
          predictedClass: given ?? (score >= threshold ? 1 : 0),
        };
      }
      // Ids the server made are new; a client's may be a retry of one taken already.
      const taken = await takenIds([...seen.keys()]);
      const fresh = () => records.flatMap((r, i) => (taken.has(r.id) ? [] : [i]));
      const room = fresh().length;
      if (
        !ctx.writer.hasRoom(room) &&
        !(await ctx.writer.waitForRoom(room, ctx.config.queueWaitMs - reply.elapsedTime))
      )
        throw new HttpError(
          503,
          'CW_STORE_QUEUE_FULL',
          `the prediction log is behind (${ctx.writer.size} predictions queued); retry shortly`,
          { 'retry-after': '1' },
        );
      // From here to the enqueue nothing waits: a request with the same id that raced this one either
      // queued it already (remembered now) or will see it remembered.
      for (const id of seen.keys()) if (loggedIds.remembered(id)) taken.add(id);
      const kept = taken.size === 0 ? undefined : fresh();
      const newRecords = kept ? kept.map((i) => records[i]!) : records;
      if (!ctx.writer.enqueue(newRecords))
        throw new HttpError(503, 'CW_STORE_QUEUE_FULL', 'the prediction log is full; retry shortly', {
          'retry-after': '1',
        });
      loggedIds.remember(newRecords.flatMap((r) => (seen.has(r.id) ? [r.id] : [])));
      if (newRecords.length > 0) {
        // One binning serves the counters and the monitor's window, as for /predict.
        const bins = recordBinnerOf(model.profile).bin(
          kept ? kept.map((i) => features[i]!) : features,
          kept ? Float64Array.from(kept, (i) => scores[i]!) : scores,
        );
        recorder.recordBatch(newRecords, bins);
        ctx.observer?.observePredictions(newRecords, bins);
      }
      // Commit mode: also an id logged a moment ago by another request may still be queued; committed()
      // covers everything queued before it, so a retry's answer too means "stored".
      if (ctx.config.ack === 'commit') await waitForCommit(ctx, records.length);
      return reply.send(
        batch
          ? {
              prediction_ids: records.map((r) => r.id),
              model_version: version,
              already_logged: records.flatMap((r) => (taken.has(r.id) ? [r.id] : [])),
            }
          : { prediction_id: records[0]!.id, model_version: version, already_logged: taken.size > 0 },
      );
    },
  );

  /** The ids of `ids` taken already; a store that cannot answer is a 503 (retry: nothing was taken). */
  async function takenIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    try {
      return await loggedIds.taken(ids);
    } catch (error) {
      throw new HttpError(
        503,
        'CW_STORE_UNAVAILABLE',
        `cannot tell whether these prediction ids are logged already: the prediction log did not answer (${(error as Error).message}); retry shortly`,
        { 'retry-after': '1' },
      );
    }
  }
}

/**
 * /predict of a server whose artifact scores nothing (`churnwatch profile`): a clear 409 pointing at
 * POST /log, before the body is read.
 */
export function registerNoScorerPredictRoute(app: FastifyInstance, ctx: AppContext): void {
  app.post(
    '/predict',
    {
      schema: {
        summary: 'Refused: this server monitors a model that lives elsewhere (POST /log its predictions)',
        tags: ['prediction'],
        response: { '4xx': ErrorBody },
      },
      onRequest: async () => {
        const version = ctx.models.current?.model.info.version ?? 'served';
        throw new HttpError(
          409,
          'CW_PREDICT_NO_SCORER',
          `model ${version} was made by churnwatch profile: this artifact monitors a model that lives elsewhere; send its predictions to POST /log`,
        );
      },
    },
    async () => undefined,
  );
}
