// How charts are drawn: canvas in the app. Tests provide the SVG renderer and a fixed size (their
// DOM has no canvas and no layout).
import type { InjectionKey } from 'vue';

export interface ChartEnvironment {
  renderer: 'canvas' | 'svg';
  /** Fixed size in pixels; by default the chart fills its box. */
  width?: number;
  height?: number;
}
export const CHART_ENV_KEY: InjectionKey<ChartEnvironment> = Symbol('dynamics.chartEnvironment');
