import cliProgress from 'cli-progress';

export interface Progress {
  /** `done` units so far; `detail` (plain words, e.g. `scenario: stable, 0 errors`) is shown after the rate. */
  update(done: number, detail?: string): void;
  /** The work succeeded: says `done in …`. */
  stop(): void;
  /** The work failed or was abandoned: ends the display without claiming it is done. */
  fail(): void;
}

export interface ProgressOptions {
  /** `--quiet` passes false: nothing is printed. */
  readonly enabled?: boolean;
  /** What is counted: rows (default), bytes, trees, sent… */
  readonly unit?: string;
}

const PLAIN_LINE_INTERVAL_MS = 5000;

/** `1381` → `1,381`. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A total worth showing: a positive finite number; anything else (0 while streaming, NaN) is unknown. */
function knownTotal(total: number | undefined): number | undefined {
  return total !== undefined && Number.isFinite(total) && total > 0 ? total : undefined;
}

/**
 * One progress line: `split: 100,000 rows (154,799/s)` when the total is unknown (never a `/0`),
 * `generate: 50,000/200,000 rows (25.0%, 11,988/s)` when it is known, then `, <detail>`.
 */
export function progressLine(
  label: string,
  done: number,
  total: number | undefined,
  unit: string,
  perSecond: number,
  detail?: string,
): string {
  const of = knownTotal(total);
  const count = of === undefined ? formatCount(done) : `${formatCount(done)}/${formatCount(of)}`;
  const pct = of === undefined ? '' : `${((100 * done) / of).toFixed(1)}%, `;
  return `${label}: ${count} ${unit} (${pct}${formatCount(perSecond)}/s${detail ? `, ${detail}` : ''})`;
}

/** The last line: `split: done in 1.0s`, with the count when there is one. */
export function doneLine(label: string, done: number | undefined, unit: string, seconds: number): string {
  return `${label}: done in ${seconds.toFixed(1)}s${done === undefined ? '' : ` (${formatCount(done)} ${unit})`}`;
}

/**
 * Progress of long work on stderr, the only progress display of the CLI. On a terminal the line
 * redraws in place (with a bar when the total is known); elsewhere (CI, pipes) a plain line is printed
 * at most every 5 s, so logs stay readable. The rate is units per second since the start.
 */
export function createProgress(
  label: string,
  total: number | undefined,
  options: ProgressOptions = {},
): Progress {
  if (options.enabled === false) return { update() {}, stop() {}, fail() {} };
  const unit = options.unit ?? 'rows';
  const of = knownTotal(total);
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  const rate = (done: number) => done / Math.max(1e-3, seconds());
  let last: number | undefined;
  const finalLine = () => doneLine(label, last, unit, seconds());
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        hideCursor: true,
        format: (opts, params, payload: { detail?: string }) => {
          const text = progressLine(label, params.value, of, unit, rate(params.value), payload.detail);
          if (of === undefined) return text;
          const width = opts.barsize ?? 20;
          const filled = Math.round(Math.min(1, params.progress) * width);
          return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${text}`;
        },
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(of ?? 0, 0, { detail: '' });
    return {
      update(done, detail) {
        last = done;
        bar.update(done, { detail });
      },
      stop() {
        bar.stop();
        process.stderr.write(`${finalLine()}\n`);
      },
      fail() {
        bar.stop();
      },
    };
  }
  let printed = 0;
  return {
    update(done, detail) {
      last = done;
      const now = Date.now();
      if (now - printed < PLAIN_LINE_INTERVAL_MS) return;
      printed = now;
      process.stderr.write(`${progressLine(label, done, of, unit, rate(done), detail)}\n`);
    },
    stop() {
      process.stderr.write(`${finalLine()}\n`);
    },
    fail() {},
  };
}

/** Runs `work` under `progress`: `done` is said only when it succeeds. */
export async function withProgress<T>(progress: Progress, work: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    progress.fail();
    throw error;
  }
  progress.stop();
  return result;
}
