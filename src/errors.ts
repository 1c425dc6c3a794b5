/**
 * Every error a user can see carries a stable code, a message that names the thing at fault
 * (file, row, column, field) and a hint saying what to do. Codes are listed in docs/errors.md.
 * Core modules throw these for bad user input; they throw plain RangeError/TypeError for programmer errors.
 * The code must be one of ERROR_CODES (src/error-codes.ts).
 */
import type { ErrorCode } from './error-codes.js';

export type { ErrorCode } from './error-codes.js';

export class ChurnwatchError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChurnwatchError';
    this.code = code;
    this.hint = options.hint;
  }
}

export function isChurnwatchError(error: unknown): error is ChurnwatchError {
  return error instanceof ChurnwatchError;
}
