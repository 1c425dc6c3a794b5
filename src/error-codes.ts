/**
 * Every error code churnwatch shows a user, in one list: `ChurnwatchError` and `HttpError` take an
 * `ErrorCode`, so a misspelt code is a type error, and src/error-codes.test.ts checks that each one is
 * documented in docs/errors.md. Codes are named `CW_<AREA>_<WHAT>`; a new code goes here first.
 */

/**
 * Codes of the HTTP API without an area: the ones clients already match on, which predate the
 * `CW_<AREA>_<WHAT>` pattern and keep their names, and the routing answers beside `CW_NOT_FOUND`.
 */
export const HTTP_API_CODES = [
  'CW_BAD_REQUEST',
  'CW_INTERNAL',
  'CW_METHOD_NOT_ALLOWED',
  'CW_NOT_FOUND',
  'CW_NOT_READY',
  'CW_NO_MODEL',
  'CW_RELOAD_FAILED',
] as const;

export const ERROR_CODES = [
  ...HTTP_API_CODES,
  'CW_ADMIN_DISABLED',
  'CW_ADMIN_FORBIDDEN',
  'CW_ADMIN_RELOAD_SCHEMA_CHANGED',
  'CW_ADMIN_UNAUTHORIZED',
  'CW_DATA_BAD_OPTION',
  'CW_DATA_CSV_EMPTY',
  'CW_DATA_CSV_HEADER',
  'CW_DATA_CSV_NOT_FOUND',
  'CW_DATA_CSV_ROW',
  'CW_DATA_DOWNLOAD_BAD_CSV',
  'CW_DATA_DOWNLOAD_BROKEN_ZIP',
  'CW_DATA_DOWNLOAD_FAILED',
  'CW_DATA_DOWNLOAD_NOT_FOUND',
  'CW_DATA_DOWNLOAD_NO_TRAIN_CSV',
  'CW_DATA_DOWNLOAD_REFUSED',
  'CW_DATA_DOWNLOAD_TRUNCATED',
  'CW_DATA_DOWNLOAD_UNREACHABLE',
  'CW_DATA_KAGGLE_CONFIG',
  'CW_DATA_SCHEMA_DUPLICATE_COLUMN',
  'CW_DATA_SCHEMA_INVALID',
  'CW_DATA_SCHEMA_NO_FEATURES',
  'CW_DATA_SCHEMA_NO_TARGET',
  'CW_DATA_SCHEMA_ONE_CLASS',
  'CW_DATA_SCHEMA_POSITIVE_LABEL',
  'CW_DATA_SCHEMA_TARGET_CLASSES',
  'CW_DATA_SCHEMA_UNKNOWN_COLUMN',
  'CW_DATA_SCHEMA_VERSION',
  'CW_DATA_SPLIT_OPTIONS',
  'CW_DATA_SPLIT_TOO_FEW_ROWS',
  'CW_DEMO_BAD_OPTION',
  'CW_DEMO_STOPPED',
  'CW_FEEDBACK_BAD_TIME',
  'CW_FEEDBACK_DUPLICATE_FIELD',
  'CW_FEEDBACK_NO_KEY',
  'CW_FEEDBACK_NO_LABEL',
  'CW_MODEL_DAMAGED',
  'CW_MODEL_FORMAT_VERSION',
  'CW_MODEL_MISSING_FILE',
  'CW_MODEL_NOT_FOUND',
  'CW_MONITOR_BAD_OPTION',
  'CW_MONITOR_LISTEN',
  'CW_MONITOR_NO_MODEL',
  'CW_PREDICT_BAD_OPTION',
  'CW_PREDICT_DUPLICATE_FIELD',
  'CW_PREDICT_OUTPUT',
  'CW_PROVISION_STALE',
  'CW_PROVISION_UNAVAILABLE',
  'CW_PROVISION_WRITE',
  'CW_REPORT_BAD_OPTION',
  'CW_REPORT_EMPTY_FILE',
  'CW_REPORT_NO_COMMON_FEATURES',
  'CW_REPORT_UNKNOWN_COLUMN',
  'CW_SERVE_BAD_OPTION',
  'CW_SERVE_LISTEN',
  'CW_SERVE_NO_MODEL',
  'CW_SIM_API_UNREACHABLE',
  'CW_SIM_BAD_OPTION',
  'CW_SIM_EMPTY_DATA',
  'CW_SIM_HANDOFF',
  'CW_SIM_REJECTED',
  'CW_STORE_BEHIND',
  'CW_STORE_OPEN_FAILED',
  'CW_STORE_QUEUE_FULL',
  'CW_STORE_UNAVAILABLE',
  'CW_STORE_URL_INVALID',
  'CW_STORE_WRITER_STOPPED',
  'CW_TRAIN_BAD_OPTION',
  'CW_TRAIN_MISSING_COLUMN',
  'CW_TRAIN_NO_LABELS',
  'CW_TRAIN_PUSH_FAILED',
  'CW_TRAIN_SCHEMA_UNSUPPORTED',
  'CW_TRAIN_TOO_FEW_ROWS',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES);

/** For codes that crossed a boundary as plain strings (a worker thread's message). */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN.has(value);
}
