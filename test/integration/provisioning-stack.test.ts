import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { PROMETHEUS_DATASOURCE } from '../../src/provisioning/grafana-queries.js';
import { requireBinary } from '../helpers/external-binary.js';
import { repoRoot } from '../helpers/shared-files.js';

const deployDir = join(repoRoot, 'deploy');
const AMTOOL = ['/usr/bin/amtool', '/usr/bin/prometheus-amtool'];
const DOCKER_COMPOSE = ['/usr/bin/docker-compose'];

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const cleanEnv = { ...process.env, ...env };
  if (!('GRAFANA_ADMIN_PASSWORD' in env)) delete cleanEnv.GRAFANA_ADMIN_PASSWORD;
  return spawnSync(command, args, { cwd: deployDir, encoding: 'utf8', env: cleanEnv, timeout: 60_000 });
}

describe('Alertmanager, Grafana provisioning and compose', () => {
  it('amtool accepts alertmanager.yml', (t) => {
    const amtool = requireBinary(t, AMTOOL);
    if (!amtool) return;
    const result = run(amtool, ['check-config', 'alertmanager/alertmanager.yml']);
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
    assert.match(result.stdout, /SUCCESS/);
  });

  it('critical alerts route to the on-call receiver, grouped by alert and feature', async () => {
    const config = parse(await readFile(join(deployDir, 'alertmanager/alertmanager.yml'), 'utf8'));
    assert.deepEqual(config.route.group_by.slice(0, 2), ['alertname', 'feature']);
    const critical = config.route.routes.find((r: { matchers: string[] }) =>
      r.matchers.includes('severity="critical"'),
    );
    assert.equal(critical?.receiver, 'oncall-webhook');
  });

  it('docker-compose accepts compose.yaml when the Grafana password is set', (t) => {
    const compose = requireBinary(t, DOCKER_COMPOSE);
    if (!compose) return;
    const result = run(compose, ['-f', 'compose.yaml', 'config', '-q'], {
      GRAFANA_ADMIN_PASSWORD: 'test-only',
    });
    assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  });

  it('docker-compose refuses compose.yaml without a Grafana password (no default secret)', (t) => {
    const compose = requireBinary(t, DOCKER_COMPOSE);
    if (!compose) return;
    const result = run(compose, ['-f', 'compose.yaml', 'config', '-q']);
    assert.notEqual(result.status, 0);
    assert.match(`${result.stdout}${result.stderr}`, /GRAFANA_ADMIN_PASSWORD|set it/);
  });

  it('the compose services expose the documented ports and have healthchecks', async () => {
    const compose = parse(await readFile(join(deployDir, 'compose.yaml'), 'utf8'));
    const ports: Record<string, string> = {
      api: '8000:8000',
      prometheus: '9090:9090',
      pushgateway: '9091:9091',
      alertmanager: '9093:9093',
      grafana: '3000:3000',
    };
    for (const [service, port] of Object.entries(ports)) {
      assert.deepEqual(compose.services[service]?.ports, [port], service);
      assert.ok(compose.services[service]?.healthcheck, `${service} has no healthcheck`);
    }
  });

  it('Grafana provisions the datasource uid the dashboards use', async () => {
    const datasources = parse(
      await readFile(join(deployDir, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
    );
    assert.equal(datasources.datasources[0].uid, PROMETHEUS_DATASOURCE.uid);
    for (const name of ['churnwatch-model.json', 'churnwatch-service.json']) {
      const board = JSON.parse(await readFile(join(deployDir, 'grafana/dashboards', name), 'utf8'));
      for (const panel of board.panels as { type: string; datasource?: { uid: string } }[]) {
        if (panel.type !== 'row') assert.equal(panel.datasource?.uid, PROMETHEUS_DATASOURCE.uid, `${name}`);
      }
    }
  });

  it('the Dockerfile is multi-stage, runs as a non-root user and has a healthcheck', async () => {
    const dockerfile = await readFile(join(deployDir, 'Dockerfile'), 'utf8');
    assert.equal((dockerfile.match(/^FROM /gm) ?? []).length, 2);
    assert.match(dockerfile, /^USER node$/m);
    assert.match(dockerfile, /^HEALTHCHECK /m);
  });
});
