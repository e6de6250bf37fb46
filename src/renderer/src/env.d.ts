/// <reference types="vite/client" />
import type { DynamicsBridge } from '../../shared/bridge';

declare global {
  interface Window {
    /** Present in the Electron window (set by the preload); absent in a browser. */
    dynamics?: DynamicsBridge;
  }
}

declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent<object, object, unknown>;
  export default component;
}
