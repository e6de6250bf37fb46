// The process tests' world in a temp folder removed after the test file (see process-world.ts).
import { tempDir } from '../../helpers/temp';
import { processWorldIn, SHORT_CONFIG, type ProcessWorld } from './process-world';

export * from './process-world';

export function processWorld(prefix: string, config: string = SHORT_CONFIG): ProcessWorld {
  return processWorldIn(tempDir(prefix), config);
}
