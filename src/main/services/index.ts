// The handler table of the contract. Each service is a class taking its dependencies; this file
// maps contract methods onto them and holds no logic. A contract method missing here fails to compile.
import type { DynamicsHandlers } from '../../shared/contract';
import { UserError } from '../../shared/errors';
import type { SystemService } from './system';

export interface Services {
  system: SystemService;
}

/** Methods of the contract whose service is being written: they answer in words instead of failing to compile. */
function pending(name: string): () => never {
  return () => {
    throw new UserError(`${name} is not available in this build yet`);
  };
}

export function createHandlers(services: Services): DynamicsHandlers {
  return {
    system: {
      info: () => services.system.info(),
    },
    models: { list: pending('models.list'), import: pending('models.import'), info: pending('models.info'), remove: pending('models.remove') },
    datasets: {
      list: pending('datasets.list'), get: pending('datasets.get'), preview: pending('datasets.preview'), check: pending('datasets.check'),
      import: pending('datasets.import'), remove: pending('datasets.remove'), uploadBegin: pending('datasets.uploadBegin'),
      uploadChunk: pending('datasets.uploadChunk'), uploadDiscard: pending('datasets.uploadDiscard'),
    },
    experiments: { defaults: pending('experiments.defaults'), validate: pending('experiments.validate'), plan: pending('experiments.plan'), parse: pending('experiments.parse'), serialize: pending('experiments.serialize') },
    runs: {
      list: pending('runs.list'), get: pending('runs.get'), curves: pending('runs.curves'), compare: pending('runs.compare'), configDiff: pending('runs.configDiff'),
      decisions: pending('runs.decisions'), events: pending('runs.events'), start: pending('runs.start'), pause: pending('runs.pause'),
      resume: pending('runs.resume'), cancel: pending('runs.cancel'), delete: pending('runs.delete'), setTags: pending('runs.setTags'),
      rename: pending('runs.rename'), exportCsv: pending('runs.exportCsv'),
    },
    mixture: { solve: pending('mixture.solve'), problemOf: pending('mixture.problemOf') },
    generate: { start: pending('generate.start'), cancel: pending('generate.cancel') },
    files: { places: pending('files.places'), list: pending('files.list') },
    dialog: { available: pending('dialog.available'), openFile: pending('dialog.openFile'), openFolder: pending('dialog.openFolder') },
  };
}
