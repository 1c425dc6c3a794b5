import type { TestContext } from 'node:test';
import { PUSHGATEWAY, requireBinary, startProcess, waitForHttp } from './external-binary.js';
import { freePort } from './free-port.js';

export interface RunningPushgateway {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts Debian's Pushgateway on a free port; undefined when skipped (never under CI). */
export async function startPushgateway(t: TestContext): Promise<RunningPushgateway | undefined> {
  const binary = requireBinary(t, PUSHGATEWAY);
  if (!binary) return undefined;
  const port = await freePort();
  // Debian's build persists to /var/lib/prometheus/pushgateway.data by default, which would share (and
  // reload) pushes between test runs; an empty value keeps each gateway in memory only.
  const proc = startProcess(binary, [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file=']);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/-/ready`, 15000, proc.output);
  return { url, stop: proc.stop };
}
