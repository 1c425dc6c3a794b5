/**
 * hey (Debian package `hey`, a Go load generator) at a fixed request rate. Its client costs a fraction
 * of a core at 5,000 req/s where autocannon, a Node process, needs nearly a whole one on this 2-core
 * machine, so the latency it reports is mostly the server's rather than its own event loop's.
 * Like autocannon's rate limit it paces each connection (no correction for coordinated omission), so
 * both are measured against a bare route in the same run.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FixedRateResult {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Responses other than 200. */
  readonly non200: number;
}

/** Runs hey with `args`; its latencies in ms. */
function runHey(args: readonly string[]): FixedRateResult {
  const result = spawnSync('hey', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (result.error || result.status !== 0) {
    throw new Error(`hey failed (apt-get install hey): ${result.error?.message ?? result.stderr}`);
  }
  return parseHeyOutput(result.stdout);
}

/** hey's arguments to POST `body` (written to a file in `dir`) as JSON. */
function postArgs(body: string, dir: string): string[] {
  const bodyFile = join(dir, 'hey-body.json');
  writeFileSync(bodyFile, body);
  return ['-m', 'POST', '-T', 'application/json', '-D', bodyFile];
}

/** POSTs `body` to `url` at `rate` req/s over `connections` connections for `seconds`; latencies in ms. */
export function heyFixedRate(
  url: string,
  body: string,
  rate: number,
  seconds: number,
  dir: string,
  connections = 50,
): FixedRateResult {
  return runHey([
    '-z',
    `${seconds}s`,
    '-c',
    String(connections),
    '-q',
    String(rate / connections),
    ...postArgs(body, dir),
    url,
  ]);
}

/**
 * POSTs `body` to `url` `requests` times over `connections` connections, each sending its next request
 * as soon as it has the answer (one connection: the latency a lone client sees); latencies in ms.
 */
export function heyPostRequests(
  url: string,
  body: string,
  requests: number,
  connections: number,
  dir: string,
): FixedRateResult {
  return runHey(['-n', String(requests), '-c', String(connections), ...postArgs(body, dir), url]);
}

/** GETs `url` `requests` times over `connections` connections, as fast as answers come; latencies in ms. */
export function heyRequests(url: string, requests: number, connections = 1): FixedRateResult {
  return runHey(['-n', String(requests), '-c', String(connections), url]);
}

export function parseHeyOutput(out: string): FixedRateResult {
  const seconds = (p: string) => {
    const m = new RegExp(`^\\s+${p}% in ([\\d.]+) secs`, 'm').exec(out);
    if (!m) throw new Error(`hey printed no ${p}% latency:\n${out}`);
    return Number(m[1]) * 1000;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  let non200 = 0;
  for (const m of out.matchAll(/^\s+\[(\d+)\]\s+(\d+) responses/gm))
    if (m[1] !== '200') non200 += Number(m[2]);
  return { rps, p50: seconds('50'), p99: seconds('99'), non200 };
}
