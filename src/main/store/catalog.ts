// The catalog of imported datasets and registered models. Small tables, read and written by the
// app's Models and Datasets views and by `dynamics datasets`; the data layer owns what the
// `info` JSON holds (token counts, splits, templates…).
import type { Database, Statement } from 'better-sqlite3';
import { NotFoundError } from '../../shared/errors';
import { guard } from './errors';
import { toDataset, toModel, type DatasetRow, type ModelRow } from './rows';
import type { Clock, DatasetRecord, ModelRecord } from './types';

export type NewDataset = Omit<DatasetRecord, 'id' | 'createdAt' | 'info' | 'sha256' | 'bytes' | 'records'> &
  Partial<Pick<DatasetRecord, 'info' | 'sha256' | 'bytes' | 'records'>>;
export type NewModel = Omit<ModelRecord, 'id' | 'createdAt' | 'info' | 'architecture' | 'parameters'> &
  Partial<Pick<ModelRecord, 'info' | 'architecture' | 'parameters'>>;

export class CatalogStore {
  private readonly clock: Clock;
  private readonly file: string;
  private readonly insertDataset: Statement;
  private readonly selectDatasets: Statement<[], DatasetRow>;
  private readonly selectDataset: Statement<[number], DatasetRow>;
  private readonly deleteDataset: Statement<[number]>;
  private readonly insertModel: Statement;
  private readonly selectModels: Statement<[], ModelRow>;
  private readonly selectModel: Statement<[number], ModelRow>;
  private readonly deleteModel: Statement<[number]>;

  constructor(db: Database, options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? Date.now;
    this.file = db.name;
    this.insertDataset = db.prepare(`INSERT INTO datasets (name, path, format, sha256, bytes, records, info, created_at)
      VALUES (@name, @path, @format, @sha256, @bytes, @records, @info, @now)`);
    this.selectDatasets = db.prepare('SELECT * FROM datasets ORDER BY name, id');
    this.selectDataset = db.prepare('SELECT * FROM datasets WHERE id = ?');
    this.deleteDataset = db.prepare('DELETE FROM datasets WHERE id = ?');
    this.insertModel = db.prepare(`INSERT INTO models (name, path, architecture, parameters, info, created_at)
      VALUES (@name, @path, @architecture, @parameters, @info, @now)`);
    this.selectModels = db.prepare('SELECT * FROM models ORDER BY name, id');
    this.selectModel = db.prepare('SELECT * FROM models WHERE id = ?');
    this.deleteModel = db.prepare('DELETE FROM models WHERE id = ?');
  }

  addDataset(d: NewDataset): number {
    const row = {
      name: d.name, path: d.path, format: d.format, sha256: d.sha256 ?? null, bytes: d.bytes ?? null, records: d.records ?? null,
      info: JSON.stringify(d.info ?? {}), now: this.clock(),
    };
    return guard(`save the dataset "${d.name}"`, this.file, () => Number(this.insertDataset.run(row).lastInsertRowid));
  }

  datasets(): DatasetRecord[] {
    return guard('list datasets', this.file, () => this.selectDatasets.all()).map(toDataset);
  }

  dataset(id: number): DatasetRecord {
    const row = guard(`read dataset ${id}`, this.file, () => this.selectDataset.get(id));
    if (!row) throw new NotFoundError(`there is no dataset ${id}`);
    return toDataset(row);
  }

  removeDataset(id: number): void {
    const changes = guard(`remove dataset ${id}`, this.file, () => this.deleteDataset.run(id).changes);
    if (changes === 0) throw new NotFoundError(`there is no dataset ${id}`);
  }

  addModel(m: NewModel): number {
    const row = {
      name: m.name, path: m.path, architecture: m.architecture ?? null, parameters: m.parameters ?? null, info: JSON.stringify(m.info ?? {}),
      now: this.clock(),
    };
    return guard(`save the model "${m.name}"`, this.file, () => Number(this.insertModel.run(row).lastInsertRowid));
  }

  models(): ModelRecord[] {
    return guard('list models', this.file, () => this.selectModels.all()).map(toModel);
  }

  model(id: number): ModelRecord {
    const row = guard(`read model ${id}`, this.file, () => this.selectModel.get(id));
    if (!row) throw new NotFoundError(`there is no model ${id}`);
    return toModel(row);
  }

  /** Runs that used the model keep their configuration; their model link becomes empty. */
  removeModel(id: number): void {
    const changes = guard(`remove model ${id}`, this.file, () => this.deleteModel.run(id).changes);
    if (changes === 0) throw new NotFoundError(`there is no model ${id}`);
  }
}
