/**
 * What provisioning needs from a model (`churnwatch provision --model`): its feature names, most
 * important first. The rules are the same for every model (they work on the `feature` and `bin` labels
 * the counters carry, so their series are bounded by the profile's bins); the model dashboard opens on
 * the few most important features instead of all of them, so a 200-feature model stays readable.
 */
import type { DatasetSchema } from '../data/dataset-schema.js';

export interface ProvisionModel {
  /** The model's feature names, by decreasing importance (schema order among equals). */
  readonly features: readonly string[];
  /** Where it came from, for the dashboard description. */
  readonly source: string;
}

/** Features the model dashboard selects when it opens (the drill-down repeats one panel per feature). */
export const DEFAULT_DASHBOARD_FEATURES = 6;

/** The provisioning view of a schema and its feature importance. */
export function provisionModel(
  schema: DatasetSchema,
  importance: Readonly<Record<string, number>>,
  source: string,
): ProvisionModel {
  const features = schema.features
    .map((f, i) => ({ name: f.name, i, gain: importance[f.name] ?? 0 }))
    .sort((a, b) => b.gain - a.gain || a.i - b.i)
    .map((f) => f.name);
  return { features, source };
}

/** The provisioning view of a model artifact (models/latest or models/<version>). */
export async function loadProvisionModel(dir: string): Promise<ProvisionModel> {
  const { loadModelArtifact } = await import('../model/model-io.js');
  const { model, metadata } = await loadModelArtifact(dir);
  return provisionModel(model.schema, metadata.featureImportance, dir);
}
