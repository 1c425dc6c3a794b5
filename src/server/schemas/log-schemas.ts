/**
 * POST /log bodies and answers: a prediction another service made, as a /predict record (the served
 * schema's features and customer id, under the same spellings and checks: customerRecordSchema) plus
 * what that model said and when: `score` (required), `class`, `prediction_id` and `timestamp`. These
 * names win over a feature spelt the same (only by case: `score` can be no feature's name).
 */
import { type TSchema, Type } from '@sinclair/typebox';
import type { RecordFields } from '../record-fields.js';
import { clientTimeSchema, NO_NUL_PATTERN } from './common-schemas.js';
import { customerRecordSchema } from './predict-schemas.js';

/** The $id of the log record schema an app registers. */
export const LOG_RECORD_ID = 'LogRecord';

/** The fields a logged record has beside the features and the customer id. */
export const LOG_FIELDS = {
  score: Type.Number({
    minimum: 0,
    maximum: 1,
    description: "The external model's probability of the positive class (churn), in [0, 1]. Required.",
  }),
  class: Type.Optional(
    Type.Integer({
      enum: [0, 1],
      description: "The external model's decision; default: 1 when score ≥ the artifact's threshold.",
    }),
  ),
  prediction_id: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 200,
      pattern: NO_NUL_PATTERN,
      description:
        'Your id for this prediction (give it back in POST /feedback); default: one is made as /predict makes them. An id already stored keeps its first record.',
    }),
  ),
  timestamp: clientTimeSchema(
    'When the prediction was made: ISO 8601 with time zone, or epoch milliseconds; not before 2000 nor more than a day ahead. Default: now.',
  ),
} as const;

export type LogFieldName = keyof typeof LOG_FIELDS;
export const LOG_FIELD_NAMES = Object.keys(LOG_FIELDS) as LogFieldName[];

/** One logged record of this schema: the /predict record's fields and the log fields, score required. */
export function logRecordSchema(
  fields: RecordFields,
  categories: (name: string) => readonly string[] | undefined = () => undefined,
) {
  const record = customerRecordSchema(fields, categories);
  const properties: Record<string, TSchema> = { ...record.properties, ...LOG_FIELDS };
  return {
    ...record,
    $id: LOG_RECORD_ID,
    properties,
    required: ['score'],
    description: `A prediction made elsewhere: ${fields.idName}, the ${fields.features.length} features as POST /predict takes them, and the external model's score (required), class, prediction_id and timestamp.`,
  };
}

export const LogResponse = Type.Union([
  Type.Object({ prediction_id: Type.String(), model_version: Type.String() }),
  Type.Object({
    prediction_ids: Type.Array(Type.String(), { description: 'In input order.' }),
    model_version: Type.String(),
  }),
]);
