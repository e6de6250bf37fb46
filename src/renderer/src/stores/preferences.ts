// The preferences noun: choices the user makes about how the app looks, kept for the session.
// The store holds state only; App.vue applies the theme to the document and remembers it.
import { defineStore } from 'pinia';
import { ref } from 'vue';

export type ThemeName = 'light' | 'dark';

export const usePreferencesStore = defineStore('preferences', () => {
  const theme = ref<ThemeName>('light');

  function setTheme(next: ThemeName): void {
    theme.value = next;
  }
  function toggleTheme(): void {
    theme.value = theme.value === 'dark' ? 'light' : 'dark';
  }

  return { theme, setTheme, toggleTheme };
});
