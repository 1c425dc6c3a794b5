import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  /** What is awaited, for the error: `Prometheus to scrape the warm-up counters`. */
  readonly what: string;
  /** Give up after this long (default 10 s). */
  readonly timeoutMs?: number;
  /** Pause between checks (default 100 ms). */
  readonly intervalMs?: number;
  /** Appended to the timeout error: the state that explains why the condition never held. */
  readonly describe?: () => string | Promise<string>;
}

/**
 * Checks `condition` until it returns a truthy value, which it returns; throws, naming `what`, when the
 * deadline passes first. An error thrown by `condition` ends the wait at once (catch inside the
 * condition what only means "not yet", such as a refused connection while a server starts).
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions,
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (let checks = 1; ; checks++) {
    const value = await condition();
    if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    if (Date.now() >= deadline) {
      const state = options.describe ? `\n${await options.describe()}` : '';
      throw new Error(
        `timed out after ${timeoutMs} ms (${checks} checks) waiting for ${options.what}${state}`,
      );
    }
    await sleep(options.intervalMs ?? 100);
  }
}
