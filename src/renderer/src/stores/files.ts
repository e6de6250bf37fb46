// The files noun: choosing a file or folder on the machine that runs the core — a native dialog in
// the desktop app, or places and folder listings for a browser served by `dynamics serve`.
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { FolderListing, Place } from '../../../shared/services/files';
import { useApi } from '../api';
import { errorMessage } from '../format';

export const useFilesStore = defineStore('files', () => {
  const api = useApi();
  const native = ref<boolean | null>(null);
  const places = shallowRef<Place[]>([]);
  const listing = shallowRef<FolderListing | null>(null);
  const error = ref<string | null>(null);
  const loading = ref(false);

  async function init(): Promise<void> {
    if (native.value !== null) return;
    try {
      native.value = (await api.dialog.available()).native;
      if (!native.value) places.value = await api.files.places();
    } catch (err) {
      native.value = false;
      error.value = errorMessage(err);
    }
  }

  async function open(path: string): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      listing.value = await api.files.list({ path });
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loading.value = false;
    }
  }

  async function pickFile(title: string, extensions: string[]): Promise<string | null> {
    try {
      return (await api.dialog.openFile({ title, filters: [{ name: 'Data files', extensions }] })).path;
    } catch (err) {
      error.value = errorMessage(err);
      return null;
    }
  }
  async function pickFolder(title: string): Promise<string | null> {
    try {
      return (await api.dialog.openFolder({ title })).path;
    } catch (err) {
      error.value = errorMessage(err);
      return null;
    }
  }

  return { native, places, listing, error, loading, init, open, pickFile, pickFolder };
});
