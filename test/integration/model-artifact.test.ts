import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { resolveTrainOptions, runTrain } from '../../src/cli/commands/train.js';
import { readCsvTable } from '../../src/data/csv-reader.js';
import { EXPRESSO_SCHEMA, serializeDatasetSchema } from '../../src/data/dataset-schema.js';
import { writeSyntheticCsv } from '../../src/data/synthetic.js';
import { loadModel } from '../../src/model/model-io.js';
import { applyCbpeCalibration, type CbpeCalibration } from '../../src/stats/cbpe-calibration.js';
import { fitIsotonic } from '../../src/stats/isotonic.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { trainGenericModel } from '../helpers/train-generic-model.js';

type CodedError = Error & { code?: string };

const expectError = (code: string, fileName: string) => (error: CodedError) => {
  assert.equal(error.code, code, error.message);
  assert.ok(error.message.includes(fileName), `message names ${fileName}: ${error.message}`);
  return true;
};

describe('model artifact', () => {
  it('round-trips scores exactly and says which file of a damaged artifact is wrong', async () => {
    await withTempDir(async (dir) => {
      await writeSyntheticCsv(join(dir, 'train.csv'), { rows: 4000, seed: 3 });
      const options = resolveTrainOptions(
        {
          data: join(dir, 'train.csv'),
          models: join(dir, 'models'),
          trees: '8',
          quiet: true,
          windowSize: '200',
        },
        {},
      );
      const trained = await runTrain({ ...options, logger: pino({ level: 'silent' }) });
      const model = await loadModel(trained.dir);
      const again = await loadModel(join(dir, 'models', 'latest'));
      const { table } = await readCsvTable(join(dir, 'train.csv'));
      const scores = model.scoreTable(table);
      assert.deepEqual(again.scoreTable(table), scores);
      assert.ok(scores.every((p) => p > 0 && p < 1));

      // One record at a time, from raw values, gives the batch score; an unseen category and a
      // missing value are scored like missing values, never rejected.
      const row = {
        REGION: null,
        TENURE: 'K > 24 month',
        MONTANT: 4000,
        FREQUENCE_RECH: 8,
        REVENUE: 3999,
        ARPU_SEGMENT: 1333,
        FREQUENCE: 9,
        DATA_VOLUME: null,
        ON_NET: 12,
        ORANGE: 40,
        TIGO: null,
        ZONE1: null,
        ZONE2: null,
        MRG: 'NO',
        REGULARITY: 40,
        TOP_PACK: null,
        FREQ_TOP_PACK: null,
      } as const;
      const p = model.scoreRecord(row);
      assert.ok(p > 0 && p < 1);
      assert.equal(model.scoreRecord({ ...row, REGION: 'NEVER SEEN' }), p);
      assert.equal(model.scoreRecord({ ...row, TOP_PACK: 'NEW PACK 2027' }), p);
      assert.equal(model.scoreRecord({ ...row, MONTANT: '4000' }), p);
      assert.deepEqual([...model.scoreRecords([row, row])], [p, p]);

      // A batch takes the bin-space scorer (16 records or more): it must give exactly the scores of
      // one record at a time, for the training rows and for awkward ones (numbers as text, empty and
      // unseen categories, values below and above every bin, missing keys).
      const records: Record<string, number | string | null>[] = [];
      for (let i = 0; i < 400; i++) {
        const r: Record<string, number | string | null> = {};
        for (const [name, column] of table.columns) {
          if (column.kind === 'numeric') {
            const v = column.values[i]!;
            r[name] = Number.isNaN(v) ? null : v;
          } else {
            const code = column.codes[i]!;
            r[name] = code < 0 ? null : column.dictionary[code]!;
          }
        }
        delete r.CHURN;
        delete r.user_id;
        records.push(r);
      }
      const awkward: Record<string, number | string | null>[] = [
        { ...row, MONTANT: '4000' },
        { ...row, MONTANT: 'not a number', REGION: '' },
        { ...row, MONTANT: -1e300, REVENUE: 1e300, TENURE: 'NEVER SEEN' },
        { TOP_PACK: 'NEW PACK 2027' },
        {},
        { ...row, MONTANT: 0, FREQUENCE: -0 },
      ];
      records.push(...awkward, ...awkward, ...awkward);
      assert.deepEqual(
        [...model.scoreRecords(records)],
        records.map((r) => model.scoreRecord(r)),
      );

      const damaged = async (name: string, edit: (dir: string) => Promise<void>) => {
        const copy = join(dir, name);
        await cp(trained.dir, copy, { recursive: true });
        await edit(copy);
        return copy;
      };
      const badJson = await damaged('bad-json', (d) =>
        writeFile(join(d, 'model.json'), '{"formatVersion": 1, "enc'),
      );
      await assert.rejects(loadModel(badJson), expectError('CW_MODEL_DAMAGED', join(badJson, 'model.json')));

      const edited = await damaged('edited', async (d) => {
        const doc = JSON.parse(await readFile(join(d, 'model.json'), 'utf8'));
        doc.threshold = 0.01;
        await writeFile(join(d, 'model.json'), JSON.stringify(doc));
      });
      await assert.rejects(loadModel(edited), expectError('CW_MODEL_DAMAGED', join(edited, 'model.json')));

      const future = await damaged('future', async (d) => {
        const manifest = JSON.parse(await readFile(join(d, 'manifest.json'), 'utf8'));
        manifest.formatVersion = 99;
        await writeFile(join(d, 'manifest.json'), JSON.stringify(manifest));
      });
      await assert.rejects(loadModel(future), expectError('CW_MODEL_FORMAT_VERSION', 'manifest.json'));

      const missing = await damaged('missing', (d) => rm(join(d, 'profile.json')));
      await assert.rejects(
        loadModel(missing),
        expectError('CW_MODEL_MISSING_FILE', join(missing, 'profile.json')),
      );

      await assert.rejects(loadModel(join(dir, 'nowhere')), expectError('CW_MODEL_NOT_FOUND', 'nowhere'));

      // The schema travels in the artifact; an artifact from before schema.json (all were Expresso)
      // loads with the Expresso schema and scores as before.
      assert.deepEqual(model.schema, EXPRESSO_SCHEMA);
      assert.deepEqual(JSON.parse(await readFile(join(trained.dir, 'schema.json'), 'utf8')), EXPRESSO_SCHEMA);
      const older = await damaged('older', async (d) => {
        await rm(join(d, 'schema.json'));
        const manifest = JSON.parse(await readFile(join(d, 'manifest.json'), 'utf8'));
        delete manifest.files['schema.json'];
        await writeFile(join(d, 'manifest.json'), JSON.stringify(manifest));
      });
      const olderModel = await loadModel(older);
      assert.deepEqual(olderModel.schema, EXPRESSO_SCHEMA);
      assert.deepEqual(olderModel.scoreTable(table), scores);

      const noSchema = await damaged('no-schema', (d) => rm(join(d, 'schema.json')));
      await assert.rejects(
        loadModel(noSchema),
        expectError('CW_MODEL_MISSING_FILE', join(noSchema, 'schema.json')),
      );
      const otherSchema = await damaged('other-schema', async (d) => {
        const schema = { ...EXPRESSO_SCHEMA, features: EXPRESSO_SCHEMA.features.slice(1) };
        const text = serializeDatasetSchema(schema);
        await writeFile(join(d, 'schema.json'), text);
        const manifest = JSON.parse(await readFile(join(d, 'manifest.json'), 'utf8'));
        manifest.files['schema.json'] = createHash('sha256').update(text).digest('hex');
        await writeFile(join(d, 'manifest.json'), JSON.stringify(manifest));
      });
      await assert.rejects(loadModel(otherSchema), expectError('CW_MODEL_DAMAGED', 'REGION'));
    });
  });

  it('keeps the CBPE calibration: the training choice, an isotonic map exactly, refuses a damaged one', async () => {
    await withTempDir(async (dir) => {
      await writeSyntheticCsv(join(dir, 'train.csv'), { rows: 3000, seed: 4 });
      const options = resolveTrainOptions(
        { data: join(dir, 'train.csv'), models: join(dir, 'models'), trees: '8', quiet: true },
        {},
      );
      const trained = await runTrain({ ...options, logger: pino({ level: 'silent' }) });
      const model = await loadModel(trained.dir);
      // Chosen on the validation rows (20 % of 3,000), stored in the profile as train reported it.
      assert.deepEqual(model.profile.cbpe, trained.cbpe);
      assert.equal(trained.cbpe.rows, trained.metadata.rows.validation);
      assert.equal(trained.cbpe.reason, 'ece');
      assert.ok(trained.cbpe.eceBefore !== null && trained.cbpe.eceAfter !== null);

      // An isotonic calibration (written into profile.json with its checksum) loads as it was written.
      const { table } = await readCsvTable(join(dir, 'train.csv'));
      const scores = model.scoreTable(table);
      const cubed = scores.map((s) => s ** 3);
      const isotonic: CbpeCalibration = {
        calibrated: true,
        method: 'isotonic',
        thresholds: fitIsotonic(scores, cubed),
        eceBefore: 0.2,
        eceAfter: 0.01,
        rows: scores.length,
        reason: 'ece',
      };
      const withCbpe = async (name: string, cbpe: unknown) => {
        const copy = join(dir, name);
        await cp(trained.dir, copy, { recursive: true });
        const profile = JSON.parse(await readFile(join(copy, 'profile.json'), 'utf8'));
        const text = `${JSON.stringify({ ...profile, cbpe })}\n`;
        await writeFile(join(copy, 'profile.json'), text);
        const manifest = JSON.parse(await readFile(join(copy, 'manifest.json'), 'utf8'));
        manifest.files['profile.json'] = createHash('sha256').update(text).digest('hex');
        await writeFile(join(copy, 'manifest.json'), JSON.stringify(manifest));
        return copy;
      };
      const reloaded = await loadModel(await withCbpe('isotonic', isotonic));
      assert.deepEqual(reloaded.profile.cbpe, isotonic);
      assert.deepEqual(
        applyCbpeCalibration(reloaded.profile.cbpe, scores),
        applyCbpeCalibration(isotonic, scores),
      );
      const bad = await withCbpe('bad-cbpe', { ...isotonic, thresholds: { x: [0.5, 0.2], y: [0, 1] } });
      await assert.rejects(loadModel(bad), (error: CodedError) => {
        expectError('CW_MODEL_DAMAGED', join(bad, 'profile.json'))(error);
        assert.match(error.message, /CBPE calibration: cbpe\.thresholds\.x\[1\]/);
        return true;
      });
      // An older profile without the field loads (identity).
      const older = await loadModel(await withCbpe('older', undefined));
      assert.equal(older.profile.cbpe, undefined);
    });
  });

  it('keeps any schema: a model of another table loads with its own feature names and kinds', async () => {
    await withTempDir(async (dir) => {
      const trained = await trainGenericModel(dir, { rows: 3000, numeric: 6, categorical: 3, seed: 5 });
      const model = await loadModel(join(trained.modelsDir, 'latest'));
      assert.deepEqual(model.schema, trained.data.schema);
      assert.deepEqual(
        Object.keys(model.profile.features).sort(),
        trained.data.schema.features.map((f) => f.name).sort(),
      );
      const record = trained.data.records[0]!;
      const p = model.scoreRecord(record);
      assert.ok(p > 0 && p < 1);
      assert.equal(model.scoreRecords(Array.from({ length: 20 }, () => record))[19], p);
      // The signal is learned: churners score higher than stayers on average.
      const scores = model.scoreRecords(trained.data.records);
      let yes = 0;
      let no = 0;
      trained.data.labels.forEach((l, i) => {
        if (l === 'Yes') yes += scores[i]!;
        else no += scores[i]!;
      });
      const churners = trained.data.labels.filter((l) => l === 'Yes').length;
      assert.ok(yes / churners > no / (trained.data.labels.length - churners) + 0.1);
    });
  });
});
