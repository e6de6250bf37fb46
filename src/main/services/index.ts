// The handler table of the contract. Each service is a class taking its dependencies; this file
// maps contract methods onto them and holds no logic. A contract method missing here fails to compile.
import type { DynamicsHandlers } from '../../shared/contract';
import type { DatasetsService } from './datasets';
import type { ExperimentsService } from './experiments';
import type { DialogService, FilesService } from './files';
import type { GenerateService } from './generate';
import type { MixtureService } from './mixture';
import type { ModelsService } from './models';
import type { RunsService } from './runs';
import type { SystemService } from './system';

export interface Services {
  system: SystemService;
  models: ModelsService;
  datasets: DatasetsService;
  experiments: ExperimentsService;
  runs: RunsService;
  mixture: MixtureService;
  generate: GenerateService;
  files: FilesService;
  dialog: DialogService;
}

export function createHandlers(s: Services): DynamicsHandlers {
  return {
    system: {
      info: () => s.system.info(),
    },
    models: {
      list: () => s.models.list(),
      import: (i) => s.models.import(i),
      info: (i) => s.models.info(i),
      remove: (i) => s.models.remove(i.id),
    },
    datasets: {
      list: () => s.datasets.list(),
      get: (i) => s.datasets.get(i.id),
      preview: (i) => s.datasets.preview(i),
      check: (i) => s.datasets.check(i),
      import: (i) => s.datasets.import(i),
      remove: (i) => s.datasets.remove(i.id),
      uploadBegin: (i) => s.datasets.uploadBegin(i.fileName, i.bytes),
      uploadChunk: (i) => s.datasets.uploadChunk(i.uploadId, i.offset, i.data),
      uploadDiscard: (i) => s.datasets.uploadDiscard(i.uploadId),
    },
    experiments: {
      defaults: () => s.experiments.defaults(),
      validate: (i) => s.experiments.validate(i.config),
      plan: (i) => s.experiments.plan(i.config),
      parse: (i) => s.experiments.parse(i.text, i.format),
      serialize: (i) => s.experiments.serialize(i.config, i.format),
    },
    runs: {
      list: (i) => s.runs.list(i),
      get: (i) => s.runs.get(i.id),
      curves: (i) => s.runs.curves(i),
      compare: (i) => s.runs.compare(i),
      configDiff: (i) => s.runs.configDiff(i.ids),
      decisions: (i) => s.runs.decisions(i.id),
      decisionsOf: (i) => s.runs.decisionsOf(i.ids),
      events: (i) => s.runs.events(i.id, i.afterId, i.limit),
      start: (i) => s.runs.start(i.config, i.suite),
      pause: (i) => s.runs.pause(i.id),
      resume: (i) => s.runs.resume(i.id),
      cancel: (i) => s.runs.cancel(i.id),
      delete: (i) => s.runs.delete(i.id),
      setTags: (i) => s.runs.setTags(i.id, i.tags),
      rename: (i) => s.runs.rename(i.id, i.name),
      exportCsv: (i) => s.runs.exportCsv(i.ids, i.kind),
    },
    mixture: {
      solve: (i) => s.mixture.solve(i.problem, i.solver),
      problemOf: (i) => s.mixture.problemOf(i.runId, i.step),
    },
    generate: {
      start: (i) => s.generate.start(i),
      cancel: (i) => s.generate.cancel(i.requestId),
    },
    files: {
      places: () => s.files.places(),
      list: (i) => s.files.list(i.path),
    },
    dialog: {
      available: () => s.dialog.available(),
      openFile: (i) => s.dialog.openFile(i),
      openFolder: (i) => s.dialog.openFolder(i),
    },
  };
}
