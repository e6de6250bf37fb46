// The composition root shared by the Electron app, the CLI and serve: builds every service in
// dependency order from a data directory. No module-level singletons anywhere else.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { contract } from '../shared/contract';
import { controllerContract } from '../shared/services/controller';
import { JsonDatasetCatalog } from './data/catalog';
import { DatasetRegistry } from './data/registry';
import { TokenCache } from './data/token-cache';
import { ORT_VERSION, probeExecutionProviders } from './engine/runtime/ort';
import { OrtRuntime } from './engine/runtime/ort-runtime';
import type { MixtureSolver } from './mixture/solver';
import { createMixtureSolver } from './mixture/solver';
import { appVersion, dataLayout, resourcesDir, type DataLayout } from './paths';
import { DatasetsService } from './services/datasets';
import { createDispatch, type Dispatch } from './services/dispatch';
import { EventBus } from './services/event-bus';
import { ExperimentsService } from './services/experiments';
import { DialogService, FilesService, RecentPathsFile, type NativeDialog } from './services/files';
import { GenerateService } from './services/generate';
import { createHandlers, type Services } from './services/index';
import { MixtureService } from './services/mixture';
import { ModelsService } from './services/models';
import { forwardRunEvents, SupervisorRunControl } from './services/run-control';
import { RunsService } from './services/runs';
import { SystemService } from './services/system';
import { Uploads } from './services/uploads';
import { ForkProcessLauncher, type ProcessLauncher } from './runner/process-launcher';
import { RemoteRunHost } from './runner/remote-host';
import { RunSupervisor } from './runner/supervisor';
import { CheckpointFiles } from './store/checkpoints';
import { Store } from './store/index';

export interface CoreOptions {
  dataDir: string;
  electronVersion?: string | null;
  /** Where internal errors (with stacks) are logged; the caller gets only their message. */
  logError?: (method: string, err: unknown) => void;
  /** better-sqlite3's addon built for this runtime (the desktop app's Electron build); default: the Node build. */
  sqliteNativeBinding?: string;
  /** The desktop app's open dialogs; absent in serve, where dialog calls are refused in words. */
  nativeDialog?: NativeDialog;
  /** How trainer processes start: the app passes its utilityProcess launcher; default, Node children (fork). */
  launcher?: ProcessLauncher;
  /** Bundled resources (tests point this at fixtures). */
  resourcesDir?: string;
}

export interface Core {
  layout: DataLayout;
  bus: EventBus;
  store: Store;
  supervisor: RunSupervisor;
  services: Services;
  dispatch: Dispatch;
  /** The mixture controller for external trainers (controller.*), which `dynamics serve` exposes beside `dispatch`. */
  controller: { host: RemoteRunHost; dispatch: Dispatch };
  close(): Promise<void>;
}

export function createCore(options: CoreOptions): Core {
  const layout = dataLayout(options.dataDir);
  mkdirSync(layout.root, { recursive: true });
  const resources = options.resourcesDir ?? resourcesDir();
  const version = appVersion();
  const bus = new EventBus();
  const store = Store.open(layout.database, { appVersion: version, ...(options.sqliteNativeBinding ? { nativeBinding: options.sqliteNativeBinding } : {}) });
  const checkpointFiles = new CheckpointFiles(layout.runs);
  store.runs.keepIdsAbove(checkpointFiles.highestRunFolderId());
  const registry = new DatasetRegistry(new JsonDatasetCatalog(layout.datasets), layout.datasets, new TokenCache(layout.tokenCache));
  registry.sweepInterruptedImports();
  const uploads = new Uploads(path.join(layout.root, 'uploads'));
  const recent = new RecentPathsFile(path.join(layout.root, 'recent-imports.json'));
  const corporaDir = path.join(resources, 'corpora');
  let solver: Promise<MixtureSolver> | null = null;
  // The fork launcher looks for the trainer entry when the first run starts, not before.
  let forkLauncher: ProcessLauncher | null = null;
  const launcher: ProcessLauncher = options.launcher ?? { launch: (request) => (forkLauncher ??= new ForkProcessLauncher()).launch(request) };
  const supervisor = new RunSupervisor({
    store,
    files: checkpointFiles,
    launcher,
    engine: { graphCacheDir: layout.graphCache, tokenCacheDir: layout.tokenCache, datasetsDir: layout.datasets, resourcesDir: resources },
    appVersion: version,
    defaultBaseDir: layout.root,
    onListenerError: (err) => options.logError?.('run events', err),
  });
  const shapeOf = (id: number) => {
    const r = store.reader.get(id);
    return { sources: r.sources, domains: r.domains, tokensSeen: r.tokensSeen };
  };
  const stopForwarding = forwardRunEvents(supervisor, bus, shapeOf);
  const remote = new RemoteRunHost({ store, files: checkpointFiles, solver: () => (solver ??= createMixtureSolver()), baseDir: layout.root });
  const stopForwardingRemote = forwardRunEvents(remote, bus, shapeOf);

  const models = new ModelsService(store.catalog, path.join(resources, 'models'), bus);
  const datasets = new DatasetsService({ registry, corporaDir, models, uploads, events: bus, recent });
  const runs = new RunsService({
    reader: store.reader,
    edits: store.runs,
    removeRunFiles: (runId, paths) => {
      checkpointFiles.remove(paths);
      checkpointFiles.removeRunFolder(runId);
    },
    control: new SupervisorRunControl(supervisor, layout.root),
    events: bus,
  });
  const generate = new GenerateService({
    runtime: new OrtRuntime(),
    graphCacheDir: layout.graphCache,
    models,
    adapters: {
      get: (id) => store.reader.get(id),
      checkpoints: (id) => store.reader.checkpoints(id),
      load: (record) => checkpointFiles.load(record),
    },
    events: bus,
  });
  const services: Services = {
    system: new SystemService({
      appVersion: version,
      onnxRuntimeVersion: ORT_VERSION,
      dataDir: layout.root,
      electronVersion: options.electronVersion ?? null,
      probeExecutionProviders,
    }),
    models,
    datasets,
    experiments: new ExperimentsService({ models, datasets, baseDir: layout.root }),
    runs,
    mixture: new MixtureService({
      solver: () => (solver ??= createMixtureSolver()),
      decisions: (id) => runs.decisions(id),
      config: (id) => store.reader.get(id).config,
    }),
    generate,
    files: new FilesService({ corporaDir, dataDir: layout.root, recent }),
    dialog: new DialogService(options.nativeDialog ?? null),
  };
  const dispatch = createDispatch(contract, createHandlers(services), { onInternalError: options.logError });
  const controllerDispatch = createDispatch(controllerContract, { controller: remote.handlers }, { onInternalError: options.logError });
  let closed = false;
  return {
    layout,
    bus,
    store,
    supervisor,
    services,
    dispatch,
    controller: { host: remote, dispatch: controllerDispatch },
    close: async () => {
      if (closed) return;
      closed = true;
      await remote.close();
      await supervisor.close();
      stopForwarding();
      stopForwardingRemote();
      await generate.close();
      uploads.close();
      store.close();
    },
  };
}
