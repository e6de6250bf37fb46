// The app's views. Hash history, so the same build works from file:// in Electron and over HTTP.
import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';
import DatasetsView from './views/DatasetsView.vue';
import ExperimentView from './views/ExperimentView.vue';
import ModelsView from './views/ModelsView.vue';
import RunsView from './views/RunsView.vue';
import SystemView from './views/SystemView.vue';
import TryView from './views/TryView.vue';

export const navigation = [
  { path: '/models', name: 'models', title: 'Models', component: ModelsView },
  { path: '/datasets', name: 'datasets', title: 'Datasets', component: DatasetsView },
  { path: '/experiment', name: 'experiment', title: 'Experiment', component: ExperimentView },
  { path: '/runs', name: 'runs', title: 'Runs', component: RunsView },
  { path: '/try', name: 'try', title: 'Try', component: TryView },
  { path: '/system', name: 'system', title: 'System', component: SystemView },
] as const;

export function createAppRouter() {
  const routes: RouteRecordRaw[] = [
    { path: '/', redirect: '/experiment' },
    ...navigation.map(({ path, name, component, title }) => ({ path, name, component, meta: { title } })),
  ];
  return createRouter({ history: createWebHashHistory(), routes });
}
