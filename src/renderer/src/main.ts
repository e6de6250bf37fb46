// Renderer entry: one API facade, Pinia, the router, then the shell.
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { createApi, detectTransport, installApi } from './api';
import { createAppRouter } from './router';
import './styles.css';

const app = createApp(App);
try {
  installApi(app, createApi(detectTransport(window)));
} catch (err) {
  document.body.textContent = err instanceof Error ? err.message : String(err);
  throw err;
}
app.use(createPinia());
app.use(createAppRouter());
app.mount('#app');
