/**
 * POST /predict bodies and answers. Field names are accepted as in Train.csv (`MONTANT`, `user_id`) or
 * in the other case (`montant`, `USER_ID`): the rule of field-names.ts, the same as /feedback's; every
 * feature may be null or absent. The same TypeBox schemas validate the request (Ajv, no type coercion,
 * unknown fields rejected) and document it in the OpenAPI page.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import { FEATURES } from '../../data/customer-schema.js';
import { withSpellings } from '../field-names.js';
import { NO_NUL_PATTERN } from './common-schemas.js';

const featureProperties: Record<string, TSchema> = {};
for (const f of FEATURES) {
  // One `type` array rather than anyOf: Ajv then reports "must be number,null", not three errors.
  const schema =
    f.kind === 'numeric'
      ? Type.Unsafe<number | null>({
          type: ['number', 'null'],
          description: `${f.name} (numeric, null when missing)`,
        })
      : Type.Unsafe<string | null>({
          type: ['string', 'null'],
          maxLength: 200,
          pattern: NO_NUL_PATTERN,
          description: `${f.name} (category, null when missing; a category never seen in training is scored as unseen)`,
        });
  featureProperties[f.name] = Type.Optional(schema);
}

export const CustomerRecord = Type.Object(
  withSpellings({
    user_id: Type.Optional(
      Type.String({
        maxLength: 200,
        pattern: NO_NUL_PATTERN,
        description: 'Your id for the customer (joins feedback by user).',
      }),
    ),
    ...featureProperties,
  }),
  {
    additionalProperties: false,
    $id: 'CustomerRecord',
    description:
      'One customer: user_id and the Train.csv features (upper or lower case names), all optional.',
  },
);

/** The batch form; maxItems is set from --batch-limit when the app is built. */
export function predictBatchSchema(batchLimit: number) {
  return Type.Object(
    { records: Type.Array(Type.Ref(CustomerRecord), { minItems: 1, maxItems: batchLimit }) },
    { additionalProperties: false, description: `Up to ${batchLimit} customers scored in one request.` },
  );
}

/**
 * Validation schema: a body with a `records` key is a batch, anything else one record. if/then/else
 * (not anyOf) so that Ajv reports the error of the form the client meant, naming the field.
 */
export function predictBodySchema(batchLimit: number) {
  return {
    type: 'object',
    if: { type: 'object', required: ['records'] },
    // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, not a promise.
    then: predictBatchSchema(batchLimit),
    else: Type.Ref(CustomerRecord),
  };
}

/** The same body as documentation (OpenAPI 3.0 has no if/then/else). */
export function predictBodyDocSchema(batchLimit: number) {
  return Type.Union([Type.Ref(CustomerRecord), predictBatchSchema(batchLimit)]);
}

export const Prediction = Type.Object(
  {
    prediction_id: Type.String({ description: 'Give it back in POST /feedback.' }),
    user_id: Type.Union([Type.String(), Type.Null()]),
    churn_probability: Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'Calibrated probability of churn.',
    }),
    churn: Type.Integer({ enum: [0, 1], description: '1 when churn_probability >= the model threshold.' }),
    model_version: Type.String(),
  },
  { $id: 'Prediction' },
);

export const PredictBatchResponse = Type.Object({ predictions: Type.Array(Type.Ref(Prediction)) });

export const PredictResponse = Type.Union([Type.Ref(Prediction), PredictBatchResponse]);
