import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

/**
 * A progress bar on stderr for long work. On a terminal it redraws in place; elsewhere (CI, pipes) it
 * prints a plain line at most every `intervalMs`, so logs stay readable. `--quiet` passes enabled=false.
 */
export function createProgress(
  label: string,
  total: number,
  options: { enabled?: boolean; unit?: string } = {},
): Progress {
  const enabled = options.enabled ?? true;
  const unit = options.unit ?? 'rows';
  if (!enabled) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    const started = Date.now();
    bar.start(total, 0, { rate: 0 });
    return {
      update(done, payload) {
        const seconds = (Date.now() - started) / 1000;
        bar.update(done, { rate: seconds > 0 ? Math.round(done / seconds) : 0, ...payload });
      },
      stop() {
        bar.stop();
      },
    };
  }
  const intervalMs = 5000;
  let last = 0;
  const started = Date.now();
  return {
    update(done) {
      const now = Date.now();
      if (now - last < intervalMs) return;
      last = now;
      const pct = total > 0 ? ((100 * done) / total).toFixed(1) : '?';
      const rate = Math.round(done / Math.max(1e-3, (now - started) / 1000));
      process.stderr.write(`${label}: ${done}/${total} ${unit} (${pct}%, ${rate}/s)\n`);
    },
    stop() {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stderr.write(`${label}: done in ${seconds}s\n`);
    },
  };
}
