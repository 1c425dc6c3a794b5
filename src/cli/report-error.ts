import { isChurnwatchError } from '../errors.js';

export interface FormatErrorOptions {
  /** `--debug` or `CHURNWATCH_DEBUG=1`: unexpected errors (and the causes of ours) keep their stack. */
  readonly debug?: boolean;
}

/** `--debug` on the command line, or CHURNWATCH_DEBUG set to 1 or true. */
export function debugRequested(flag: unknown, env: NodeJS.ProcessEnv = process.env): boolean {
  return flag === true || env.CHURNWATCH_DEBUG === '1' || env.CHURNWATCH_DEBUG?.toLowerCase() === 'true';
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

/**
 * Formats any thrown value for a terminal: code, message and hint for our errors; for anything else
 * (a bug, or a library's error we did not translate) the message, or with `debug` the whole stack.
 */
export function formatError(error: unknown, options: FormatErrorOptions = {}): string {
  if (isChurnwatchError(error)) {
    const hint = error.hint ? `\n  hint: ${error.hint}` : '';
    const cause =
      options.debug && error.cause !== undefined
        ? `\n  cause: ${stackOf(error.cause).replace(/\n/g, '\n  ')}`
        : '';
    return `error ${error.code}: ${error.message}${hint}${cause}`;
  }
  if (options.debug) return `error: ${stackOf(error)}`;
  const message = error instanceof Error ? error.message : String(error);
  return `error: ${message}\n  (unexpected: run with --debug or CHURNWATCH_DEBUG=1 to see where it came from)`;
}
