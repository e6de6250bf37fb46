// Registers the ECharts parts the app draws with (tree-shaken: only these are bundled). ECharts
// keeps its own registry; calling `use` again is harmless, so every chart module imports this.
import { BarChart, HeatmapChart, LineChart, ScatterChart } from 'echarts/charts';
import {
  DataZoomComponent,
  GridComponent,
  LegendComponent,
  MarkAreaComponent,
  MarkLineComponent,
  MarkPointComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components';
import { use } from 'echarts/core';
import { LabelLayout } from 'echarts/features';
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers';

use([
  LineChart,
  BarChart,
  HeatmapChart,
  ScatterChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  TitleComponent,
  VisualMapComponent,
  MarkLineComponent,
  MarkAreaComponent,
  MarkPointComponent,
  DataZoomComponent,
  // Hides labels that would overlap (the outcome map's run ids on crowded dots).
  LabelLayout,
  CanvasRenderer,
  // The SVG renderer draws where there is no canvas (the component tests' DOM).
  SVGRenderer,
]);
