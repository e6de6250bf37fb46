// ECharts themes built from our palette, so charts follow the app's light/dark theme: transparent
// background (the card shows through), readable axis text, quiet grid lines.
import type { ThemeName } from '../stores/preferences';
import { chartColors } from './palette';

export function echartsTheme(name: ThemeName): Record<string, unknown> {
  const c = chartColors(name);
  const axis = {
    axisLine: { lineStyle: { color: c.axis } },
    axisTick: { lineStyle: { color: c.axis } },
    axisLabel: { color: c.muted },
    splitLine: { lineStyle: { color: c.grid } },
    nameTextStyle: { color: c.muted },
  };
  return {
    backgroundColor: 'transparent',
    textStyle: { color: c.text, fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif' },
    title: { textStyle: { color: c.text, fontSize: 13, fontWeight: 600 }, subtextStyle: { color: c.muted } },
    legend: { textStyle: { color: c.text }, inactiveColor: c.axis, pageTextStyle: { color: c.muted } },
    tooltip: {
      backgroundColor: c.surface,
      borderColor: c.axis,
      textStyle: { color: c.text },
    },
    categoryAxis: axis,
    valueAxis: axis,
    logAxis: axis,
    timeAxis: axis,
    visualMap: { textStyle: { color: c.muted } },
    dataZoom: { textStyle: { color: c.muted }, borderColor: c.axis },
    toolbox: { iconStyle: { borderColor: c.muted } },
  };
}

/**
 * A grid whose axis labels stay inside the chart: ECharts 6 keeps labels within `outerBounds`
 * (it replaced `containLabel`), so the same margins are given to both.
 */
export function gridWithin(m: { left: number; right: number; top: number; bottom: number }): Record<string, unknown> {
  return { ...m, outerBoundsMode: 'auto', outerBounds: { ...m } };
}
