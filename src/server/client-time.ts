/**
 * Times a client sends (/feedback's observed_at, /log's timestamp): ISO 8601 with a zone or whole
 * epoch milliseconds, refused when before 2000 (a unit or clock mistake: seconds, not ms; a zero) or
 * more than a day after the server's clock (clients' clocks drift; a day more is a mistake).
 */
import type { ErrorCode } from '../error-codes.js';
import { HttpError } from './error-handler.js';

/** The earliest time accepted. */
export const EARLIEST_CLIENT_TIME = Date.UTC(2000, 0, 1);
/** How far after the server's clock a time may be. */
export const MAX_CLIENT_TIME_AHEAD_MS = 24 * 3600 * 1000;

/**
 * The epoch ms of `value` (validated by the schema as a date-time string or an integer ≥ 0), given as
 * `field` (a JSON pointer such as `body/records/2/timestamp`); `receivedAt` when absent. Throws 400 `code`.
 */
export function parseClientTime(value: unknown, field: string, receivedAt: number, code: ErrorCode): number {
  if (value === undefined) return receivedAt;
  const bad = (message: string) => new HttpError(400, code, message);
  let ms: number;
  if (typeof value === 'string') {
    ms = Date.parse(value);
    if (Number.isNaN(ms)) throw bad(`${field} is not a valid ISO 8601 date-time`);
  } else if (typeof value === 'number' && Number.isSafeInteger(value)) {
    ms = value;
  } else {
    throw bad(`${field} must be whole epoch milliseconds`);
  }
  if (Object.is(ms, -0)) throw bad(`${field} must be whole epoch milliseconds ≥ 0, got -0`);
  const iso = new Date(ms).toISOString();
  if (ms < EARLIEST_CLIENT_TIME) {
    const unit = typeof value === 'number' ? ' (epoch milliseconds, not seconds)' : '';
    throw bad(`${field} is ${iso}, before 2000-01-01T00:00:00Z${unit}`);
  }
  if (ms > receivedAt + MAX_CLIENT_TIME_AHEAD_MS) {
    throw bad(
      `${field} is ${iso}, more than 1 day after the server's time (${new Date(receivedAt).toISOString()})`,
    );
  }
  return ms;
}
