/**
 * The simulators' HTTP client: JSON POSTs with bounded retries. A refused connection, a timeout or a 5xx
 * (503 while the server starts, stops or its queue is full) is retried with exponential backoff; a 4xx is
 * the request's fault and is returned at once. When the retries run out the API counts as dead:
 * ChurnwatchError CW_SIM_API_UNREACHABLE with the last reason.
 */

import { cliCommand } from '../cli-command.js';
import { ChurnwatchError } from '../errors.js';

export interface RetryOptions {
  /** Attempts per request including the first (default 6). */
  readonly attempts: number;
  /** First backoff in ms, doubled after each failure (default 250 → 0.25, 0.5, 1, 2, 4 s). */
  readonly initialDelayMs: number;
  /** Per-attempt timeout in ms (default 10 s). */
  readonly timeoutMs: number;
}

export const DEFAULT_RETRY: RetryOptions = Object.freeze({
  attempts: 6,
  initialDelayMs: 250,
  timeoutMs: 10_000,
});

export interface PostResult {
  readonly status: number;
  readonly body: unknown;
  /** Attempts that failed before this answer. */
  readonly retries: number;
}

/** Resolves after `ms`, or at once (resolving false) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Thrown when a stop was requested while a request waited to be retried. */
export class SimulationStopped extends Error {
  constructor() {
    super('simulation stopped');
    this.name = 'SimulationStopped';
  }
}

function describeFailure(error: unknown): string {
  const e = error as { cause?: { code?: string; message?: string }; message?: string; name?: string };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(error);
}

/**
 * POSTs `body` as JSON to `url` and parses the JSON answer. Returns 2xx and 4xx answers; retries the rest.
 * Throws CW_SIM_API_UNREACHABLE after `attempts` failures, SimulationStopped when `signal` aborts meanwhile.
 */
export function postJson(
  url: string,
  body: unknown,
  options: { retry?: RetryOptions; signal?: AbortSignal } = {},
): Promise<PostResult> {
  return requestJson(url, JSON.stringify(body), options);
}

/** GETs `url` and parses the JSON answer, with postJson's retries and errors. */
export function getJson(
  url: string,
  options: { retry?: RetryOptions; signal?: AbortSignal } = {},
): Promise<PostResult> {
  return requestJson(url, undefined, options);
}

/**
 * The headers of a POST: JSON, and `Authorization: Bearer $CHURNWATCH_API_TOKEN` when that variable is set,
 * for a server that requires client tokens (docs/api.md, "Production").
 */
export function postHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const token = env.CHURNWATCH_API_TOKEN?.trim();
  return token
    ? { 'content-type': 'application/json', authorization: `Bearer ${token}` }
    : { 'content-type': 'application/json' };
}

/** A POST of `payload`, or a GET when it is undefined. */
async function requestJson(
  url: string,
  payload: string | undefined,
  options: { retry?: RetryOptions; signal?: AbortSignal },
): Promise<PostResult> {
  const retry = options.retry ?? DEFAULT_RETRY;
  let delay = retry.initialDelayMs;
  let lastReason = '';
  for (let attempt = 1; attempt <= retry.attempts; attempt++) {
    if (options.signal?.aborted) throw new SimulationStopped();
    try {
      const res = await fetch(url, {
        signal: AbortSignal.timeout(retry.timeoutMs),
        ...(payload === undefined
          ? { method: 'GET' }
          : { method: 'POST', headers: postHeaders(), body: payload }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // Not JSON (a proxy's error page): keep the text for the message.
      }
      if (res.status < 500) return { status: res.status, body: parsed, retries: attempt - 1 };
      const message = (parsed as { message?: string } | undefined)?.message;
      lastReason = `HTTP ${res.status}${message ? `: ${message}` : ''}`;
    } catch (error) {
      lastReason = describeFailure(error);
    }
    if (attempt < retry.attempts) {
      if (!(await sleep(delay, options.signal))) throw new SimulationStopped();
      delay *= 2;
    }
  }
  throw new ChurnwatchError(
    'CW_SIM_API_UNREACHABLE',
    `${url} failed ${retry.attempts} times in a row (last: ${lastReason})`,
    {
      hint: `start the API in another terminal (${cliCommand('serve')}, or \`npm run demo\`) and check --url / CHURNWATCH_URL`,
    },
  );
}
