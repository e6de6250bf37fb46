// The one contract between the core and every user interface. Main's handlers, the preload,
// `dynamics serve` and the renderer's client are all derived from this object: adding a method
// here without implementing it is a compile error in src/main/services.
import type { Client, Handlers } from './rpc';
import { datasetsService } from './services/datasets';
import { experimentsService } from './services/experiments';
import { dialogService, filesService } from './services/files';
import { generateService } from './services/generate';
import { mixtureService } from './services/mixture';
import { modelsService } from './services/models';
import { runsService } from './services/runs';
import { systemService } from './services/system';

export const contract = {
  system: systemService,
  models: modelsService,
  datasets: datasetsService,
  experiments: experimentsService,
  runs: runsService,
  mixture: mixtureService,
  generate: generateService,
  files: filesService,
  dialog: dialogService,
};

export type Contract = typeof contract;
export type DynamicsApi = Client<Contract>;
export type DynamicsHandlers = Handlers<Contract>;

