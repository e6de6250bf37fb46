// The what-if comparison: the recorded mixture beside the re-solved one, one pair of bars per source.
import type { EChartsCoreOption } from 'echarts/core';
import type { ThemeName } from '../../stores/preferences';
import { chartColors } from '../palette';
import { gridWithin } from '../theme';

export function whatIfWeightsOption(sources: readonly string[], recorded: readonly number[], solved: readonly number[] | null, theme: ThemeName): EChartsCoreOption {
  const c = chartColors(theme);
  return {
    animation: false,
    tooltip: { trigger: 'axis', valueFormatter: (v: number) => `${(v * 100).toFixed(1)}%` },
    legend: { top: 0, data: ['recorded', 're-solved'] },
    grid: gridWithin({ left: 8, right: 12, top: 30, bottom: 8 }),
    xAxis: { type: 'category', data: [...sources], axisLabel: { interval: 0, rotate: sources.length > 5 ? 30 : 0 } },
    yAxis: { type: 'value', min: 0, max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}%` } },
    series: [
      { name: 'recorded', type: 'bar', data: [...recorded], color: c.muted, barGap: '10%' },
      { name: 're-solved', type: 'bar', data: solved ? [...solved] : [], color: '#4e79a7' },
    ],
  };
}
