/**
 * POST /feedback bodies and answers: the observed outcome of a prediction, by prediction or by user.
 * Field names in lower or upper case (`churn` or `CHURN`, as in Train.csv): the rule of field-names.ts,
 * the same as /predict's. The user is `user_id` or, as in /predict, the served schema's id column
 * (`customerID`).
 */
import { type TSchema, Type } from '@sinclair/typebox';
import type { DatasetSchema } from '../../data/dataset-schema.js';
import { type CanonicalField, spellingTable } from '../field-names.js';
import { USER_ID } from '../record-fields.js';
import { clientTimeSchema, NO_NUL_PATTERN } from './common-schemas.js';

const feedbackFields = {
  prediction_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL_PATTERN })),
  user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: NO_NUL_PATTERN })),
  // Required under one of its spellings: checked by the route (CW_FEEDBACK_NO_LABEL) after the schema,
  // so that a misspelt label (`Churn`) is reported as the unknown field it is.
  churn: Type.Optional(Type.Integer({ enum: [0, 1], description: 'What happened: 1 churned, 0 stayed.' })),
  observed_at: clientTimeSchema(
    'When the outcome was observed: ISO 8601 with time zone, or epoch milliseconds. Default: now.',
  ),
};

export type FeedbackFieldName = keyof typeof feedbackFields;

/** The canonical names of a feedback item's fields. */
export const FEEDBACK_FIELDS = Object.keys(feedbackFields) as FeedbackFieldName[];

/** The $id of the feedback item schema an app registers. */
export const FEEDBACK_ITEM_ID = 'FeedbackItem';

/** Every spelling of the feedback fields → its canonical name; the id column (if any) names user_id too. */
export function feedbackFieldIndex(idColumn?: string): Map<string, CanonicalField<FeedbackFieldName>> {
  const table = spellingTable(
    FEEDBACK_FIELDS.map((f) => (f === USER_ID && idColumn && idColumn !== USER_ID ? [f, idColumn] : [f])),
  );
  return new Map([...table.index].map(([s, i]) => [s, { name: FEEDBACK_FIELDS[i]!, index: i }]));
}

/**
 * The feedback item of a server whose schema's id column is `idColumn`; `target` (the schema's) names
 * what churn 1 and 0 stand for in the document.
 */
export function feedbackItemSchema(idColumn?: string, target?: DatasetSchema['target']) {
  const properties: Record<string, TSchema> = {};
  const churn = target
    ? Type.Optional(
        Type.Integer({
          enum: [0, 1],
          description: `What happened: 1 churned (${target.column} ${target.positive}), 0 stayed (${target.column} ${target.negative}).`,
        }),
      )
    : feedbackFields.churn;
  for (const [spelling, field] of feedbackFieldIndex(idColumn))
    properties[spelling] = field.name === 'churn' ? churn : feedbackFields[field.name];
  const user = idColumn && idColumn !== USER_ID ? `user_id (or ${idColumn})` : 'user_id';
  return Type.Object(properties, {
    additionalProperties: false,
    $id: FEEDBACK_ITEM_ID,
    description: `Needs churn and prediction_id or ${user} (the user joins the latest prediction at or before observed_at); names in lower or upper case.`,
  });
}

export function feedbackBatchSchema(batchLimit: number) {
  return Type.Object(
    { records: Type.Array(Type.Ref(FEEDBACK_ITEM_ID), { minItems: 1, maxItems: batchLimit }) },
    { additionalProperties: false },
  );
}

export function feedbackBodySchema(batchLimit: number) {
  return {
    type: 'object',
    if: { type: 'object', required: ['records'] },
    // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, not a promise.
    then: feedbackBatchSchema(batchLimit),
    else: Type.Ref(FEEDBACK_ITEM_ID),
  };
}

export function feedbackBodyDocSchema(batchLimit: number) {
  return Type.Union([Type.Ref(FEEDBACK_ITEM_ID), feedbackBatchSchema(batchLimit)]);
}

export const FeedbackResult = Type.Object(
  {
    feedback_id: Type.String(),
    status: Type.Union([
      Type.Literal('joined'),
      Type.Literal('pending'),
      Type.Literal('duplicate'),
      Type.Literal('conflict'),
    ]),
    prediction_id: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'FeedbackResult' },
);

export const FeedbackBatchResponse = Type.Object({ results: Type.Array(Type.Ref(FeedbackResult)) });
export const FeedbackResponse = Type.Union([Type.Ref(FeedbackResult), FeedbackBatchResponse]);
