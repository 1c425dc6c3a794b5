/**
 * Scale-out end to end (issue 19), with real processes: two `churnwatch serve --no-monitor` replicas and
 * one `churnwatch monitor serve` on a fresh PostgreSQL database, and a real Prometheus with the
 * repository's own prometheus.yml (addresses and intervals rewritten) and rules (only the monitor-down
 * alert's `for` shortened, so that it fires within the test).
 *
 * Drifted traffic (the simulator's sudden-drift scenario: MONTANT and REVENUE ×3 for DAKAR customers) is
 * split across the replicas until the feature drift alert is pending for the drifted features, each
 * judged against the calibrated threshold of the model artifact. Then the monitor is killed: the
 * monitor-down alert fires, the monitor's own gauges go stale, and the drifted features stay flagged,
 * with the same alert instances (same activeAt) and the same calibrated thresholds: no fallback to the
 * generic constant.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { loadModel } from '../../src/model/model-io.js';
import { ALERT_DEFINITIONS, DEFAULT_PSI_THRESHOLD } from '../../src/monitor/alert-definitions.js';
import { getScenario } from '../../src/simulate/scenarios.js';
import { openStore } from '../../src/store/open-store.js';
import {
  PROMETHEUS,
  type RunningProcess,
  requireBinary,
  startProcess,
  waitForHttp,
} from '../helpers/external-binary.js';
import { freePort } from '../helpers/free-port.js';
import { freshDatabase } from '../helpers/postgres-database.js';
import { type PromAlert, type RunningPrometheus, startPrometheus } from '../helpers/prometheus.js';
import { repoRoot } from '../helpers/shared-files.js';
import { readRepoPrometheusConfig, rewritePrometheusConfig } from '../helpers/stack-config.js';
import { sendTraffic } from '../helpers/stack-traffic.js';
import { trainSmallModel } from '../helpers/train-small-model.js';
import { waitFor } from '../helpers/wait-for.js';

const INTERVAL = '1s';
const FEATURE_DRIFT = ALERT_DEFINITIONS.featureDrift.name;
const MONITOR_DOWN = ALERT_DEFINITIONS.monitorDown.name;
/** The monitor-down alert's `for` in this test (5m in the shipped rules). */
const MONITOR_DOWN_FOR = '3s';
const DRIFTED_FEATURE = 'MONTANT';
/** Per replica; together above the alert's 500 rows and the 1,000-row calibration window. */
const ROWS_PER_REPLICA = 700;

/** `churnwatch <args>` as a child process (bin/churnwatch.js, which runs the TypeScript sources). */
function churnwatch(args: readonly string[]): RunningProcess {
  return startProcess(process.execPath, [
    join(repoRoot, 'bin', 'churnwatch.js'),
    ...args,
    '--log-level',
    'warn',
  ]);
}

/** The shipped rule files with the monitor-down alert's `for` shortened. */
function shortenMonitorDown(files: Record<string, string>): Record<string, string> {
  const out = { ...files };
  for (const [path, text] of Object.entries(files)) {
    const doc = parse(text) as { groups: { rules: { alert?: string; for?: string }[] }[] };
    const rule = doc.groups.flatMap((g) => g.rules).find((r) => r.alert === MONITOR_DOWN);
    if (!rule) continue;
    rule.for = MONITOR_DOWN_FOR;
    out[path] = stringify(doc, { lineWidth: 0 });
  }
  assert.notDeepEqual(out, files, `no rule file defines ${MONITOR_DOWN}`);
  return out;
}

/** Feature drift alerts pending or firing, by feature. */
async function driftAlerts(prom: RunningPrometheus): Promise<Map<string, PromAlert>> {
  const alerts = await prom.alerts();
  return new Map(
    alerts
      .filter((a) => a.labels.alertname === FEATURE_DRIFT && a.state !== 'inactive')
      .map((a) => [a.labels.feature ?? '', a]),
  );
}

/** The recorded PSI threshold of each feature over the alert window. */
async function recordedThresholds(prom: RunningPrometheus): Promise<Map<string, number>> {
  const samples = await prom.query('churnwatch:feature_drift_threshold:1h{method="psi"}');
  return new Map(samples.map((s) => [s.metric.feature ?? '', s.value]));
}

test('scale-out: two replicas and a monitor role on PostgreSQL; drift stays flagged when the monitor dies', {
  timeout: 180_000,
}, async (t) => {
  if (!requireBinary(t, PROMETHEUS)) return;
  const db = await freshDatabase(t, 'cw_scaleout');
  if (!db) return;
  const started: RunningProcess[] = [];
  let prometheus: RunningPrometheus | undefined;
  try {
    const modelDir = join(await trainSmallModel(), 'latest');
    const model = await loadModel(modelDir);
    const calibrated = model.profile.thresholds;
    assert.ok(calibrated, 'the small model should carry calibrated drift thresholds');
    const calibratedPsi = (feature: string) => calibrated.byFeature[feature]?.psi;
    const calibratedRows = calibrated.windowSize;

    // The store's tables exist before three processes race to create them.
    const migrate = openStore(db.url);
    await migrate.migrate();
    await migrate.close();

    const [api1, api2, monitorPort] = [await freePort(), await freePort(), await freePort()];
    const common = ['--model', modelDir, '--store', db.url, '--host', '127.0.0.1'];
    const replicas = [api1, api2].map((port) => `http://127.0.0.1:${port}`);
    for (const [i, port] of [api1, api2].entries()) {
      const p = churnwatch(['serve', ...common, '--port', String(port), '--no-monitor']);
      started.push(p);
      await waitForHttp(`${replicas[i]}/readyz`, 30_000, p.output);
    }
    const monitor = churnwatch([
      'monitor',
      'serve',
      ...common,
      '--port',
      String(monitorPort),
      '--poll-ms',
      '250',
    ]);
    started.push(monitor);
    await waitForHttp(`http://127.0.0.1:${monitorPort}/healthz`, 30_000, monitor.output);

    const repo = await readRepoPrometheusConfig();
    prometheus = await startPrometheus(t, {
      files: shortenMonitorDown(repo.files),
      config: (port) =>
        rewritePrometheusConfig(repo.config, {
          api: replicas.map((u) => new URL(u).host),
          monitor: `127.0.0.1:${monitorPort}`,
          prometheus: `127.0.0.1:${port}`,
          interval: INTERVAL,
        }),
    });
    if (!prometheus) return;
    const prom = prometheus;
    try {
      await waitFor(
        async () => {
          const ups = await prom.query('up');
          return ups.length === 4 && ups.every((s) => s.value === 1);
        },
        { what: 'both replicas, the monitor and Prometheus up', timeoutMs: 20_000, intervalMs: 250 },
      );
      assert.deepEqual(await prom.ruleErrors(), [], 'no rule should fail to evaluate');

      // Every replica exports the artifact's calibration, not only the monitor.
      const exported = await prom.query(
        `churnwatch_drift_calibrated_threshold{job="churnwatch-api", feature="${DRIFTED_FEATURE}", method="psi"}`,
      );
      assert.deepEqual(
        exported.map((s) => s.metric.instance).sort(),
        replicas.map((u) => new URL(u).host).sort(),
        'each replica exports the calibrated threshold',
      );
      for (const s of exported) assert.equal(s.value, calibratedPsi(DRIFTED_FEATURE));

      // Counters are born at their first increment: a warm-up creates every series before the measured
      // traffic, so that increase() counts all of it.
      const shift = getScenario('sudden-drift').shiftAt(0);
      const traffic = (rows: number, seed: number, prefix: string) =>
        Promise.all(
          replicas.map((url, i) =>
            sendTraffic(url, {
              rows,
              seed: seed + i,
              idPrefix: `${prefix}${i}`,
              batchSize: 50,
              pauseMs: 100,
              skipLabelEvery: 1,
              shift,
            }),
          ),
        );
      await traffic(50, 300, 'd0');
      await waitFor(
        async () => {
          const [n] = await prom.query('min(count_over_time(churnwatch_feature_values_total[1m]))');
          return (n?.value ?? 0) >= 3;
        },
        { what: 'three scrapes of every warm-up counter', timeoutMs: 15_000, intervalMs: 250 },
      );
      const sent = await traffic(ROWS_PER_REPLICA, 400, 'd1');
      assert.equal(
        sent.reduce((n, r) => n + r.predictions, 0),
        2 * ROWS_PER_REPLICA,
      );

      // Drift flagged across the replicas, with the monitor up.
      await waitFor(async () => (await driftAlerts(prom)).has(DRIFTED_FEATURE), {
        what: `${FEATURE_DRIFT} pending for ${DRIFTED_FEATURE}`,
        timeoutMs: 30_000,
        intervalMs: 250,
      });
      // Below the calibration window's rows the threshold is scaled up; once the window holds all the
      // traffic it is the calibrated one.
      await waitFor(
        async () => {
          const [rows] = await prom.query(`churnwatch:feature_rows:1h{feature="${DRIFTED_FEATURE}"}`);
          return (rows?.value ?? 0) >= calibratedRows;
        },
        { what: `the 1h window to hold ≥ ${calibratedRows} rows`, timeoutMs: 15_000, intervalMs: 250 },
      );
      await new Promise((r) => setTimeout(r, 2500));
      const before = await driftAlerts(prom);
      const thresholdsBefore = await recordedThresholds(prom);
      t.diagnostic(
        `flagged with the monitor up: ${[...before.keys()].map((f) => `${f} (threshold ${thresholdsBefore.get(f)?.toFixed(4)})`).join(', ')}`,
      );
      for (const feature of before.keys()) {
        // The window holds more rows than the calibration window: the threshold is the calibrated one.
        assert.ok(calibratedPsi(feature) !== undefined, `${feature} has a calibrated PSI threshold`);
        assert.ok(
          Math.abs((thresholdsBefore.get(feature) ?? 0) - calibratedPsi(feature)!) < 1e-9,
          `${feature}: recorded threshold ${thresholdsBefore.get(feature)} is the calibrated ${calibratedPsi(feature)}`,
        );
      }
      const [monitorGauges] = await prom.query('count(churnwatch_drift_threshold{job="churnwatch-monitor"})');
      assert.ok((monitorGauges?.value ?? 0) > 0, 'the monitor role exports its gauges before it is killed');
      // Its staleness signal is fresh (it polls every 250 ms here), so ChurnwatchMonitorStale stays quiet.
      const [age] = await prom.query('time() - churnwatch_monitor_last_poll_timestamp_seconds');
      assert.ok(age !== undefined && age.value < 10, `the monitor's last store read is ${age?.value} s old`);

      // The monitor dies.
      monitor.child.kill('SIGKILL');
      await waitFor(
        async () =>
          (await prom.alerts()).some((a) => a.labels.alertname === MONITOR_DOWN && a.state === 'firing'),
        { what: `${MONITOR_DOWN} firing`, timeoutMs: 20_000, intervalMs: 250 },
      );
      // Let the rules run a few more times without the monitor's series (stale since the failed scrape).
      await new Promise((r) => setTimeout(r, 3000));
      assert.deepEqual(
        await prom.query('churnwatch_drift_threshold'),
        [],
        "the monitor's gauges are gone from Prometheus",
      );
      const after = await driftAlerts(prom);
      const thresholdsAfter = await recordedThresholds(prom);
      t.diagnostic(
        `flagged with the monitor down: ${[...after.keys()].map((f) => `${f} (threshold ${thresholdsAfter.get(f)?.toFixed(4)})`).join(', ')}`,
      );
      for (const [feature, alert] of before) {
        const still = after.get(feature);
        assert.ok(still, `${feature} stays flagged after the monitor is killed`);
        assert.equal(still.activeAt, alert.activeAt, `${feature}: the same alert instance, not a new one`);
        const threshold = thresholdsAfter.get(feature);
        assert.ok(
          Math.abs((threshold ?? 0) - calibratedPsi(feature)!) < 1e-9,
          `${feature}: threshold ${threshold} stays the calibrated ${calibratedPsi(feature)}`,
        );
        assert.notEqual(threshold, DEFAULT_PSI_THRESHOLD);
      }
      assert.deepEqual(await prom.ruleErrors(), [], 'no rule fails without the monitor');
    } catch (error) {
      t.diagnostic(`scale-out run failed; Prometheus state:\n${await prom.diagnostics()}`);
      for (const p of started) t.diagnostic(`process output:\n${p.output().slice(-2000)}`);
      throw error;
    }
  } finally {
    await prometheus?.stop();
    for (const p of started) await p.stop();
    await db.drop();
  }
});
