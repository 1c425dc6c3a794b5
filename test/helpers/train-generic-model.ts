/**
 * Trains a real GBDT on a generated non-Expresso table (generic-data.ts) in-process and writes a normal
 * artifact with its schema: what the server, store, metrics, monitor and provisioning tests of issue 17
 * load, without going through the CSV reader.
 */
import { join } from 'node:path';
import { createRng } from '../../src/data/rng.js';
import { DEFAULT_GBDT_PARAMS, type GbdtParams } from '../../src/model/gbdt.js';
import { saveModelArtifact } from '../../src/model/model-io.js';
import { trainChurnModel } from '../../src/model/train-churn-model.js';
import { calibrateDriftThresholds } from '../../src/monitor/threshold-calibration.js';
import {
  type GenericData,
  type GenericDataOptions,
  generateGenericData,
  genericTable,
} from './generic-data.js';

export interface GenericModel {
  readonly modelsDir: string;
  /** models/<version> */
  readonly modelDir: string;
  readonly version: string;
  readonly data: GenericData;
}

export async function trainGenericModel(
  dir: string,
  options: GenericDataOptions & { readonly trees?: number; readonly windowSize?: number },
): Promise<GenericModel> {
  const data = generateGenericData(options);
  const table = genericTable(data);
  const params: GbdtParams = { ...DEFAULT_GBDT_PARAMS, trees: options.trees ?? 20, threads: 1 };
  const trained = await trainChurnModel(table, {
    params,
    validationShare: 0.25,
    features: data.schema.features,
  });
  const windowSize = options.windowSize ?? 200;
  const thresholds = calibrateDriftThresholds(trained.profile, trained.validationTable, {
    windowSize: Math.min(windowSize, trained.validationTable.rowCount),
    rng: createRng(params.seed, 5),
    scores: trained.validationScores,
  });
  const modelsDir = join(dir, 'models');
  const saved = await saveModelArtifact(
    modelsDir,
    { ...trained, profile: { ...trained.profile, thresholds } },
    {
      schema: data.schema,
      trainedAt: new Date(),
      data: { file: 'generated', sha256: '', rows: table.rowCount },
      params,
      durationSeconds: 0,
    },
  );
  return { modelsDir, modelDir: saved.dir, version: saved.version, data };
}
