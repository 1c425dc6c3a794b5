/**
 * Shared bits of the Grafana dashboards: the provisioned Prometheus datasource (its uid is fixed in
 * deploy/grafana/provisioning/datasources/prometheus.yml) and query builders that set it.
 */
import type * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';

export const PROMETHEUS_DATASOURCE: common.DataSourceRef = {
  type: 'prometheus',
  uid: 'churnwatch-prometheus',
};

/** A range query drawn over time. */
export function rangeQuery(refId: string, expr: string, legend: string): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(PROMETHEUS_DATASOURCE)
    .refId(refId)
    .expr(expr)
    .legendFormat(legend)
    .range();
}

/** An instant query for the latest value (stats, gauges, bar gauges). */
export function instantQuery(refId: string, expr: string, legend: string): prometheus.DataqueryBuilder {
  return rangeQuery(refId, expr, legend).instant();
}

/** An instant query in table format, for tables and bar charts joined by label. */
export function tableQuery(refId: string, expr: string): prometheus.DataqueryBuilder {
  return new prometheus.DataqueryBuilder()
    .datasource(PROMETHEUS_DATASOURCE)
    .refId(refId)
    .expr(expr)
    .format(prometheus.PromQueryFormat.Table)
    .instant();
}

/** Green below `warn`, amber from `warn`, red from `bad` (or the reverse with `higherIsBetter`). */
export function thresholdSteps(
  warn: number,
  bad: number,
  higherIsBetter = false,
): dashboard.ThresholdsConfigBuilder {
  const steps = higherIsBetter
    ? [
        { value: null, color: 'red' },
        { value: bad, color: 'orange' },
        { value: warn, color: 'green' },
      ]
    : [
        { value: null, color: 'green' },
        { value: warn, color: 'orange' },
        { value: bad, color: 'red' },
      ];
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps);
}

/** Renames the `Value #<refId>` columns a merged table query produces. */
export function renameValues(names: Readonly<Record<string, string>>): dashboard.DataTransformerConfig {
  const renameByName: Record<string, string> = {};
  for (const [refId, name] of Object.entries(names)) renameByName[`Value #${refId}`] = name;
  return { id: 'organize', options: { excludeByName: { Time: true }, renameByName } };
}

export const MERGE: dashboard.DataTransformerConfig = { id: 'merge', options: {} };
