import { isChurnwatchError } from '../errors.js';

/** Formats any thrown value for a terminal: code, message and hint for our errors, the message otherwise. */
export function formatError(error: unknown): string {
  if (isChurnwatchError(error)) {
    const hint = error.hint ? `\n  hint: ${error.hint}` : '';
    return `error ${error.code}: ${error.message}${hint}`;
  }
  if (error instanceof Error) return `error: ${error.message}`;
  return `error: ${String(error)}`;
}
