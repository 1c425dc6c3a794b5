import cliProgress from 'cli-progress';

export interface Progress {
  /** `done` units so far; `detail` (e.g. `3 errors | stable`) is shown after the rate. */
  update(done: number, detail?: string): void;
  stop(): void;
}

export interface ProgressOptions {
  /** `--quiet` passes false: nothing is printed. */
  readonly enabled?: boolean;
  /** What is counted: rows (default), bytes, trees, sent… */
  readonly unit?: string;
}

const PLAIN_LINE_INTERVAL_MS = 5000;

/**
 * Progress of long work on stderr, the only progress display of the CLI. On a terminal a bar redraws
 * in place (a counter when `total` is unknown); elsewhere (CI, pipes) a plain line is printed at most
 * every 5 s, so logs stay readable. The rate is units per second since the start.
 */
export function createProgress(
  label: string,
  total: number | undefined,
  options: ProgressOptions = {},
): Progress {
  if (options.enabled === false) return { update() {}, stop() {} };
  const unit = options.unit ?? 'rows';
  const started = Date.now();
  const rate = (done: number) => Math.round(done / Math.max(1e-3, (Date.now() - started) / 1000));
  if (process.stderr.isTTY) {
    const format =
      total === undefined
        ? `${label} | {value} ${unit} | {rate}/s{detail}`
        : `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted}{detail}`;
    const bar = new cliProgress.SingleBar(
      { format, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total ?? 0, 0, { rate: 0, detail: '' });
    return {
      update(done, detail) {
        bar.update(done, { rate: rate(done), detail: detail ? ` | ${detail}` : '' });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let last = 0;
  return {
    update(done, detail) {
      const now = Date.now();
      if (now - last < PLAIN_LINE_INTERVAL_MS) return;
      last = now;
      const of = total === undefined ? '' : `/${total}`;
      const pct = total ? `${((100 * done) / total).toFixed(1)}%, ` : '';
      process.stderr.write(
        `${label}: ${done}${of} ${unit} (${pct}${rate(done)}/s${detail ? `, ${detail}` : ''})\n`,
      );
    },
    stop() {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stderr.write(`${label}: done in ${seconds}s\n`);
    },
  };
}
