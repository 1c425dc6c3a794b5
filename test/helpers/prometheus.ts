import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { PROMETHEUS, requireBinary, startProcess, waitForHttp } from './external-binary.js';
import { freePort } from './free-port.js';

/** One series of an instant-vector answer. */
export interface PromSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly state: 'pending' | 'firing' | 'inactive';
  readonly value: string;
  /** When the alert's condition started to hold (RFC 3339), as Prometheus reports it. */
  readonly activeAt?: string;
}

export interface PromTarget {
  readonly job: string;
  readonly instance: string;
  readonly health: string;
  readonly lastError: string;
}

export interface RunningPrometheus {
  readonly url: string;
  readonly port: number;
  /** Runs an instant query; rejects with Prometheus's error text on a bad expression. */
  query(expr: string): Promise<PromSample[]>;
  alerts(): Promise<PromAlert[]>;
  targets(): Promise<PromTarget[]>;
  /** Rules whose last evaluation failed, as `group/rule: error`. */
  ruleErrors(): Promise<string[]>;
  /** Each rule group's last evaluation time, ms since the epoch by Prometheus's clock (0: not yet run). */
  ruleEvaluations(): Promise<Record<string, number>>;
  /** Targets, rule errors and the tail of Prometheus's own log, for failure messages. */
  diagnostics(): Promise<string>;
  stop(): Promise<void>;
}

export interface StartPrometheusOptions {
  /**
   * Builds prometheus.yml once the port is known (the self-scrape job must point at it). Files in
   * `files` are written beside it first (paths relative to the config, e.g. `rules/x.yml`).
   */
  readonly config: (port: number) => string;
  readonly files?: Readonly<Record<string, string>>;
}

interface ApiAnswer<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
  errorType?: string;
}

async function api<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`);
  const body = (await res.json()) as ApiAnswer<T>;
  if (body.status !== 'success')
    throw new Error(`${path}: ${body.errorType ?? ''} ${body.error ?? res.status}`);
  return body.data;
}

/**
 * Starts Debian's Prometheus on a free port of 127.0.0.1 with the given configuration and a fresh TSDB in
 * a temporary directory; undefined when the binary is missing outside CI (requireBinary fails under CI).
 */
export async function startPrometheus(
  t: TestContext,
  options: StartPrometheusOptions,
): Promise<RunningPrometheus | undefined> {
  const binary = requireBinary(t, PROMETHEUS);
  if (!binary) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'churnwatch-prometheus-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  for (const [path, content] of Object.entries(options.files ?? {})) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, options.config(port));
  const proc = startProcess(binary, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  const stop = async () => {
    await proc.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(`${url}/-/ready`, 20000, proc.output);
  } catch (error) {
    await stop();
    throw error;
  }

  const query = async (expr: string): Promise<PromSample[]> => {
    const data = await api<{ resultType: string; result: unknown }>(
      url,
      `/api/v1/query?query=${encodeURIComponent(expr)}`,
    );
    if (data.resultType === 'scalar') {
      const [, v] = data.result as [number, string];
      return [{ metric: {}, value: Number(v) }];
    }
    if (data.resultType !== 'vector') throw new Error(`${expr}: unexpected result type ${data.resultType}`);
    return (data.result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({
      metric: s.metric,
      value: Number(s.value[1]),
    }));
  };
  const alerts = async () => (await api<{ alerts: PromAlert[] }>(url, '/api/v1/alerts')).alerts;
  const targets = async (): Promise<PromTarget[]> => {
    const data = await api<{
      activeTargets: {
        labels: Record<string, string>;
        scrapePool: string;
        health: string;
        lastError: string;
      }[];
    }>(url, '/api/v1/targets');
    return data.activeTargets.map((a) => ({
      job: a.labels.job ?? a.scrapePool,
      instance: a.labels.instance ?? '',
      health: a.health,
      lastError: a.lastError,
    }));
  };
  const ruleErrors = async (): Promise<string[]> => {
    const data = await api<{
      groups: { name: string; rules: { name: string; health: string; lastError?: string }[] }[];
    }>(url, '/api/v1/rules');
    const out: string[] = [];
    for (const g of data.groups) {
      for (const r of g.rules) if (r.health === 'err') out.push(`${g.name}/${r.name}: ${r.lastError ?? ''}`);
    }
    return out;
  };
  /** When each rule group last ran, by Prometheus's clock (ms since the epoch; 0 before its first run). */
  const ruleEvaluations = async (): Promise<Record<string, number>> => {
    const data = await api<{ groups: { name: string; lastEvaluation?: string }[] }>(url, '/api/v1/rules');
    return Object.fromEntries(data.groups.map((g) => [g.name, Date.parse(g.lastEvaluation ?? '') || 0]));
  };
  const diagnostics = async (): Promise<string> => {
    const parts: string[] = [];
    try {
      const ts = await targets();
      parts.push(
        `targets:\n${ts.map((x) => `  ${x.job} ${x.instance} ${x.health}${x.lastError ? ` (${x.lastError})` : ''}`).join('\n')}`,
      );
      const errs = await ruleErrors();
      parts.push(`rule errors: ${errs.length === 0 ? 'none' : `\n  ${errs.join('\n  ')}`}`);
    } catch (error) {
      parts.push(`Prometheus API unavailable: ${(error as Error).message}`);
    }
    parts.push(`prometheus log (tail):\n${proc.output().slice(-3000)}`);
    return parts.join('\n');
  };
  return { url, port, query, alerts, targets, ruleErrors, ruleEvaluations, diagnostics, stop };
}

/** Polls `check` every `intervalMs` until it returns true or the deadline passes; returns the last answer. */
export async function pollUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 500,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
