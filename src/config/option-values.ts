/**
 * Option values as every command reads them: a flag, else its `CHURNWATCH_*` variable, else the
 * command's default; numbers, durations, times and choices parsed here and refused with the command's
 * coded error, naming what the user set (`--rows` when the flag was given, `CHURNWATCH_ROWS` when the
 * variable was) and the rule it broke.
 */
import type { ErrorCode } from '../error-codes.js';
import { ChurnwatchError } from '../errors.js';
import { parseDuration as durationMs } from '../monitor/chunks.js';

/** Bounds of a number: `min`/`max` included, `above`/`below` excluded. */
export interface Range {
  readonly min?: number;
  readonly max?: number;
  readonly above?: number;
  readonly below?: number;
}

/** Which error a refusal throws, and what it suggests. */
export interface Refusal {
  readonly code: ErrorCode;
  readonly hint?: string;
}

/** `example` makes the hint `e.g. <name> <example>`, in place of the command's hint. */
export type ParseSpec = Refusal & Range & { readonly example?: string };

/** A decimal number: `12`, `-0.5`, `.5`, `1e3`; not `0x10`, `Infinity`, or an empty string. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function refuse(name: string, rule: string, raw: string, spec: ParseSpec): never {
  const hint = spec.example === undefined ? spec.hint : `e.g. ${name} ${spec.example}`;
  throw new ChurnwatchError(spec.code, `${name} must be ${rule}, got "${raw}"`, hint ? { hint } : {});
}

function describeRange(r: Range, integer: boolean): string {
  const lo = r.min ?? r.above;
  const hi = r.max ?? r.below;
  if (lo !== undefined && hi !== undefined) {
    if (integer && r.min !== undefined && r.max !== undefined) return ` from ${lo} to ${hi}`;
    return ` in ${r.min !== undefined ? '[' : '('}${lo}, ${hi}${r.max !== undefined ? ']' : ')'}`;
  }
  if (lo !== undefined) return ` ${r.min !== undefined ? '≥' : '>'} ${lo}`;
  if (hi !== undefined) return ` ${r.max !== undefined ? '≤' : '<'} ${hi}`;
  return '';
}

function inRange(value: number, r: Range): boolean {
  return (
    (r.min === undefined || value >= r.min) &&
    (r.max === undefined || value <= r.max) &&
    (r.above === undefined || value > r.above) &&
    (r.below === undefined || value < r.below)
  );
}

function parseDecimal(name: string, raw: string, spec: ParseSpec, integer: boolean): number {
  const text = raw.trim();
  const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
  const ok = integer ? Number.isSafeInteger(value) : Number.isFinite(value);
  if (!ok || !inRange(value, spec))
    refuse(name, `${integer ? 'an integer' : 'a number'}${describeRange(spec, integer)}`, raw, spec);
  return value;
}

/** A finite decimal number within `spec`'s range. */
export function parseNumber(name: string, raw: string, spec: ParseSpec): number {
  return parseDecimal(name, raw, spec, false);
}

/** A whole number (a safe integer) within `spec`'s range. */
export function parseInteger(name: string, raw: string, spec: ParseSpec): number {
  return parseDecimal(name, raw, spec, true);
}

/** Zero written as `0`, `0s`, `0.0m`…: a duration the monitor's parser (which wants > 0) refuses. */
const ZERO_DURATION = /^\s*0+(\.0*)?\s*[smhdw]?\s*$/;

/** Milliseconds from `90s`, `30m`, `1h`, `1d`, `2w` (and `0` or `0s` when `allowZero`). */
export function parseDuration(name: string, raw: string, spec: ParseSpec & { allowZero?: boolean }): number {
  const ms = spec.allowZero && ZERO_DURATION.test(raw) ? 0 : durationMs(raw);
  if (ms === undefined)
    refuse(name, 'a duration such as 90s, 30m, 1h or 1d (units s, m, h, d, w)', raw, {
      ...spec,
      example: spec.example ?? '1h',
    });
  return ms;
}

/**
 * A range of durations `min..max` (`30s..10m`, `0s..1s`, `0..1s`; one duration means min = max), in
 * ms; the lower bound may be zero, it may not exceed the upper one.
 */
export function parseDurationRange(
  name: string,
  raw: string,
  spec: ParseSpec,
): { minMs: number; maxMs: number } {
  const parts = raw.split('..');
  const parse = (text: string) => (ZERO_DURATION.test(text) ? 0 : durationMs(text));
  const min = parts.length <= 2 ? parse(parts[0]!) : undefined;
  const max = parts.length === 2 ? parse(parts[1]!) : min;
  if (min === undefined || max === undefined || max < min)
    refuse(name, 'a range min..max of durations with min ≤ max, such as 30s..10m or 0s..1m', raw, {
      ...spec,
      example: spec.example ?? '30s..10m',
    });
  return { minMs: min, maxMs: max };
}

/** Ms since the epoch from an ISO 8601 time or a whole number of ms. */
export function parseTime(name: string, raw: string, spec: ParseSpec): number {
  const value = /^\d+$/.test(raw.trim()) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(value))
    refuse(name, 'an ISO 8601 time or ms since the epoch', raw, {
      ...spec,
      example: spec.example ?? '2026-01-31T00:00:00Z',
    });
  return value;
}

/** One of a fixed list of words, as written (`debug`, not `DEBUG`); the refusal lists them. */
export function parseChoice<T extends string>(
  name: string,
  raw: string,
  spec: ParseSpec & { readonly choices: readonly T[] },
): T {
  const value = raw.trim();
  if (!(spec.choices as readonly string[]).includes(value))
    refuse(name, `one of ${spec.choices.join(', ')}`, raw, spec);
  return value as T;
}

/** `learningRate` → `--learning-rate`. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** A raw value and the name the user gave it by. */
export interface RawOption {
  readonly name: string;
  readonly value: string;
}

/** A variable's name, or several: the canonical one first, then older spellings still read. */
export type EnvNames = string | readonly string[];

/**
 * The flag if given (non-empty), else the first environment variable set (non-empty), else undefined.
 */
export function optionValue(
  flags: object,
  key: string,
  env: NodeJS.ProcessEnv,
  envNames?: EnvNames,
): RawOption | undefined {
  const flag = (flags as Record<string, unknown>)[key];
  if (typeof flag === 'string' && flag !== '') return { name: flagName(key), value: flag };
  for (const name of typeof envNames === 'string' ? [envNames] : (envNames ?? [])) {
    const fromEnv = env[name];
    if (fromEnv !== undefined && fromEnv !== '') return { name, value: fromEnv };
  }
  return undefined;
}

/**
 * One command's options: each reader returns the parsed value of the flag or its variable, or
 * undefined when neither is set (so `?? default` supplies the default).
 */
export function createOptionReader(flags: object, env: NodeJS.ProcessEnv, refusal: Refusal) {
  const read =
    <S extends object>(parse: (name: string, raw: string, spec: ParseSpec & S) => number) =>
    (key: string, envName?: EnvNames, spec?: Range & S & { example?: string }) => {
      const raw = optionValue(flags, key, env, envName);
      return raw === undefined
        ? undefined
        : parse(raw.name, raw.value, { ...refusal, ...spec } as ParseSpec & S);
    };
  return {
    string: (key: string, envName?: EnvNames) => optionValue(flags, key, env, envName)?.value,
    /** A comma-separated list (`--ignore a,b`), entries trimmed, empty ones left out. */
    list: (key: string, envName?: EnvNames) =>
      optionValue(flags, key, env, envName)
        ?.value.split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    number: read(parseNumber),
    integer: read(parseInteger),
    duration: read<{ allowZero?: boolean }>(parseDuration),
    time: read(parseTime),
    choice<T extends string>(key: string, envName: string | undefined, choices: readonly T[]): T | undefined {
      const raw = optionValue(flags, key, env, envName);
      return raw === undefined ? undefined : parseChoice(raw.name, raw.value, { ...refusal, choices });
    },
    durationRange: (key: string, envName?: EnvNames, spec?: { example?: string }) => {
      const raw = optionValue(flags, key, env, envName);
      return raw === undefined ? undefined : parseDurationRange(raw.name, raw.value, { ...refusal, ...spec });
    },
    /** This command's option error, to throw for rules one value's parse cannot check. */
    error(message: string, hint?: string): ChurnwatchError {
      const h = hint ?? refusal.hint;
      return new ChurnwatchError(refusal.code, message, h ? { hint: h } : {});
    },
  };
}

export type OptionReader = ReturnType<typeof createOptionReader>;
