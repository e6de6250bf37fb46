// Colours for charts. Categorical colours are assigned by position (run i of a comparison, source j
// of a run) so the same run or source keeps its colour in every chart of a view. The first ten are
// Tableau 10 (distinguishable under the common colour-vision deficiencies); the next ten are their
// lighter partners, so 20 runs stay apart.
import type { ThemeName } from '../stores/preferences';

const CATEGORICAL = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
  '#a0cbe8', '#ffbe7d', '#8cd17d', '#b6992d', '#f1ce63', '#499894', '#86bcb6', '#d37295', '#fabfd2', '#79706e',
];

export function categoricalColor(index: number): string {
  return CATEGORICAL[((index % CATEGORICAL.length) + CATEGORICAL.length) % CATEGORICAL.length]!;
}

// Sources (mixture areas) use a softer, different family, so a source is never mistaken for a run
// in the compare view, where both appear (ColorBrewer Set2 then Pastel1-like tones).
const SOURCE_COLORS = ['#66c2a5', '#fc8d62', '#8da0cb', '#e78ac3', '#a6d854', '#ffd92f', '#e5c494', '#b3b3b3', '#1b9e77', '#d95f02', '#7570b3', '#e7298a'];

export function sourceColor(index: number): string {
  return SOURCE_COLORS[((index % SOURCE_COLORS.length) + SOURCE_COLORS.length) % SOURCE_COLORS.length]!;
}

/** Theme-dependent colours charts draw with (kept beside the CSS variables of styles.css). */
export interface ChartColors {
  text: string;
  muted: string;
  axis: string;
  grid: string;
  surface: string;
  good: string;
  bad: string;
  warn: string;
  /** Reference (threshold) lines: neutral, so they are never mistaken for a run or a domain. */
  reference: string;
  /** Diverging scale for slopes: negative (helps) → neutral → positive (hurts). */
  diverging: [string, string, string, string, string];
}

export function chartColors(theme: ThemeName): ChartColors {
  if (theme === 'dark') {
    return {
      text: '#e6e9ee',
      muted: '#98a2b3',
      axis: '#4a5363',
      grid: '#2a303a',
      surface: '#1a1e24',
      good: '#46c07a',
      bad: '#ef6a6a',
      warn: '#e0a84a',
      reference: '#c9d1dc',
      diverging: ['#2b7bd6', '#6fa3e0', '#2a2f38', '#e58a6b', '#e0453a'],
    };
  }
  return {
    text: '#1b1f24',
    muted: '#5f6b7a',
    axis: '#b8c0cc',
    grid: '#e6e9ee',
    surface: '#ffffff',
    good: '#1f8a4c',
    bad: '#c23a3a',
    warn: '#b7791f',
    reference: '#3d4652',
    diverging: ['#2166ac', '#92c5de', '#f7f7f7', '#f4a582', '#b2182b'],
  };
}
