/**
 * The rules that recognise a column's role from its name and what its values showed: an id (distinct in
 * nearly every row), a target (two values under a target-like name), a timestamp (ISO 8601 dates). One set
 * of rules for `churnwatch report` (monitor/report-roles.ts, on whole tables) and for schema inference
 * (infer-schema.ts, on counts gathered while streaming), so both call the same column the same thing.
 */

import { ChurnwatchError } from '../errors.js';

/** Names that make a two-valued column the target when no `--target` is given. */
export const TARGET_NAME = /^(churn|target|label|class|y)$/i;
/**
 * Names that make a column of distinct integers an id (`id`, `user_id`, `customerID`, `userId`, and
 * `identifier` as in NannyML's tutorial tables).
 */
export const ID_NAME = /(^|[_\s-])id$|[a-z]I[dD]$|^identifier$/i;
/** Names under which whole numbers may be epoch times (`timestamp`, `event_time`, `created_at`, `ts`, `date`). */
export function isTimeName(name: string): boolean {
  return /time|date|(^|[_\s-])(ts|at)$/i.test(name) || /[a-z]At$/.test(name);
}
/** ISO 8601 date or date-time: `2024-05-01`, `2024-05-01T10:00:00Z`, `2024-05-01 10:00:00.123+02:00`. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;
/** Share of rows that must hold an ISO date (timestamp) or a value (id). */
export const NEARLY_ALL = 0.95;
/** Fewer rows than this prove nothing about uniqueness: no id is inferred from them. */
export const MIN_ROWS_FOR_ID = 10;

export function isIsoDate(value: string): boolean {
  return ISO_DATE.test(value) && Number.isFinite(Date.parse(value));
}

/** A zone designator at the end of an ISO date-time (`Z`, `+02:00`, `-0500`). */
const ZONE = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/;

/**
 * Milliseconds since the epoch of an ISO 8601 date or date-time, NaN when it is not one. A date-time
 * without a zone is read as UTC (Date.parse would use the machine's zone), so chunks do not depend on
 * where the report runs.
 */
export function isoDateMs(value: string): number {
  if (!ISO_DATE.test(value)) return Number.NaN;
  const utc =
    value.length > 10 && !ZONE.test(value) ? `${value.replace(' ', 'T')}Z` : value.replace(' ', 'T');
  return Date.parse(utc);
}

/** Epoch seconds from 2001-09-09 to 2100 (10 digits) and epoch milliseconds in the same span (13 digits). */
const EPOCH_SECONDS = [1e9, 4.2e9] as const;
const EPOCH_MS = [1e12, 4.2e12] as const;

/**
 * The unit of whole numbers that are epoch times: `s` when every value is in the seconds range, `ms`
 * in the milliseconds range, undefined otherwise (mixed, fractional or out of range).
 */
export function epochUnit(min: number, max: number, integers: boolean): 's' | 'ms' | undefined {
  if (!integers) return undefined;
  if (min >= EPOCH_SECONDS[0] && max <= EPOCH_SECONDS[1]) return 's';
  if (min >= EPOCH_MS[0] && max <= EPOCH_MS[1]) return 'ms';
  return undefined;
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

/** Labels recognised as the positive class of a two-valued target, by pair (compared ignoring case). */
const LABEL_PAIRS: readonly (readonly [string, string])[] = [
  ['1', '0'],
  ['true', 'false'],
  ['yes', 'no'],
];

/**
 * The positive and negative label of a two-valued target (`values`: its two labels): `given` (the
 * `--positive-label` flag, matched exactly, then ignoring case), else a recognised pair (1/0,
 * true/false, yes/no). Throws `code` naming the file, the column and both labels when neither decides.
 * Shared by schema inference and `churnwatch report`, so both read a target the same way.
 */
export function choosePositiveLabel(
  file: string,
  column: string,
  values: readonly string[],
  given: string | undefined,
  code: 'CW_DATA_SCHEMA_POSITIVE_LABEL' | 'CW_REPORT_POSITIVE_LABEL',
): [string, string] {
  const [a, b] = values as [string, string];
  if (given !== undefined) {
    const match =
      values.find((v) => v === given) ?? values.find((v) => v.toLowerCase() === given.trim().toLowerCase());
    if (match === undefined)
      throw new ChurnwatchError(
        code,
        `${file}: --positive-label ${given} is not a value of the target column ${column}, whose values are ${JSON.stringify(a)} and ${JSON.stringify(b)}`,
        { hint: `pass --positive-label ${a} or --positive-label ${b}` },
      );
    return [match, match === a ? b : a];
  }
  for (const [pos, neg] of LABEL_PAIRS) {
    const la = a.toLowerCase();
    const lb = b.toLowerCase();
    if (la === pos && lb === neg) return [a, b];
    if (lb === pos && la === neg) return [b, a];
  }
  throw new ChurnwatchError(
    code,
    `${file}: the target column ${column} holds ${JSON.stringify(a)} and ${JSON.stringify(b)}; which one is the positive class (churned) cannot be told from the labels`,
    {
      hint: `pass --positive-label ${JSON.stringify(a)} or --positive-label ${JSON.stringify(b)} (1/0, true/false and yes/no are recognised)`,
    },
  );
}
