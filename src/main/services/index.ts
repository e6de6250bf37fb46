// The handler table of the contract. Each service is a class taking its dependencies; this file
// maps contract methods onto them and holds no logic. A contract method missing here fails to compile.
import type { DynamicsHandlers } from '../../shared/contract';
import type { SystemService } from './system';

export interface Services {
  system: SystemService;
}

export function createHandlers(services: Services): DynamicsHandlers {
  return {
    system: {
      info: () => services.system.info(),
    },
  };
}
