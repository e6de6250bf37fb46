// The system noun: versions, execution providers and resources of the machine the core runs on.
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { SystemInfo } from '../../../shared/services/system';
import { useApi } from '../api';

export const useSystemStore = defineStore('system', () => {
  const api = useApi();
  const info = ref<SystemInfo | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);

  const device = computed(() => {
    const cuda = info.value?.executionProviders.find((p) => p.name === 'cuda');
    return cuda?.usable ? 'CUDA' : 'CPU';
  });

  async function load(): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      info.value = await api.system.info();
    } catch (err) {
      error.value = err instanceof Error ? err.message : String(err);
    } finally {
      loading.value = false;
    }
  }

  return { info, loading, error, device, load };
});
