// Flat config: typescript-eslint's recommended rules over the whole repo.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'coverage/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // The admin console: plain ES modules that run in the browser (served from console/ by the API).
    files: ['console/**/*.js'],
    // The browser globals it uses, listed rather than taken from the `globals` package (not a dependency here).
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['window', 'document', 'sessionStorage', 'fetch', 'HTMLElement', 'customElements', 'CustomEvent', 'Node', 'TextEncoder', 'btoa', 'Blob', 'URL', 'setTimeout', 'setInterval', 'clearInterval'].map((g) => [g, 'readonly']),
      ),
    },
  },
);
