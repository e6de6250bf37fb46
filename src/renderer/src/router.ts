// The app's views. Hash history, so the same build works from file:// in Electron and over HTTP.
// `navigation` is the sidebar (with each view's "g then key" shortcut); the run view is reached
// from the runs table and after starting a run.
import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';
import CompareView from './views/CompareView.vue';
import DatasetsView from './views/DatasetsView.vue';
import ExperimentView from './views/ExperimentView.vue';
import ModelsView from './views/ModelsView.vue';
import RunView from './views/RunView.vue';
import RunsView from './views/RunsView.vue';
import SystemView from './views/SystemView.vue';
import TryView from './views/TryView.vue';
import WhatIfView from './views/WhatIfView.vue';

export const navigation = [
  { path: '/models', name: 'models', title: 'Models', key: 'm', component: ModelsView },
  { path: '/datasets', name: 'datasets', title: 'Datasets', key: 'd', component: DatasetsView },
  { path: '/experiment', name: 'experiment', title: 'Experiment', key: 'e', component: ExperimentView },
  { path: '/runs', name: 'runs', title: 'Runs', key: 'r', component: RunsView },
  { path: '/compare', name: 'compare', title: 'Compare', key: 'c', component: CompareView },
  { path: '/whatif', name: 'whatif', title: 'What-if', key: 'w', component: WhatIfView },
  { path: '/try', name: 'try', title: 'Try', key: 't', component: TryView },
  { path: '/system', name: 'system', title: 'System', key: 's', component: SystemView },
] as const;

export function createAppRouter() {
  const routes: RouteRecordRaw[] = [
    { path: '/', redirect: '/experiment' },
    ...navigation.map(({ path, name, component, title }) => ({ path, name, component, meta: { title } })),
    { path: '/runs/:id(\\d+)', name: 'run', component: RunView, props: (r) => ({ id: Number(r.params.id) }), meta: { title: 'Run' } },
  ];
  return createRouter({ history: createWebHashHistory(), routes });
}
