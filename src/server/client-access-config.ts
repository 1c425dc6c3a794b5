/**
 * Who may call the client routes (/predict, /feedback, /log) and how often: Bearer tokens from
 * `CHURNWATCH_API_TOKENS` and/or a tokens file, and a per-client rate limit. Both off by default (the
 * demo and tests need neither). A block of its own, spread into ServeConfig (config.ts). Tokens are
 * never read from a flag: a command line is visible to every user of the machine (`ps`).
 */
import { readFileSync } from 'node:fs';
import type { OptionReader } from '../config/option-values.js';

/** At most `max` requests per `windowMs` for each client. */
export interface RateLimit {
  readonly max: number;
  readonly windowMs: number;
}

export interface ClientAccessConfig {
  /** Bearer tokens any of which the client routes accept; empty: no authentication. */
  readonly apiTokens: readonly string[];
  /** Per client (token when authenticated, else IP); undefined: no limit. */
  readonly rateLimit: RateLimit | undefined;
}

export const DEFAULT_CLIENT_ACCESS: ClientAccessConfig = Object.freeze({
  apiTokens: Object.freeze([]),
  rateLimit: undefined,
});

export const CLIENT_ACCESS_ENV_NAMES: Readonly<Record<keyof ClientAccessConfig, string>> = Object.freeze({
  apiTokens: 'CHURNWATCH_API_TOKENS',
  rateLimit: 'CHURNWATCH_RATE_LIMIT',
});

/** The tokens file's variable (the flag is --api-tokens-file). */
export const API_TOKENS_FILE_ENV = 'CHURNWATCH_API_TOKENS_FILE';

/** Flags of this block as commander hands them over (no flag for the tokens themselves). */
export interface ClientAccessFlags {
  readonly apiTokensFile?: string | undefined;
  readonly rateLimit?: string | undefined;
}

/** A guessable token is no protection; 16 characters is the floor (`openssl rand -hex 32` gives 64). */
export const MIN_TOKEN_LENGTH = 16;
/** RFC 6750's token68: what a client can send after `Bearer ` unquoted. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Tokens from one source, separated by commas or newlines (a file: one a line, `#` lines are
 * comments). A bad one is refused naming its source and position, never showing it.
 */
export function parseTokens(text: string, source: string, opt: OptionReader): string[] {
  const tokens: string[] = [];
  const entries = text.split(/[,\n]/).map((entry) => entry.trim());
  entries.forEach((token, i) => {
    if (token === '' || token.startsWith('#')) return;
    const where = `${source}, entry ${i + 1}`;
    if (!TOKEN68.test(token))
      throw opt.error(
        `${where}: a token may hold only letters, digits and - . _ ~ + / (then = padding)`,
        'generate one with `openssl rand -hex 32`',
      );
    if (token.length < MIN_TOKEN_LENGTH)
      throw opt.error(
        `${where}: a token must be at least ${MIN_TOKEN_LENGTH} characters, got ${token.length}`,
        'generate one with `openssl rand -hex 32`',
      );
    tokens.push(token);
  });
  return tokens;
}

function readTokensFile(path: string, name: string, opt: OptionReader): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw opt.error(`${name} ${path} cannot be read: ${(error as Error).message}`);
  }
  return parseSomeTokens(text, `${name} ${path}`, opt);
}

/** Tokens set but none found would silently leave the API open: refused. */
function parseSomeTokens(text: string, source: string, opt: OptionReader): string[] {
  const tokens = parseTokens(text, source, opt);
  if (tokens.length === 0)
    throw opt.error(`${source} holds no token`, 'one token a line, or comma-separated');
  return tokens;
}

const UNIT_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** `100/s`, `6000/min`, `500/10s`, `1000/h`: requests per window (1 s to 1 h). */
export function parseRateLimit(raw: string): RateLimit | undefined {
  const match = /^\s*(\d+)\s*\/\s*(\d+(?:\.\d+)?)?\s*(s|m|min|h)\s*$/.exec(raw);
  if (!match) return undefined;
  const max = Number(match[1]);
  const windowMs = Math.round(Number(match[2] ?? '1') * UNIT_MS[match[3]!]!);
  if (!Number.isSafeInteger(max) || max < 1 || windowMs < 1000 || windowMs > 3_600_000) return undefined;
  return { max, windowMs };
}

export function resolveClientAccess(
  flags: ClientAccessFlags,
  env: NodeJS.ProcessEnv,
  opt: OptionReader,
): ClientAccessConfig {
  const envTokens = env[CLIENT_ACCESS_ENV_NAMES.apiTokens];
  const file = opt.string('apiTokensFile', API_TOKENS_FILE_ENV);
  const fileName = flags.apiTokensFile ? '--api-tokens-file' : API_TOKENS_FILE_ENV;
  const apiTokens = [
    ...(envTokens ? parseSomeTokens(envTokens, CLIENT_ACCESS_ENV_NAMES.apiTokens, opt) : []),
    ...(file ? readTokensFile(file, fileName, opt) : []),
  ];
  const rateRaw = opt.string('rateLimit', CLIENT_ACCESS_ENV_NAMES.rateLimit);
  const rateLimit = rateRaw === undefined ? undefined : parseRateLimit(rateRaw);
  if (rateRaw !== undefined && rateLimit === undefined) {
    const name = flags.rateLimit ? '--rate-limit' : CLIENT_ACCESS_ENV_NAMES.rateLimit;
    throw opt.error(
      `${name} must be requests per window such as 100/s, 6000/min or 500/10s (window 1s to 1h), got "${rateRaw}"`,
    );
  }
  return Object.freeze({ apiTokens: Object.freeze([...new Set(apiTokens)]), rateLimit });
}
