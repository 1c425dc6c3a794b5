import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { DEFAULT_RULE_OPTIONS } from '../../src/provisioning/prometheus-rules.js';
import { repoRoot } from './shared-files.js';

export interface StackAddresses {
  /** host:port of the churnwatch API, or of each replica. */
  readonly api: string | readonly string[];
  /**
   * host:port of the monitor role (`churnwatch monitor serve`). Without it the monitor job is left out:
   * a single-process stack, whose API monitors in-process, has no monitor target.
   */
  readonly monitor?: string;
  /** host:port of the Pushgateway; without it the Pushgateway job is left out. */
  readonly pushgateway?: string;
  /** host:port of this Prometheus (its self-scrape job). */
  readonly prometheus: string;
  /** Scrape and rule evaluation interval, e.g. `1s`. */
  readonly interval: string;
}

interface ScrapeConfig {
  job_name: string;
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: unknown;
  [key: string]: unknown;
}

interface PrometheusYaml {
  global?: Record<string, unknown>;
  rule_files?: string[];
  alerting?: unknown;
  scrape_configs?: ScrapeConfig[];
  [key: string]: unknown;
}

/**
 * The repository's deploy/prometheus/prometheus.yml with only what a test must change: target addresses,
 * the scrape and evaluation intervals, and no Alertmanager (none runs; alerts are read from
 * /api/v1/alerts). Everything else (jobs, honor_labels, rule files, external labels) stays as shipped.
 * Throws when a job the rules rely on is missing, so a renamed job breaks this test rather than passing.
 */
export function rewritePrometheusConfig(text: string, to: StackAddresses): string {
  const config = parse(text) as PrometheusYaml;
  config.global = { ...config.global, scrape_interval: to.interval, evaluation_interval: to.interval };
  delete config.alerting;
  const targets: Record<string, string | readonly string[] | undefined> = {
    [DEFAULT_RULE_OPTIONS.apiJob]: to.api,
    [DEFAULT_RULE_OPTIONS.monitorJob]: to.monitor,
    [DEFAULT_RULE_OPTIONS.pushgatewayJob]: to.pushgateway,
    prometheus: to.prometheus,
  };
  const jobs = config.scrape_configs ?? [];
  for (const [job, address] of Object.entries(targets)) {
    const scrape = jobs.find((s) => s.job_name === job);
    if (!scrape) throw new Error(`deploy/prometheus/prometheus.yml has no scrape job "${job}"`);
    // Discovery (DNS) gives way to the test's fixed addresses.
    delete scrape.dns_sd_configs;
    if (address === undefined) jobs.splice(jobs.indexOf(scrape), 1);
    else scrape.static_configs = [{ targets: typeof address === 'string' ? [address] : [...address] }];
  }
  return stringify(config);
}

/** deploy/prometheus/prometheus.yml and every rule file it loads, as { path relative to it: content }. */
export async function readRepoPrometheusConfig(): Promise<{ config: string; files: Record<string, string> }> {
  const base = join(repoRoot, 'deploy', 'prometheus');
  const config = await readFile(join(base, 'prometheus.yml'), 'utf8');
  const ruleFiles = (parse(config) as PrometheusYaml).rule_files ?? [];
  const files: Record<string, string> = {};
  for (const path of ruleFiles) files[path] = await readFile(join(base, path), 'utf8');
  // Every rules/*.yml shipped must be loaded; a file left out of rule_files would never run.
  for (const name of await readdir(join(base, 'rules'))) {
    if (name.endsWith('.yml') && !(`rules/${name}` in files)) {
      throw new Error(`deploy/prometheus/rules/${name} is not listed in prometheus.yml rule_files`);
    }
  }
  return { config, files };
}
