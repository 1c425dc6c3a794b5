/**
 * Reads the JSON model XGBoost writes with `Booster.save_model("model.json")` (format of xgboost ≥ 1.6,
 * checked on 1.7) into checked typed arrays: only what scoring needs, every size and index validated so
 * that a damaged file fails here with the file, tree and field named, never later while scoring.
 *
 * Layout (xgboost's doc/model.schema): learner.objective.name, learner.learner_model_param.base_score
 * (a string, in probability space for binary:logistic), learner.feature_names / feature_types (absent or
 * empty when the booster was trained on a bare matrix), learner.gradient_booster.model.trees[], each with
 * per-node arrays left_children/right_children (-1 at a leaf), split_indices, split_conditions (the leaf
 * value at a leaf), default_left, base_weights, split_type (0 numeric, 1 categorical) and the categorical
 * split sets as categories_nodes/categories_segments/categories_sizes into categories.
 */
import { ChurnwatchError } from '../../errors.js';

export const SUPPORTED_OBJECTIVE = 'binary:logistic';

/** XGBoost's largest category code (categories are floats holding integers below 2^24). */
export const MAX_CATEGORY_CODE = 2 ** 24 - 1;

export interface XgboostTree {
  /** Left child per node, -1 at a leaf. */
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly splitIndex: Int32Array;
  /** Float32 split condition (numeric split), leaf value (leaf), NaN (categorical split). */
  readonly splitCondition: Float64Array;
  readonly defaultLeft: Uint8Array;
  /** The category codes of each categorical split node (values in the set go right). */
  readonly categorySets: ReadonlyMap<number, Int32Array>;
  /** The loss reduction of each split (xgboost's `loss_changes`; 0 at leaves, all 0 when absent). */
  readonly gain: Float64Array;
}

export interface XgboostBooster {
  readonly objective: string;
  /** base_score as xgboost keeps it: a float32 probability for binary:logistic. */
  readonly baseScore: number;
  readonly numFeature: number;
  /** Absent when the booster was trained without feature names. */
  readonly featureNames?: readonly string[];
  /** 'q', 'float', 'int', 'i' (numeric) or 'c' (categorical) per feature; absent when not recorded. */
  readonly featureTypes?: readonly string[];
  readonly trees: readonly XgboostTree[];
  /** xgboost's version as written in the file, e.g. "1.7.4". */
  readonly xgboostVersion?: string;
}

const HINT = 'save the booster with Booster.save_model("model.json") (JSON, not UBJSON or pickle)';

export function xgboostInvalid(file: string, what: string, cause?: unknown): ChurnwatchError {
  return new ChurnwatchError('CW_MODEL_XGBOOST_INVALID', `${file}: ${what}`, {
    hint: HINT,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * JSON.parse for XGBoost's output, which writes NaN (a categorical node's split condition) and may write
 * Infinity bare, as JSON does not allow: outside strings those become null and ±1e999 (= ±Infinity).
 */
export function parseXgboostJsonText(text: string, file: string): unknown {
  if (!text.trimStart().startsWith('{'))
    throw xgboostInvalid(file, 'is not a JSON object (a UBJSON, binary or pickled model?)');
  let clean = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 78 /* N */ && text.startsWith('NaN', i)) {
      clean += `${text.slice(from, i)}null`;
      from = i += 3;
      i--;
    } else if (c === 73 /* I */ && text.startsWith('Infinity', i)) {
      clean += `${text.slice(from, i)}1e999`;
      from = i += 8;
      i--;
    }
  }
  clean += text.slice(from);
  try {
    return JSON.parse(clean);
  } catch (error) {
    throw xgboostInvalid(file, `is not valid JSON (${(error as Error).message})`, error);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function objectAt(file: string, path: string, v: unknown): Record<string, unknown> {
  if (!isObject(v)) throw xgboostInvalid(file, `${path} must be an object`);
  return v;
}

/** A JSON number field that xgboost writes as a string ("5E-1", "17"). */
function numberText(file: string, path: string, v: unknown): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
  if (!Number.isFinite(n)) throw xgboostInvalid(file, `${path} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

function numbers(file: string, path: string, v: unknown, length: number | undefined): unknown[] {
  if (!Array.isArray(v)) throw xgboostInvalid(file, `${path} must be an array`);
  if (length !== undefined && v.length !== length)
    throw xgboostInvalid(file, `${path} has ${v.length} entries, the tree has ${length} nodes`);
  return v;
}

function ints(file: string, path: string, v: unknown, length?: number): Int32Array {
  const list = numbers(file, path, v, length);
  return Int32Array.from(list, (x, i) => {
    if (!Number.isSafeInteger(x) || Math.abs(x as number) > 2 ** 31 - 1)
      throw xgboostInvalid(file, `${path}[${i}] must be an integer, got ${JSON.stringify(x)}`);
    return x as number;
  });
}

/** null (xgboost's NaN) reads as NaN; every value is rounded to float32, as xgboost holds it. */
function floats(file: string, path: string, v: unknown, length: number): Float64Array {
  const list = numbers(file, path, v, length);
  return Float64Array.from(list, (x, i) => {
    if (x === null) return Number.NaN;
    if (typeof x !== 'number')
      throw xgboostInvalid(file, `${path}[${i}] must be a number, got ${JSON.stringify(x)}`);
    return Math.fround(x);
  });
}

function strings(file: string, path: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
    throw xgboostInvalid(file, `${path} must be an array of strings`);
  return v as string[];
}

function readTree(file: string, t: number, raw: unknown, numFeature: number): XgboostTree {
  const at = `trees[${t}]`;
  const tree = objectAt(file, at, raw);
  const left = ints(file, `${at}.left_children`, tree.left_children);
  const n = left.length;
  if (n === 0) throw xgboostInvalid(file, `${at}.left_children is empty`);
  const declared = isObject(tree.tree_param) ? tree.tree_param.num_nodes : undefined;
  if (declared !== undefined && numberText(file, `${at}.tree_param.num_nodes`, declared) !== n)
    throw xgboostInvalid(file, `${at}.tree_param.num_nodes is ${String(declared)}, left_children has ${n}`);
  const right = ints(file, `${at}.right_children`, tree.right_children, n);
  const splitIndex = ints(file, `${at}.split_indices`, tree.split_indices, n);
  const splitCondition = floats(file, `${at}.split_conditions`, tree.split_conditions, n);
  numbers(file, `${at}.base_weights`, tree.base_weights, n);
  // Kept for feature importance (total gain, as xgboost's importance_type="total_gain"); optional.
  const gain =
    tree.loss_changes === undefined
      ? new Float64Array(n)
      : Float64Array.from(numbers(file, `${at}.loss_changes`, tree.loss_changes, n), (v, i) => {
          if (typeof v === 'number' && Number.isFinite(v)) return v;
          throw xgboostInvalid(
            file,
            `${at}.loss_changes[${i}] must be a finite number, got ${JSON.stringify(v)}`,
          );
        });
  const defaultLeft = Uint8Array.from(numbers(file, `${at}.default_left`, tree.default_left, n), (d, i) => {
    if (d === 0 || d === 1 || d === true || d === false) return d === 1 || d === true ? 1 : 0;
    throw xgboostInvalid(file, `${at}.default_left[${i}] must be 0 or 1, got ${JSON.stringify(d)}`);
  });
  // Files of xgboost < 1.6 have no split_type: every split is numeric.
  const splitType =
    tree.split_type === undefined ? new Int32Array(n) : ints(file, `${at}.split_type`, tree.split_type, n);

  // Walk from the root: every internal node's children inside the tree, each node reached once (no
  // cycle, no sharing), so scoring always ends at a leaf.
  const reached = new Uint8Array(n);
  const stack = [0];
  reached[0] = 1;
  while (stack.length > 0) {
    const k = stack.pop()!;
    const l = left[k]!;
    const r = right[k]!;
    if (l === -1 && r === -1) {
      if (!Number.isFinite(splitCondition[k]!))
        throw xgboostInvalid(file, `${at}.split_conditions[${k}] (a leaf value) must be a finite number`);
      continue;
    }
    for (const [child, field] of [
      [l, 'left_children'],
      [r, 'right_children'],
    ] as const) {
      if (child < 0 || child >= n)
        throw xgboostInvalid(file, `${at}.${field}[${k}] is ${child}, outside the tree's ${n} nodes`);
      if (reached[child])
        throw xgboostInvalid(file, `${at}.${field}[${k}] is ${child}, a node reached twice (not a tree)`);
      reached[child] = 1;
      stack.push(child);
    }
    const f = splitIndex[k]!;
    if (f < 0 || f >= numFeature)
      throw xgboostInvalid(
        file,
        `${at}.split_indices[${k}] is ${f}, outside the model's ${numFeature} features`,
      );
    const type = splitType[k]!;
    if (type !== 0 && type !== 1)
      throw xgboostInvalid(
        file,
        `${at}.split_type[${k}] must be 0 (numeric) or 1 (categorical), got ${type}`,
      );
    if (type === 0 && Number.isNaN(splitCondition[k]!))
      throw xgboostInvalid(file, `${at}.split_conditions[${k}] of a numeric split must be a number`);
  }
  return {
    left,
    right,
    splitIndex,
    splitCondition,
    defaultLeft,
    categorySets: readCategorySets(file, at, tree, splitType, left),
    gain,
  };
}

/**
 * Total gain per booster feature index over every split, normalised to sum to 1 (all 0 when the file
 * records no loss_changes): the importance our own trees report, so scenarios and dashboards rank an
 * imported model's features the same way.
 */
export function boosterFeatureGain(booster: XgboostBooster): Float64Array {
  const gains = new Float64Array(booster.numFeature);
  for (const tree of booster.trees)
    for (let k = 0; k < tree.left.length; k++)
      if (tree.left[k]! !== -1) gains[tree.splitIndex[k]!]! += Math.max(0, tree.gain[k]!);
  const total = gains.reduce((a, b) => a + b, 0);
  if (total > 0) for (let f = 0; f < gains.length; f++) gains[f]! /= total;
  return gains;
}

/** categories_nodes[i]'s set is categories[segments[i] .. segments[i] + sizes[i]). */
function readCategorySets(
  file: string,
  at: string,
  tree: Record<string, unknown>,
  splitType: Int32Array,
  left: Int32Array,
): Map<number, Int32Array> {
  const sets = new Map<number, Int32Array>();
  const hasCategorical = splitType.some((s, k) => s === 1 && left[k] !== -1);
  if (
    !hasCategorical &&
    (tree.categories_nodes === undefined || (tree.categories_nodes as unknown[]).length === 0)
  )
    return sets;
  const nodes = ints(file, `${at}.categories_nodes`, tree.categories_nodes);
  const segments = ints(file, `${at}.categories_segments`, tree.categories_segments, nodes.length);
  const sizes = ints(file, `${at}.categories_sizes`, tree.categories_sizes, nodes.length);
  const categories = ints(file, `${at}.categories`, tree.categories);
  nodes.forEach((node, i) => {
    if (node < 0 || node >= left.length || splitType[node] !== 1 || left[node] === -1)
      throw xgboostInvalid(file, `${at}.categories_nodes[${i}] is ${node}, not a categorical split node`);
    const start = segments[i]!;
    const size = sizes[i]!;
    if (start < 0 || size < 0 || start + size > categories.length)
      throw xgboostInvalid(
        file,
        `${at}.categories_segments[${i}] + categories_sizes[${i}] (${start} + ${size}) is past categories (${categories.length})`,
      );
    const set = categories.subarray(start, start + size);
    const bad = set.findIndex((c) => c < 0 || c > MAX_CATEGORY_CODE);
    if (bad >= 0)
      throw xgboostInvalid(file, `${at}.categories[${start + bad}] is ${set[bad]}, not a category code`);
    sets.set(node, set);
  });
  splitType.forEach((s, k) => {
    if (s === 1 && left[k] !== -1 && !sets.has(k))
      throw xgboostInvalid(file, `${at}: categorical split node ${k} is not in categories_nodes`);
  });
  return sets;
}

/**
 * Checks a parsed model file and keeps what scoring needs. Throws CW_MODEL_XGBOOST_OBJECTIVE for
 * another objective or booster (multi-class, regression, ranking, dart, gblinear) and
 * CW_MODEL_XGBOOST_INVALID naming the field for anything malformed.
 */
export function readXgboostBooster(value: unknown, file: string): XgboostBooster {
  const root = objectAt(file, 'the file', value);
  const learner = objectAt(file, 'learner', root.learner);
  const objective = objectAt(file, 'learner.objective', learner.objective).name;
  if (objective !== SUPPORTED_OBJECTIVE)
    throw new ChurnwatchError(
      'CW_MODEL_XGBOOST_OBJECTIVE',
      `${file}: objective ${JSON.stringify(objective)} is not supported; churnwatch imports ${SUPPORTED_OBJECTIVE} boosters only (churn is a binary probability)`,
      { hint: `train the booster with objective="${SUPPORTED_OBJECTIVE}"` },
    );
  const param = objectAt(file, 'learner.learner_model_param', learner.learner_model_param);
  const baseScore = Math.fround(numberText(file, 'learner.learner_model_param.base_score', param.base_score));
  if (!(baseScore > 0 && baseScore < 1))
    throw xgboostInvalid(
      file,
      `learner.learner_model_param.base_score is ${baseScore}, not a probability in (0, 1)`,
    );
  const numFeature = numberText(file, 'learner.learner_model_param.num_feature', param.num_feature);
  if (!Number.isSafeInteger(numFeature) || numFeature < 1)
    throw xgboostInvalid(file, `learner.learner_model_param.num_feature must be a positive integer`);
  for (const key of ['num_class', 'num_target'] as const) {
    if (param[key] !== undefined && numberText(file, `learner.learner_model_param.${key}`, param[key]) > 1)
      throw new ChurnwatchError(
        'CW_MODEL_XGBOOST_OBJECTIVE',
        `${file}: learner.learner_model_param.${key} is ${String(param[key])}; churnwatch imports single-output binary boosters only`,
        { hint: `train the booster with objective="${SUPPORTED_OBJECTIVE}"` },
      );
  }
  const booster = objectAt(file, 'learner.gradient_booster', learner.gradient_booster);
  if (booster.name !== 'gbtree')
    throw new ChurnwatchError(
      'CW_MODEL_XGBOOST_OBJECTIVE',
      `${file}: learner.gradient_booster.name is ${JSON.stringify(booster.name)}; churnwatch imports gbtree boosters only`,
      { hint: 'train with booster="gbtree" (the default)' },
    );
  const model = objectAt(file, 'learner.gradient_booster.model', booster.model);
  if (!Array.isArray(model.trees) || model.trees.length === 0)
    throw xgboostInvalid(file, 'learner.gradient_booster.model.trees must be a non-empty array');
  const trees = model.trees.map((tree, t) => readTree(file, t, tree, numFeature));
  const names =
    learner.feature_names === undefined ? [] : strings(file, 'learner.feature_names', learner.feature_names);
  const types =
    learner.feature_types === undefined ? [] : strings(file, 'learner.feature_types', learner.feature_types);
  for (const [key, list] of [
    ['feature_names', names],
    ['feature_types', types],
  ] as const) {
    if (list.length > 0 && list.length !== numFeature)
      throw xgboostInvalid(file, `learner.${key} has ${list.length} entries, num_feature is ${numFeature}`);
  }
  const version = Array.isArray(root.version) ? root.version.join('.') : undefined;
  return {
    objective,
    baseScore,
    numFeature,
    ...(names.length > 0 ? { featureNames: names } : {}),
    ...(types.length > 0 ? { featureTypes: types } : {}),
    trees,
    ...(version ? { xgboostVersion: version } : {}),
  };
}
