// A renderer transport wired straight to a real core's dispatcher and event bus, so store and
// component tests exercise the real services without a server in between.
import type { Core } from '../../src/main/bootstrap';
import type { Transport } from '../../src/renderer/src/api/transport';

export function coreTransport(core: Core): Transport {
  return {
    call: (name, input) => core.dispatch(name, structuredClone(input)),
    onEvent: (listener) => core.bus.subscribe(listener),
  };
}
