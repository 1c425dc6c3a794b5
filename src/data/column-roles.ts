/**
 * The rules that recognise a column's role from its name and what its values showed: an id (distinct in
 * nearly every row), a target (two values under a target-like name), a timestamp (ISO 8601 dates). One set
 * of rules for `churnwatch report` (monitor/report-roles.ts, on whole tables) and for schema inference
 * (infer-schema.ts, on counts gathered while streaming), so both call the same column the same thing.
 */

/** Names that make a two-valued column the target when no `--target` is given. */
export const TARGET_NAME = /^(churn|target|label|class|y)$/i;
/** Names that make a column of distinct integers an id (`id`, `user_id`, `customerID`, `userId`). */
export const ID_NAME = /(^|[_\s-])id$|[a-z]I[dD]$/i;
/** ISO 8601 date or date-time: `2024-05-01`, `2024-05-01T10:00:00Z`, `2024-05-01 10:00:00.123+02:00`. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;
/** Share of rows that must hold an ISO date (timestamp) or a value (id). */
export const NEARLY_ALL = 0.95;
/** Fewer rows than this prove nothing about uniqueness: no id is inferred from them. */
export const MIN_ROWS_FOR_ID = 10;

export function isIsoDate(value: string): boolean {
  return ISO_DATE.test(value) && Number.isFinite(Date.parse(value));
}

/** What one file showed of a column, enough to tell whether it is an id. */
export interface IdEvidence {
  readonly kind: 'numeric' | 'categorical';
  /** Rows of the file. */
  readonly rows: number;
  /** Rows holding a value. */
  readonly present: number;
  /** Distinct values among them. */
  readonly distinct: number;
  /** Every value a whole number (numeric columns). */
  readonly integers: boolean;
}

/**
 * Why `name` is an id, or undefined: in every file, a value in nearly every row (≥ 95 %, at least ten
 * rows) and all values distinct, and either text (categorical) or whole numbers under an id-like name.
 * Numbers are features unless the name says id: a continuous amount is distinct in every row too.
 */
export function idLikeReason(name: string, evidence: readonly IdEvidence[]): string | undefined {
  if (evidence.length === 0) return undefined;
  const text = evidence.every((e) => e.kind === 'categorical');
  if (!text && !(ID_NAME.test(name) && evidence.every((e) => e.kind === 'numeric' && e.integers)))
    return undefined;
  const distinctInNearlyEveryRow = (e: IdEvidence) =>
    e.rows >= MIN_ROWS_FOR_ID && e.present >= NEARLY_ALL * e.rows && e.distinct === e.present;
  if (!evidence.every(distinctInNearlyEveryRow)) return undefined;
  return text ? 'a distinct text value in every row' : 'named like an id, a distinct integer in every row';
}

/** Why `name` is the target (its distinct values given, sorted), or undefined. */
export function targetLikeReason(name: string, values: readonly string[]): string | undefined {
  if (!TARGET_NAME.test(name)) return undefined;
  return values.length === 2 ? `named like a target, two values (${values.join(', ')})` : undefined;
}

/** `0.265` → `26.5 %`. */
export function percent(share: number): string {
  return `${Number((100 * share).toFixed(1))} %`;
}
