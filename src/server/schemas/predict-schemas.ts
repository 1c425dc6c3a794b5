/**
 * POST /predict bodies and answers, built from the served model's schema (record-fields.ts): each
 * feature under its CSV name or all lower or all upper case (`MONTANT`, `montant`; `Contract`,
 * `contract`, `CONTRACT`), the customer id as the schema's id column or `user_id`: the rule of
 * field-names.ts, the same as /feedback's. Numeric features take numbers, categorical ones strings; every
 * feature may be null or absent. The same TypeBox schemas validate the request (Ajv, no type coercion,
 * unknown fields rejected) and document it in the OpenAPI page.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import type { FeatureSchema } from '../../data/dataset-schema.js';
import type { RecordFields } from '../record-fields.js';
import { NO_NUL_PATTERN } from './common-schemas.js';

/** The $id of the record schema an app registers (one schema per app: the model's). */
export const CUSTOMER_RECORD_ID = 'CustomerRecord';

/** Properties whose checks one schema level holds (a 200-feature model's ~400 spellings need two). */
const CHECKS_PER_LEVEL = 256;

/** Categories listed in a field's description; the rest are counted (GET /model lists them all). */
const LISTED_CATEGORIES = 20;

function categoryNote(categories: readonly string[] | undefined): string {
  if (!categories?.length) return '';
  const listed = categories.slice(0, LISTED_CATEGORIES).map((c) => JSON.stringify(c));
  const more = categories.length - listed.length;
  return `; categories kept: ${listed.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

function featureSchema(
  f: FeatureSchema,
  spellings: readonly string[],
  categories: readonly string[] | undefined,
): TSchema {
  const names = spellings.length > 1 ? ` (also ${spellings.slice(1).join(', ')})` : '';
  // One `type` array rather than anyOf: Ajv then reports "must be number,null", not three errors.
  return f.kind === 'numeric'
    ? Type.Unsafe<number | null>({
        type: ['number', 'null'],
        description: `${f.name}${names}: numeric, null when missing`,
      })
    : Type.Unsafe<string | null>({
        type: ['string', 'null'],
        maxLength: 200,
        pattern: NO_NUL_PATTERN,
        description: `${f.name}${names}: category, null when missing; a category never seen in training is scored as unseen${categoryNote(categories)}`,
      });
}

/**
 * The schema of one record of this model: every spelling of every field, all optional. `categories`
 * gives a categorical feature's kept categories, for the description.
 */
export function customerRecordSchema(
  fields: RecordFields,
  categories: (name: string) => readonly string[] | undefined = () => undefined,
) {
  const properties: Record<string, TSchema> = {};
  const target = fields.schema.target;
  const id = Type.Optional(
    Type.String({
      maxLength: 200,
      pattern: NO_NUL_PATTERN,
      description: `Your id for the customer (joins feedback by user): ${fields.idSpellings.join(', ')}.`,
    }),
  );
  for (const s of fields.idSpellings) properties[s] = id;
  fields.features.forEach((f, i) => {
    const spellings = fields.featureSpellings[i]!;
    const schema = Type.Optional(featureSchema(f, spellings, categories(f.name)));
    for (const s of spellings) properties[s] = schema;
  });
  // Columns the schema left out (ignored, constant, id-like) are known, not unknown: a client sending a
  // whole CSV row is not refused for them; they are accepted as they are and not used or stored.
  for (const d of fields.schema.dropped)
    properties[d.column] ??= Type.Optional(
      Type.Unsafe({ description: `${d.column}: left out of the model (${d.reason}); accepted and ignored` }),
    );
  const options = {
    additionalProperties: false,
    $id: CUSTOMER_RECORD_ID,
    description: `One customer: ${fields.idName} and the model's ${fields.features.length} features (as named in the training CSV, or all lower or all upper case), all optional. Scored as the probability that ${target.column} is ${JSON.stringify(target.positive)} (churn 1) rather than ${JSON.stringify(target.negative)} (churn 0).`,
  };
  const names = Object.keys(properties);
  if (names.length <= CHECKS_PER_LEVEL) return Type.Object(properties, options);
  // Ajv (without allErrors) nests the check of each property inside the previous one's success: past a
  // thousand or so properties the compiled validator overflows the stack. So a wide record lists its
  // fields with their descriptions only (which compile to no code; additionalProperties still refuses
  // any other), and checks their types in allOf groups of at most CHECKS_PER_LEVEL.
  const checks: Record<string, TSchema>[] = [];
  for (let i = 0; i < names.length; i += CHECKS_PER_LEVEL)
    checks.push(Object.fromEntries(names.slice(i, i + CHECKS_PER_LEVEL).map((n) => [n, properties[n]!])));
  const listed = Object.fromEntries(
    names.map((n) => [n, Type.Optional(Type.Unsafe({ description: properties[n]!.description }))]),
  );
  return Type.Object(listed, { ...options, allOf: checks.map((c) => Type.Object(c)) });
}

/** The batch form; maxItems is set from --batch-limit when the app is built. `recordId`: /log's record. */
export function predictBatchSchema(batchLimit: number, recordId = CUSTOMER_RECORD_ID) {
  return Type.Object(
    { records: Type.Array(Type.Ref(recordId), { minItems: 1, maxItems: batchLimit }) },
    { additionalProperties: false, description: `Up to ${batchLimit} customers scored in one request.` },
  );
}

/**
 * Validation schema: a body with a `records` key is a batch, anything else one record. if/then/else
 * (not anyOf) so that Ajv reports the error of the form the client meant, naming the field. For a model
 * with a feature spelt `records` (whose value is never an array), only a `records` array is a batch.
 */
export function predictBodySchema(batchLimit: number, fields: RecordFields, recordId = CUSTOMER_RECORD_ID) {
  const recordsIsAField = fields.featureSpellings.some((s) => s.includes('records'));
  return {
    type: 'object',
    if: {
      type: 'object',
      required: ['records'],
      ...(recordsIsAField ? { properties: { records: { type: 'array' } } } : {}),
    },
    // biome-ignore lint/suspicious/noThenProperty: `then` is the JSON Schema keyword, not a promise.
    then: predictBatchSchema(batchLimit, recordId),
    else: Type.Ref(recordId),
  };
}

/** The same body as documentation (OpenAPI 3.0 has no if/then/else). */
export function predictBodyDocSchema(batchLimit: number, recordId = CUSTOMER_RECORD_ID) {
  return Type.Union([Type.Ref(recordId), predictBatchSchema(batchLimit, recordId)]);
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
