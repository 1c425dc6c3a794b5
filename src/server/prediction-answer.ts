/**
 * The JSON text of POST /predict's answer, written directly. Building one object per prediction and
 * handing them to Fastify's JSON.stringify took 8% of a 1,000-record batch's CPU time (profile in
 * docs/performance.md); the answer's shape is fixed, so only the user id and the model version can
 * need escaping, and JSON.stringify does that for them.
 */

/** What the answer says about one prediction. */
export interface AnswerRow {
  readonly id: string;
  readonly userId: string | null;
  readonly score: number;
  readonly predictedClass: 0 | 1;
}

/** Characters JSON.stringify would escape: quote, backslash, controls, lone surrogate halves. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON escapes U+0000-U+001F; matching them is the point.
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A JSON string literal for any text. Ids and most user ids need no escaping, and a regular
 * expression test is several times cheaper than JSON.stringify on a short string.
 */
const quote = (text: string | null): string =>
  text === null ? 'null' : NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;

/**
 * One prediction as JSON; `version` is already quoted. Numbers print as JSON.stringify prints them.
 * Prediction ids are the server's own (prediction-id.ts: hex digits and dashes), never escaped.
 */
function answerObject(row: AnswerRow, version: string): string {
  return `{"prediction_id":"${row.id}","user_id":${quote(row.userId)},"churn_probability":${row.score},"churn":${row.predictedClass},"model_version":${version}}`;
}

/** The answer to a single record: one prediction object. */
export function singleAnswer(row: AnswerRow, modelVersion: string): string {
  return answerObject(row, quote(modelVersion));
}

/** The answer to a batch: `{"predictions":[...]}` in input order. */
export function batchAnswer(rows: readonly AnswerRow[], modelVersion: string): string {
  const version = quote(modelVersion);
  let text = '{"predictions":[';
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) text += ',';
    text += answerObject(rows[i]!, version);
  }
  return `${text}]}`;
}
