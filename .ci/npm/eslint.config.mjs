// ESLint for pwa/ (run by `make lint`): the recommended rules, ES modules in
// the browser, and the service worker as the classic script it is.
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    files: ['pwa/**/*.js'],
    ignores: ['pwa/sw.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: globals.browser,
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    // Registered with `navigator.serviceWorker.register('/sw.js')`, not as a
    // module; the server prepends `const SHELL = {...}` (server/pwa/shell.py).
    files: ['pwa/sw.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'script',
      globals: { ...globals.serviceworker, SHELL: 'readonly' },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
];
