// Lint rules, including the layering rules of DESIGN.md: which folders may import what.
import js from '@eslint/js';
import globals from 'globals';
import vue from 'eslint-plugin-vue';
import tseslint from 'typescript-eslint';

const electronOnlyIn = 'electron may be imported only in src/main/app and src/preload';
const noOrt = { group: ['onnxruntime-node', 'onnxruntime-common'], message: 'only src/main/engine/runtime imports onnxruntime-node' };
const noUi = { group: ['vue', 'vue/*', 'pinia', 'vue-router', 'echarts', 'vue-echarts', '**/renderer/**'], message: 'core code must not depend on the UI' };

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'coverage/**', 'resources/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } },
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/attributes-order': 'off',
    },
  },
  // Node-side code (core, CLI, scripts, tests): Node globals.
  {
    files: ['src/main/**', 'src/preload/**', 'scripts/**', 'tests/**', 'bin/**', '*.config.*', '.ci/**'],
    languageOptions: { globals: { ...globals.node } },
  },
  { files: ['src/renderer/**'], languageOptions: { globals: { ...globals.browser } } },
  // onnxruntime-node belongs to the runtime adapter only. The blocks below narrow this per folder;
  // in flat config a later block's rule replaces an earlier one's, so each restates what it keeps.
  {
    files: ['src/**'],
    ignores: ['src/main/engine/runtime/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [noOrt],
      }],
    },
  },
  // src/shared: pure TypeScript, no Node, no DOM, no Electron, no UI.
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'child_process', 'crypto'], message: 'src/shared is pure: no Node modules' },
          { group: ['electron'], message: electronOnlyIn },
          noUi,
          { group: ['**/main/**', '**/preload/**'], message: 'src/shared imports only itself' },
          noOrt,
        ],
      }],
    },
  },
  // The core (engine, data, mixture, store, runner, services, serve, cli): no Electron, no UI.
  {
    files: ['src/main/**'],
    ignores: ['src/main/app/**', 'src/main/engine/runtime/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['electron'], message: electronOnlyIn }, noUi, noOrt] }],
    },
  },
  {
    files: ['src/main/app/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [noUi, noOrt],
      }],
    },
  },
  {
    files: ['src/main/engine/runtime/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['electron'], message: electronOnlyIn }, noUi] }] },
  },
  // The renderer imports only src/shared and itself: no Node, no Electron, no main code.
  {
    files: ['src/renderer/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'child_process', 'crypto', 'better-sqlite3', 'onnxruntime-node', 'ws'], message: 'the renderer runs in a browser: no Node modules' },
          { group: ['electron'], message: electronOnlyIn },
          { group: ['**/main/**', '**/preload/**'], message: 'the renderer imports only src/shared and itself' },
        ],
      }],
    },
  },
  {
    files: ['src/preload/**'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [noUi, noOrt, { group: ['**/main/**'], message: 'the preload imports only src/shared' }, { group: ['zod'], message: 'keep the preload tiny: no runtime dependencies' }],
      }],
    },
  },
);
