/**
 * POST /feedback: the observed outcome of earlier predictions, by prediction_id or user_id.
 * The writer is flushed first so that a prediction acknowledged a moment ago is joinable.
 */
import type { FastifyInstance } from 'fastify';
import type { FeedbackInput } from '../../store/prediction-store.js';
import type { AppContext } from '../app-context.js';
import { EARLIEST_CLIENT_TIME, MAX_CLIENT_TIME_AHEAD_MS, parseClientTime } from '../client-time.js';
import { HttpError } from '../error-handler.js';
import { type CanonicalField, canonicalFields } from '../field-names.js';
import { ErrorBody } from '../schemas/common-schemas.js';
import {
  type FeedbackFieldName,
  feedbackBodySchema,
  feedbackFieldIndex,
} from '../schemas/feedback-schemas.js';

/** A validated item under its canonical field names. */
interface FeedbackFields {
  prediction_id?: string;
  user_id?: string;
  churn?: 0 | 1;
  observed_at?: string | number;
}

type FeedbackBody = Readonly<Record<string, unknown>>;

/** The fields of a server whose schema has no id column of its own (Expresso's is user_id). */
const USER_ID_FIELDS = feedbackFieldIndex();

/** The earliest observed_at accepted (client-time.ts). */
export const EARLIEST_OBSERVED_AT = EARLIEST_CLIENT_TIME;
/** How far after the server's clock observed_at may be. */
export const MAX_OBSERVED_AHEAD_MS = MAX_CLIENT_TIME_AHEAD_MS;

/**
 * Reads the fields under either spelling, checks what the schema cannot say and converts to the store's
 * input; throws 400 naming the item.
 */
export function toFeedbackInput(
  body: FeedbackBody,
  where: string,
  receivedAt: number,
  fields: ReadonlyMap<string, CanonicalField<FeedbackFieldName>> = USER_ID_FIELDS,
): FeedbackInput {
  const item = canonicalFields(body, fields, where, 'CW_FEEDBACK_DUPLICATE_FIELD') as FeedbackFields;
  // The schema checks churn is 0 or 1 under whichever spelling it came; not that it came.
  if (item.churn === undefined) {
    throw new HttpError(400, 'CW_FEEDBACK_NO_LABEL', `${where} must have field "churn"`);
  }
  if (item.prediction_id === undefined && item.user_id === undefined) {
    throw new HttpError(400, 'CW_FEEDBACK_NO_KEY', `${where} must have field "prediction_id" or "user_id"`);
  }
  const observedAt = parseClientTime(
    item.observed_at,
    `${where}/observed_at`,
    receivedAt,
    'CW_FEEDBACK_BAD_TIME',
  );
  return {
    predictionId: item.prediction_id,
    userId: item.user_id,
    label: item.churn,
    observedAt,
    receivedAt,
  };
}

/** How long feedback waits for the prediction log to catch up before answering 503. */
const FLUSH_WAIT_MS = 5000;

async function flushWithin(ctx: AppContext, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ctx.writer.flush(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new HttpError(
                503,
                'CW_STORE_BEHIND',
                `the prediction log did not catch up within ${ms} ms; retry shortly`,
                {
                  'retry-after': '5',
                },
              ),
            ),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `idColumn`: the served schema's id column, accepted for user_id as in /predict. */
export function registerFeedbackRoute(app: FastifyInstance, ctx: AppContext, idColumn?: string): void {
  const fields = feedbackFieldIndex(idColumn);
  app.post(
    '/feedback',
    {
      schema: {
        summary: 'Report what happened to a customer (churn or CHURN 0/1), one item or { "records": [...] }',
        tags: ['feedback'],
        body: feedbackBodySchema(ctx.config.batchLimit),
        response: { '4xx': ErrorBody, '5xx': ErrorBody },
      },
    },
    async (request, reply) => {
      const body = request.body as FeedbackBody | { records: FeedbackBody[] };
      const batch = 'records' in body && Array.isArray(body.records);
      const items = batch ? (body as { records: FeedbackBody[] }).records : [body as FeedbackBody];
      const now = ctx.clock();
      const inputs = items.map((item, i) =>
        toFeedbackInput(item, batch ? `body/records/${i}` : 'body', now, fields),
      );
      await flushWithin(ctx, FLUSH_WAIT_MS);
      const outcomes = await ctx.store.recordFeedback(inputs);
      ctx.metrics.observeFeedback(outcomes, true);
      ctx.observer?.observeFeedback(outcomes);
      const results = outcomes.map((o) => ({
        feedback_id: o.feedbackId,
        status: o.status,
        prediction_id: o.prediction?.id ?? null,
      }));
      return reply.send(batch ? { results } : results[0]);
    },
  );
}
