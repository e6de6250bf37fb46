// The models noun: bundled and imported base models, one model's details with a memory estimate
// for the training shape the user is considering, and importing a Hugging Face folder with progress.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { EventMap } from '../../../shared/events';
import type { ModelDetails, ModelSummary } from '../../../shared/services/models';
import { useApi } from '../api';
import { errorMessage } from '../format';
import { newProgressId } from './progress-id';

export type ModelImportProgress = EventMap['model.import.progress'];

export interface EstimateShape {
  batchSize: number;
  seqLen: number;
  loraRank: number;
}

export const useModelsStore = defineStore('models', () => {
  const api = useApi();
  const list = ref<ModelSummary[]>([]);
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref<string | null>(null);

  const selectedId = ref<string | null>(null);
  const details = ref<ModelDetails | null>(null);
  const detailsLoading = ref(false);
  const detailsError = ref<string | null>(null);
  const estimate = ref<EstimateShape>({ batchSize: 8, seqLen: 512, loraRank: 8 });

  const importing = ref(false);
  const importProgress = ref<ModelImportProgress | null>(null);
  const importError = ref<string | null>(null);

  const selected = computed(() => list.value.find((m) => m.id === selectedId.value) ?? null);
  const bundled = computed(() => list.value.filter((m) => m.origin === 'bundled'));
  const usable = computed(() => list.value.filter((m) => m.problem === null));

  async function load(): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      list.value = await api.models.list();
      loaded.value = true;
      if (selectedId.value === null || !list.value.some((m) => m.id === selectedId.value)) {
        selectedId.value = list.value[0]?.id ?? null;
      }
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loading.value = false;
    }
  }

  let detailsRequest = 0;
  async function loadDetails(): Promise<void> {
    const id = selectedId.value;
    if (id === null) {
      details.value = null;
      return;
    }
    const mine = ++detailsRequest;
    detailsLoading.value = true;
    detailsError.value = null;
    try {
      const d = await api.models.info({ id, ...estimate.value });
      if (mine === detailsRequest) details.value = d;
    } catch (err) {
      if (mine === detailsRequest) {
        details.value = null;
        detailsError.value = errorMessage(err);
      }
    } finally {
      if (mine === detailsRequest) detailsLoading.value = false;
    }
  }

  async function select(id: string): Promise<void> {
    selectedId.value = id;
    await loadDetails();
  }

  /** Registers a Hugging Face folder; resolves to the new model, or null when refused (see importError). */
  async function importFolder(path: string, name?: string): Promise<ModelSummary | null> {
    const progressId = newProgressId('model');
    importing.value = true;
    importError.value = null;
    importProgress.value = { progressId, phase: 'reading', done: 0, total: 0, message: 'starting' };
    const off = api.on('model.import.progress', (p) => {
      if (p.progressId === progressId) importProgress.value = p;
    });
    try {
      const model = await api.models.import({ path: path.trim(), ...(name?.trim() ? { name: name.trim() } : {}), progressId });
      await load();
      await select(model.id);
      return model;
    } catch (err) {
      importError.value = errorMessage(err);
      return null;
    } finally {
      off();
      importing.value = false;
      importProgress.value = null;
    }
  }

  async function remove(id: string): Promise<void> {
    error.value = null;
    try {
      await api.models.remove({ id });
      if (selectedId.value === id) {
        selectedId.value = null;
        details.value = null;
      }
      await load();
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  return {
    list, loaded, loading, error, selectedId, selected, bundled, usable, details, detailsLoading, detailsError, estimate,
    importing, importProgress, importError, load, loadDetails, select, importFolder, remove,
  };
});
