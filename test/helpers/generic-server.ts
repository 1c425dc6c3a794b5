/**
 * A server on a generated non-Expresso model (train-generic-model.ts) with a real SQLite store in a
 * temporary directory: what the issue-17 server tests start from.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ChurnModel } from '../../src/model/churn-model.js';
import { loadModel } from '../../src/model/model-io.js';
import type { BuildAppOptions } from '../../src/server/build-app.js';
import { openStore } from '../../src/store/open-store.js';
import type { PredictionStore } from '../../src/store/prediction-store.js';
import type { GenericDataOptions } from './generic-data.js';
import { buildTestApp } from './server-harness.js';
import { type GenericModel, trainGenericModel } from './train-generic-model.js';

export interface GenericServer {
  readonly generic: GenericModel;
  readonly model: ChurnModel;
  readonly store: PredictionStore;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

export async function serveGenericModel(
  data: GenericDataOptions & { readonly trees: number },
  options: Omit<BuildAppOptions, 'createWriter' | 'store' | 'model'> = {},
): Promise<GenericServer> {
  const dir = await mkdtemp(join(tmpdir(), 'churnwatch-generic-server-'));
  const generic = await trainGenericModel(dir, data);
  const model = await loadModel(generic.modelDir);
  const store = openStore(`sqlite:${join(dir, 'predictions.db')}`);
  await store.migrate();
  // /admin/reload without a path reloads this model's directory.
  const config = { modelPath: generic.modelDir, ...options.config };
  const app = await buildTestApp({ store, model, ...options, config });
  return {
    generic,
    model,
    store,
    app,
    async close() {
      await app.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
