// Which ECharts renderer charts use: canvas in the app; tests provide 'svg' (their DOM has no canvas).
import type { InjectionKey } from 'vue';

export type ChartRenderer = 'canvas' | 'svg';
export const CHART_RENDERER_KEY: InjectionKey<ChartRenderer> = Symbol('dynamics.chartRenderer');
