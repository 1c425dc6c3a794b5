/**
 * The ChurnModel of a model-less artifact (`churnwatch profile`, model-io.ts format `monitor-only`):
 * the schema, reference profile, threshold and validation of a model that lives elsewhere. It serves
 * as a pure monitor (predictions arrive by POST /log); anything that would score with it gets
 * CW_MODEL_NO_SCORER instead of a number.
 */
import { cliCommand } from '../cli-command.js';
import type { DatasetSchema } from '../data/dataset-schema.js';
import { ChurnwatchError } from '../errors.js';
import type { ChurnModel, ModelInfo } from './churn-model.js';
import type { ReferenceProfile } from './reference-profile-types.js';

export const MONITOR_ONLY_FORMAT = 'monitor-only';

export function noScorerError(version: string): ChurnwatchError {
  return new ChurnwatchError(
    'CW_MODEL_NO_SCORER',
    `model ${version} was made by ${cliCommand('profile')}: it monitors a model that lives elsewhere and cannot score`,
    {
      hint: 'score with that model and send its predictions to POST /log (docs/your-model.md), or use a trained or imported artifact',
    },
  );
}

export function createMonitorOnlyModel(
  info: ModelInfo,
  profile: ReferenceProfile,
  schema: DatasetSchema,
): ChurnModel {
  const refuse = (): never => {
    throw noScorerError(info.version);
  };
  return {
    info,
    schema,
    profile,
    monitorOnly: true,
    scoreRecord: refuse,
    scoreRecords: refuse,
    scoreTable: refuse,
  };
}
