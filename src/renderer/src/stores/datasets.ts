// The datasets noun: bundled corpora and imported files, one dataset's stats and problems, a
// preview of examples as a model sees them, and importing a file (a path on the core's machine,
// or a local file uploaded in chunks from a browser) with progress and a line-numbered report.
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { EventMap } from '../../../shared/events';
import type { CheckReport, DatasetDetails, DatasetPreview, DatasetSummary } from '../../../shared/services/datasets';
import { useApi } from '../api';
import { errorMessage } from '../format';
import { newProgressId } from './progress-id';

export type DatasetImportProgress = EventMap['dataset.import.progress'];

/** A local file to upload, without the DOM: the view adapts a File (tests pass bytes). */
export interface LocalFile {
  name: string;
  size: number;
  read(start: number, end: number): Promise<Uint8Array>;
}

export interface ImportRequest {
  name: string;
  /** A file on the machine running the core… */
  path?: string;
  /** …or a local file to upload first. */
  file?: LocalFile;
  format?: 'jsonl' | 'text';
  textMode?: 'paragraphs' | 'file';
  tokenizerModelId?: string;
}

export type PreviewSplit = 'train' | 'eval' | 'test';

function toBase64(bytes: Uint8Array): string {
  let s = '';
  const step = 0x8000;
  for (let i = 0; i < bytes.length; i += step) s += String.fromCharCode(...bytes.subarray(i, i + step));
  return btoa(s);
}

/** What a dataset name may be (the catalog's rule), derived from a file name. */
export function datasetNameFrom(fileName: string): string {
  const base = fileName.replace(/^.*[\\/]/, '').replace(/\.(jsonl|json|txt|text|md)(\.gz)?$/i, '');
  const cleaned = base.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return cleaned || 'dataset';
}

export const useDatasetsStore = defineStore('datasets', () => {
  const api = useApi();
  const list = ref<DatasetSummary[]>([]);
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref<string | null>(null);

  const selectedId = ref<string | null>(null);
  const details = ref<DatasetDetails | null>(null);
  const detailsError = ref<string | null>(null);

  const preview = shallowRef<DatasetPreview | null>(null);
  const previewError = ref<string | null>(null);
  const previewLoading = ref(false);
  const previewModelId = ref<string | null>(null);
  const previewOffset = ref(0);
  const previewCount = ref(5);
  const previewSplit = ref<PreviewSplit | null>(null);

  const importing = ref(false);
  const importProgress = ref<DatasetImportProgress | null>(null);
  const importError = ref<string | null>(null);
  /** The check report of the last file refused (problems with their lines), or null. */
  const importReport = ref<CheckReport | null>(null);

  const selected = computed(() => list.value.find((d) => d.id === selectedId.value) ?? null);

  async function load(): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      list.value = await api.datasets.list();
      loaded.value = true;
      if (selectedId.value !== null && !list.value.some((d) => d.id === selectedId.value)) {
        selectedId.value = null;
        details.value = null;
        preview.value = null;
      }
    } catch (err) {
      error.value = errorMessage(err);
    } finally {
      loading.value = false;
    }
  }

  let previewRequest = 0;
  async function loadPreview(): Promise<void> {
    const id = selectedId.value;
    if (id === null) return;
    const mine = ++previewRequest;
    previewLoading.value = true;
    previewError.value = null;
    try {
      const p = await api.datasets.preview({
        id,
        count: previewCount.value,
        offset: previewOffset.value,
        ...(previewSplit.value ? { split: previewSplit.value } : {}),
        ...(previewModelId.value ? { modelId: previewModelId.value } : {}),
      });
      if (mine === previewRequest) preview.value = p;
    } catch (err) {
      if (mine === previewRequest) {
        preview.value = null;
        previewError.value = errorMessage(err);
      }
    } finally {
      if (mine === previewRequest) previewLoading.value = false;
    }
  }

  let detailsRequest = 0;
  async function select(id: string): Promise<void> {
    selectedId.value = id;
    previewOffset.value = 0;
    const mine = ++detailsRequest;
    detailsError.value = null;
    details.value = null;
    preview.value = null;
    try {
      const d = await api.datasets.get({ id });
      if (mine === detailsRequest) details.value = d;
    } catch (err) {
      if (mine === detailsRequest) detailsError.value = errorMessage(err);
    }
    await loadPreview();
  }

  async function pagePreview(delta: number): Promise<void> {
    const total = preview.value?.total ?? Infinity;
    const next = Math.max(0, previewOffset.value + delta * previewCount.value);
    if (next >= total) return;
    previewOffset.value = next;
    await loadPreview();
  }

  async function upload(file: LocalFile, progressId: string, name: string): Promise<string> {
    const ticket = await api.datasets.uploadBegin({ fileName: file.name, bytes: file.size });
    if (file.size > ticket.maxBytes) {
      await api.datasets.uploadDiscard({ uploadId: ticket.uploadId });
      throw new Error(`${file.name} is ${file.size} bytes; an upload may hold at most ${ticket.maxBytes} (import it by its path instead)`);
    }
    try {
      for (let offset = 0; offset < file.size; offset += ticket.chunkBytes) {
        const end = Math.min(offset + ticket.chunkBytes, file.size);
        const bytes = await file.read(offset, end);
        await api.datasets.uploadChunk({ uploadId: ticket.uploadId, offset, data: toBase64(bytes) });
        importProgress.value = { progressId, name, phase: 'uploading', bytesDone: end, bytesTotal: file.size, records: 0 };
      }
    } catch (err) {
      await api.datasets.uploadDiscard({ uploadId: ticket.uploadId }).catch(() => undefined);
      throw err;
    }
    return ticket.uploadId;
  }

  /** Imports a file; resolves to the dataset, or null when refused (see importError / importReport). */
  async function importFile(req: ImportRequest): Promise<DatasetDetails | null> {
    const progressId = newProgressId('dataset');
    importing.value = true;
    importError.value = null;
    importReport.value = null;
    importProgress.value = { progressId, name: req.name, phase: req.file ? 'uploading' : 'copying', bytesDone: 0, bytesTotal: req.file?.size ?? 0, records: 0 };
    const off = api.on('dataset.import.progress', (p) => {
      if (p.progressId === progressId) importProgress.value = p;
    });
    let source: { path: string } | { uploadId: string } | null = null;
    try {
      if (req.file) source = { uploadId: await upload(req.file, progressId, req.name) };
      else if (req.path?.trim()) source = { path: req.path.trim() };
      else throw new Error('choose a file to import');
      const options = {
        name: req.name.trim(),
        ...(req.format ? { format: req.format } : {}),
        ...(req.textMode ? { textMode: req.textMode } : {}),
        ...(req.tokenizerModelId ? { tokenizerModelId: req.tokenizerModelId } : {}),
        progressId,
      };
      const d = await api.datasets.import({ ...source, ...options });
      await load();
      await select(d.id);
      return d;
    } catch (err) {
      importError.value = errorMessage(err);
      // A refused file: ask for its report so the user sees every problem with its line.
      if (source) {
        importReport.value = await api.datasets.check({ ...source, ...(req.format ? { format: req.format } : {}) }).catch(() => null);
        if ('uploadId' in source) await api.datasets.uploadDiscard(source).catch(() => undefined);
      }
      return null;
    } finally {
      off();
      importing.value = false;
      importProgress.value = null;
    }
  }

  /** Checks a file on the core's machine without importing it (the problems with their lines). */
  async function check(path: string, format?: 'jsonl' | 'text'): Promise<CheckReport | null> {
    importError.value = null;
    try {
      importReport.value = await api.datasets.check({ path: path.trim(), ...(format ? { format } : {}) });
      return importReport.value;
    } catch (err) {
      importError.value = errorMessage(err);
      importReport.value = null;
      return null;
    }
  }

  async function remove(id: string): Promise<void> {
    error.value = null;
    try {
      await api.datasets.remove({ id });
      if (selectedId.value === id) {
        selectedId.value = null;
        details.value = null;
        preview.value = null;
      }
      await load();
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  return {
    list, loaded, loading, error, selectedId, selected, details, detailsError,
    preview, previewError, previewLoading, previewModelId, previewOffset, previewCount, previewSplit,
    importing, importProgress, importError, importReport,
    load, select, loadPreview, pagePreview, importFile, check, remove,
  };
});
