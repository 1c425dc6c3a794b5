/**
 * The monitoring stack end to end, with the real engines: training pushes to a real Pushgateway, the API
 * serves on a real port, and a real Prometheus scrapes both with the repository's own prometheus.yml and
 * rule files (only addresses and intervals rewritten). Two fresh API + Prometheus pairs: a stable run and
 * a sudden-drift run (MONTANT and REVENUE ×3 for DAKAR customers, the simulator's scenario). Checks that
 * every PromQL expression of the rules and dashboards runs and returns data (or is empty for a stated
 * reason), and that the feature drift alert goes pending for MONTANT in the drift run and not in the stable one.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { pino } from 'pino';
import { runServe } from '../../src/cli/commands/serve.js';
import { runTrain } from '../../src/cli/commands/train.js';
import { writeSyntheticCsv } from '../../src/data/synthetic.js';
import { DEFAULT_GBDT_PARAMS } from '../../src/model/gbdt.js';
import { allPromQLExpressions } from '../../src/provisioning/generated-files.js';
import { alertNames } from '../../src/provisioning/prometheus-rules.js';
import { getScenario } from '../../src/simulate/scenarios.js';
import { PROMETHEUS, requireBinary } from '../helpers/external-binary.js';
import {
  type PromSample,
  pollUntil,
  type RunningPrometheus,
  startPrometheus,
} from '../helpers/prometheus.js';
import { startPushgateway } from '../helpers/pushgateway.js';
import { readRepoPrometheusConfig, rewritePrometheusConfig } from '../helpers/stack-config.js';
import { sendTraffic, type TrafficResult } from '../helpers/stack-traffic.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { waitFor } from '../helpers/wait-for.js';

const FEATURE_DRIFT_ALERT = 'ChurnwatchFeatureDrift';
const DRIFTED_FEATURE = 'MONTANT';
/** The alerts need ≥ 500 rows in their window; the warm-up rows precede the first scrape and do not count. */
const WARMUP_ROWS = 100;
const TRAFFIC_ROWS = 1500;
const INTERVAL_MS = 1000;
const INTERVAL = `${INTERVAL_MS / 1000}s`;
/**
 * The drift thresholds are calibrated on windows drawn without replacement from the validation part, so
 * that part must be several times the window (with 1,000 validation rows and 1,000-row windows every window
 * is the whole part, the spread is zero and the thresholds fall below sampling noise): 12,000 rows give
 * 2,400 validation rows for 500-row windows, the alert's minimum.
 */
const TRAINING_ROWS = 12_000;
const CALIBRATION_WINDOW = 500;

/**
 * Expressions that are empty in a healthy short run, each with the reason. Every other expression must
 * return at least one series. An entry here is also checked: it must really be empty, so an alert
 * condition that holds when it should not (e.g. the API reported down) fails the test.
 */
const EXPECTED_EMPTY: Readonly<Record<string, string>> = {
  'alert ChurnwatchPredictionDrift':
    'only the inputs of DAKAR customers are shifted; whether the score PSI crosses its calibrated threshold depends on the model, so it is not asserted either way (see QUIET_OR_NOT)',
  'alert ChurnwatchRealizedPerformanceLow':
    'the labels come from the same process the model learnt: no performance drop',
  'alert ChurnwatchEstimatedPerformanceLow': 'calibrated scores on training-like data: no estimated drop',
  'alert ChurnwatchLabelsNotArriving': '80 % of predictions get their label and join',
  'alert ChurnwatchFeedbackPendingGrowing':
    'feedback is sent by prediction_id after its prediction: nothing stays pending',
  'alert ChurnwatchMissingValueSpike': 'the scenario shifts values, not missingness',
  'alert ChurnwatchHighErrorRatio':
    'no request fails (the error ratio itself must be 0, checked by its recording rule)',
  'alert ChurnwatchHighLatency':
    "a local API answers well under 0.5 s (/metrics is left out of this alert: its latency is the scrape's)",
  'alert ChurnwatchApiDown': 'the API is up (up == 1)',
  'alert ChurnwatchMonitorDown':
    'the API monitors in-process (churnwatch_monitor_in_process 1), so no monitor role is expected (test/e2e/scale-out.test.ts runs one)',
  'alert ChurnwatchMonitorStale': 'no `churnwatch monitor serve` runs here, so no last-poll timestamp exists',
  'alert ChurnwatchRetentionBehind':
    'the stack keeps every prediction (no --retention, so no retention gauge)',
  'alert ChurnwatchPushgatewayDown': 'the Pushgateway is up (up == 1)',
  'alert ChurnwatchTrainingMetricsStale': 'the model was trained seconds ago',
  'dashboard churnwatch-model.json panel "Out of range" target A':
    'the default $feature is REGION, a categorical feature: it has no range, hence no below/above bins (the MONTANT variant must answer)',
  'dashboard churnwatch-model.json panel "Unseen categories" target A [feature=MONTANT]':
    'MONTANT is numeric: it has no categories, hence no unseen bin (the REGION variant must answer)',
  'dashboard churnwatch-model.json panel "Firing alerts" target A':
    'every alert waits `for` ≥ 1m before firing and the run is shorter; pending alerts are checked separately',
};

/** Alert expressions whose outcome the scenario does not pin down: they must run, empty or not. */
const QUIET_OR_NOT = new Set(['alert ChurnwatchPredictionDrift']);

interface Stack {
  readonly prometheus: RunningPrometheus;
  readonly apiUrl: string;
  readonly traffic: TrafficResult;
}

interface StackOptions {
  readonly dir: string;
  readonly name: string;
  readonly modelDir: string;
  readonly pushgatewayUrl: string;
  readonly seed: number;
  readonly idPrefix: string;
  readonly shift?: ReturnType<ReturnType<typeof getScenario>['shiftAt']>;
}

const hostPort = (url: string) => new URL(url).host;

/**
 * Starts a fresh API (own SQLite store) and a fresh Prometheus with the repo's configuration, sends the
 * run's traffic, runs `check`, and stops both whatever happens, with diagnostics on failure.
 */
async function withStack(
  t: TestContext,
  o: StackOptions,
  check: (stack: Stack) => Promise<void>,
): Promise<void> {
  const server = await runServe({
    port: '0',
    host: '127.0.0.1',
    modelPath: o.modelDir,
    storeUrl: `sqlite:${join(o.dir, `${o.name}.db`)}`,
    joinIntervalMs: '500',
    env: {},
    logger: pino({ level: 'warn' }),
  });
  let prometheus: RunningPrometheus | undefined;
  try {
    const repo = await readRepoPrometheusConfig();
    prometheus = await startPrometheus(t, {
      files: repo.files,
      config: (port) =>
        rewritePrometheusConfig(repo.config, {
          api: hostPort(server.url),
          pushgateway: hostPort(o.pushgatewayUrl),
          prometheus: `127.0.0.1:${port}`,
          interval: INTERVAL,
        }),
    });
    if (!prometheus) return;
    const prom = prometheus;
    try {
      const up = await pollUntil(async () => {
        const ups = await prom.query('up');
        return ups.length === 3 && ups.every((s) => s.value === 1);
      }, 20000);
      assert.ok(up, 'every scrape target (api, pushgateway, prometheus) should be up');
      assert.deepEqual(await prom.ruleErrors(), [], 'no rule should fail to evaluate');

      // Counters are born on their first increment; traffic sent before Prometheus has seen them is lost to
      // increase(). A small warm-up creates the series, then the measured traffic follows over several scrapes.
      await sendTraffic(server.url, {
        rows: WARMUP_ROWS,
        seed: o.seed + 1,
        idPrefix: `${o.idPrefix}0`,
        batchSize: 50,
        pauseMs: 0,
        skipLabelEvery: 5,
        ...(o.shift ? { shift: o.shift } : {}),
      });
      const seen = await pollUntil(
        async () =>
          (
            await prom.query(
              'count(churnwatch_feature_values_total) > 0 and count(churnwatch_realized_confusion_total) > 0',
            )
          ).length > 0,
        15000,
      );
      assert.ok(seen, 'Prometheus should scrape the prediction counters after the warm-up');
      // The measured traffic must increase() from a warm-up baseline every series has been scraped at.
      await waitFor(
        async () => {
          const [features] = await prom.query('min(count_over_time(churnwatch_feature_values_total[1m]))');
          const [labels] = await prom.query('min(count_over_time(churnwatch_realized_confusion_total[1m]))');
          return (features?.value ?? 0) >= 3 && (labels?.value ?? 0) >= 3;
        },
        { what: 'three scrapes of every warm-up counter', timeoutMs: 15_000, intervalMs: 250 },
      );
      const traffic = await sendTraffic(server.url, {
        rows: TRAFFIC_ROWS,
        seed: o.seed,
        idPrefix: o.idPrefix,
        batchSize: 100,
        pauseMs: 250,
        skipLabelEvery: 5,
        ...(o.shift ? { shift: o.shift } : {}),
      });
      assert.equal(traffic.predictions, TRAFFIC_ROWS);
      assert.equal(traffic.joined, traffic.feedback, 'every label sent after its prediction should join');

      // Wait until the alert window has its rows and a few more evaluations ran (recording rules feed alerts
      // one evaluation later).
      const enough = await pollUntil(async () => {
        const rows = await prom.query(`churnwatch:feature_rows:1h{feature="${DRIFTED_FEATURE}"}`);
        return rows.some((s) => s.value >= 500);
      }, 30000);
      assert.ok(enough, `churnwatch:feature_rows:1h{feature="${DRIFTED_FEATURE}"} should reach 500`);
      await rulesEvaluatedAgain(prom, 4);
      t.diagnostic(`${o.name} run: GET /metrics took ${await timeMetrics(server.url)} ms (3 tries)`);
      await check({ prometheus: prom, apiUrl: server.url, traffic });
    } catch (error) {
      t.diagnostic(`${o.name} run failed; Prometheus state:\n${await prom.diagnostics()}`);
      throw error;
    }
  } finally {
    await prometheus?.stop();
    await server.close();
  }
}

/** Waits until every rule group has run `times` more times (recording rules feed alerts one run later). */
async function rulesEvaluatedAgain(prom: RunningPrometheus, times: number): Promise<void> {
  const before = await prom.ruleEvaluations();
  await waitFor(
    async () => {
      const now = await prom.ruleEvaluations();
      return Object.entries(before).every(
        ([group, at]) => (now[group] ?? 0) >= at + (times - 0.5) * INTERVAL_MS,
      );
    },
    {
      what: `${times} more evaluations of every rule group`,
      timeoutMs: 10_000 + times * INTERVAL_MS,
      intervalMs: 250,
    },
  );
}

/**
 * A diagnostic, not an assertion: three GET /metrics back to back. Prometheus scrapes every second as
 * well, so a try may reuse the monitor analysis a scrape just made, as a scrape itself may.
 */
async function timeMetrics(apiUrl: string): Promise<string> {
  const out: string[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await (await fetch(`${apiUrl}/metrics`)).text();
    out.push((performance.now() - t0).toFixed(0));
  }
  return out.join(', ');
}

function describeSamples(samples: readonly PromSample[]): string {
  return samples
    .slice(0, 5)
    .map((s) => `${JSON.stringify(s.metric)} ${s.value}`)
    .join('; ');
}

test('monitoring stack: training push, API and Prometheus with the repository rules', {
  timeout: 240_000,
}, async (t) => {
  if (!requireBinary(t, PROMETHEUS)) return;
  const pushgateway = await startPushgateway(t);
  if (!pushgateway) return;
  try {
    await withTempDir(async (dir) => {
      const data = join(dir, 'train.csv');
      await writeSyntheticCsv(data, { rows: TRAINING_ROWS, seed: 11 });
      const trained = await runTrain({
        data,
        modelsDir: join(dir, 'models'),
        pushgatewayUrl: pushgateway.url,
        requirePush: true,
        params: { ...DEFAULT_GBDT_PARAMS, trees: 60, threads: 1 },
        validationShare: 0.2,
        windowSize: CALIBRATION_WINDOW,
        quiet: true,
        logger: pino({ level: 'warn' }),
      });
      assert.equal(trained.push?.ok, true, `the training push should succeed: ${trained.push?.error ?? ''}`);
      assert.ok(trained.driftThresholds, 'the model should carry calibrated drift thresholds');
      const pushed = await (await fetch(`${pushgateway.url}/metrics`)).text();
      assert.ok(
        pushed.includes(
          `churnwatch_training_class_rows{class="1",instance="",job="churnwatch_training",model_version="${trained.version}"}`,
        ),
        `the Pushgateway should hold the training class balance of model ${trained.version}`,
      );

      await t.test('stable run: every expression answers, no drift alert on MONTANT', async (st) => {
        await withStack(
          st,
          {
            dir,
            name: 'stable',
            modelDir: trained.dir,
            pushgatewayUrl: pushgateway.url,
            seed: 101,
            idPrefix: 'a1',
          },
          async ({ prometheus }) => {
            const { psi, threshold } = await montantPsi(prometheus);
            st.diagnostic(
              `stable run: ${DRIFTED_FEATURE} PSI ${psi.toFixed(4)}, threshold ${threshold.toFixed(4)}`,
            );
            assert.ok(
              psi < threshold,
              `${DRIFTED_FEATURE} PSI ${psi} should stay below its threshold ${threshold}`,
            );
            const alerts = await prometheus.alerts();
            const drift = alerts.filter((a) => a.labels.alertname === FEATURE_DRIFT_ALERT);
            st.diagnostic(
              `feature drift alerts in the stable run: ${drift.map((a) => `${a.labels.feature}:${a.state}`).join(', ') || 'none'}`,
            );
            assert.equal(
              drift.some((a) => a.labels.feature === DRIFTED_FEATURE),
              false,
              `no ${FEATURE_DRIFT_ALERT} for ${DRIFTED_FEATURE} in the stable run`,
            );
            await checkEveryExpression(st, prometheus, 'stable');
          },
        );
      });

      await t.test(
        'drift run: every expression answers, MONTANT drift alert pending or firing',
        async (st) => {
          await withStack(
            st,
            {
              dir,
              name: 'drift',
              modelDir: trained.dir,
              pushgatewayUrl: pushgateway.url,
              seed: 202,
              idPrefix: 'b2',
              shift: getScenario('sudden-drift').shiftAt(0),
            },
            async ({ prometheus }) => {
              const raised = await pollUntil(async () => {
                const alerts = await prometheus.alerts();
                return alerts.some(
                  (a) =>
                    a.labels.alertname === FEATURE_DRIFT_ALERT &&
                    a.labels.feature === DRIFTED_FEATURE &&
                    (a.state === 'pending' || a.state === 'firing'),
                );
              }, 15000);
              const { psi, threshold } = await montantPsi(prometheus);
              st.diagnostic(
                `drift run: ${DRIFTED_FEATURE} PSI ${psi.toFixed(4)}, threshold ${threshold.toFixed(4)}`,
              );
              const alerts = await prometheus.alerts();
              st.diagnostic(
                `alerts in the drift run: ${alerts.map((a) => `${a.labels.alertname}${a.labels.feature ? `/${a.labels.feature}` : ''}:${a.state}`).join(', ') || 'none'}`,
              );
              assert.ok(
                psi > threshold,
                `${DRIFTED_FEATURE} PSI ${psi} should exceed its threshold ${threshold}`,
              );
              assert.ok(raised, `${FEATURE_DRIFT_ALERT} should be pending or firing for ${DRIFTED_FEATURE}`);
              await checkEveryExpression(st, prometheus, 'drift');
            },
          );
        },
      );
    });
  } finally {
    await pushgateway.stop();
  }
});

/**
 * The dashboards' $feature defaults to a categorical feature (REGION); a panel that only makes sense for
 * numeric features would then never be exercised. Each panel query filtered on REGION is also run for
 * MONTANT, as `<source> [feature=MONTANT]`.
 */
function withNumericFeatureVariants(
  list: { source: string; expr: string }[],
): { source: string; expr: string }[] {
  const out = [...list];
  for (const { source, expr } of list) {
    if (!source.startsWith('dashboard ') || !/feature=~?"REGION"/.test(expr)) continue;
    out.push({
      source: `${source} [feature=${DRIFTED_FEATURE}]`,
      expr: expr.replace(/(feature=~?)"REGION"/g, `$1"${DRIFTED_FEATURE}"`),
    });
  }
  return out;
}

/** MONTANT's 1h PSI and its threshold, as Prometheus's recording rules compute them. */
async function montantPsi(prom: RunningPrometheus): Promise<{ psi: number; threshold: number }> {
  const one = async (expr: string) => {
    const got = await prom.query(expr);
    assert.equal(got.length, 1, `${expr} should give one series, got ${describeSamples(got)}`);
    return got[0]?.value ?? Number.NaN;
  };
  const sel = `{method="psi", feature="${DRIFTED_FEATURE}"}`;
  return {
    psi: await one(`churnwatch:feature_drift_score:1h${sel}`),
    threshold: await one(`churnwatch:feature_drift_threshold:1h${sel}`),
  };
}

/**
 * Runs every rule and panel expression. Empty answers are re-queried for a few seconds (a recording rule
 * that feeds another shows up one evaluation later) before they count as failures.
 */
async function checkEveryExpression(
  t: TestContext,
  prom: RunningPrometheus,
  run: 'stable' | 'drift',
): Promise<void> {
  const expressions = withNumericFeatureVariants(allPromQLExpressions());
  assert.ok(expressions.length > 50, 'the stack should have its rules and panels');
  for (const name of alertNames()) {
    assert.ok(
      expressions.some((e) => e.source === `alert ${name}`),
      `alert ${name} should be among the expressions`,
    );
  }
  const answers = new Map<string, PromSample[]>();
  const errors: string[] = [];
  const runAll = async (only?: (source: string) => boolean) => {
    for (const { source, expr } of expressions) {
      if (only && !only(source)) continue;
      try {
        answers.set(source, await prom.query(expr));
      } catch (error) {
        errors.push(`${source}: ${(error as Error).message}`);
      }
    }
  };
  const isWrong = (source: string): boolean => {
    const got = answers.get(source) ?? [];
    if (QUIET_OR_NOT.has(source)) return false;
    if (source === `alert ${FEATURE_DRIFT_ALERT}`) return run === 'drift' ? got.length === 0 : false;
    if (source in EXPECTED_EMPTY) return got.length > 0;
    return got.length === 0;
  };
  await runAll();
  assert.deepEqual(errors, [], 'every expression should be valid PromQL that Prometheus runs');
  await pollUntil(
    async () => {
      const wrong = expressions.filter((e) => isWrong(e.source)).map((e) => e.source);
      if (wrong.length === 0) return true;
      await runAll((s) => wrong.includes(s));
      return false;
    },
    8000,
    1000,
  );

  const problems: string[] = [];
  for (const { source, expr } of expressions) {
    if (!isWrong(source)) continue;
    const got = answers.get(source) ?? [];
    problems.push(
      got.length === 0
        ? `EMPTY  ${source}\n         ${expr.replace(/\s+/g, ' ')}`
        : `NOT EMPTY (expected: ${EXPECTED_EMPTY[source] ?? ''})  ${source}: ${describeSamples(got)}`,
    );
  }
  // A true zero must read 0, not "no data": the 5xx ratio of a run without errors is the example.
  const errorRatio = answers.get('recording rule churnwatch:http_error_ratio:5m (churnwatch-http)') ?? [];
  if (errorRatio.length > 0 && !errorRatio.every((s) => s.value === 0)) {
    problems.push(
      `churnwatch:http_error_ratio:5m should be 0 without errors: ${describeSamples(errorRatio)}`,
    );
  }
  t.diagnostic(`${run} run: ${expressions.length} expressions, ${problems.length} problems`);
  assert.deepEqual(problems, [], `${run} run: expressions with unexpected answers:\n${problems.join('\n')}`);
}
