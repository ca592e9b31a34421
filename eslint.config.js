// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import globals from 'globals';
import localRules from './eslint-rules/through-entry.js';

const NODE_BUILTINS = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises', 'http',
  'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'tls', 'url', 'util',
  'worker_threads', 'zlib',
];
const nodeImports = [{ group: ['node:*'], message: 'Node APIs are not available here.' }];
const nodePaths = NODE_BUILTINS.map((name) => ({ name, message: 'Node APIs are not available here.' }));
const electronPaths = [{ name: 'electron', message: 'Electron is reached only through the bridge in shared/bridge.ts.' }];
const jssipMessage = 'JsSIP is used only in renderer/phone/jssip/; the rest of the app knows the phone by the PhoneEngine port.';

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'bench/results/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' } },
  },
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
    },
  },
  // Layering: shared/ is pure TypeScript for every runtime; renderer/ runs in a browser sandbox.
  {
    files: ['shared/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': ['error', { paths: [...nodePaths, ...electronPaths], patterns: nodeImports }],
      'no-restricted-globals': ['error', 'window', 'document', 'navigator', 'process', 'Buffer', 'require', '__dirname'],
    },
  },
  {
    files: ['renderer/**/*.{ts,vue}'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { paths: [...nodePaths, ...electronPaths], patterns: nodeImports }],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require', '__dirname'],
    },
  },
  {
    files: ['renderer/**/*.test.ts'],
    languageOptions: { globals: { ...globals.node } },
  },
  // JsSIP only in the phone engine, renderer/phone/jssip/. Under its own rule name, so that the layering blocks'
  // no-restricted-imports (whose options replace one another for a file that several of them match) never drop it.
  {
    plugins: { local: localRules },
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [{ name: 'jssip', message: jssipMessage }], patterns: [{ group: ['jssip/*'], message: jssipMessage }] },
      ],
    },
  },
  { files: ['renderer/phone/jssip/**'], rules: { '@typescript-eslint/no-restricted-imports': 'off' } },
  // A renderer feature (views, cards, stores of one pane) and the JsSIP engine are each entered through their
  // index.ts only; inside its folder a module's files import each other freely.
  {
    files: ['renderer/**/*.{ts,vue}'],
    rules: { 'local/through-entry': ['error', { modules: ['renderer/features/*', 'renderer/phone/jssip'] }] },
  },
  // ui/ holds the components features share, so it knows no feature and no part of the shell.
  {
    files: ['renderer/ui/**/*.{ts,vue}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodePaths, ...electronPaths],
          patterns: [...nodeImports, { group: ['**/features', '**/features/**', '**/shell/**'], message: 'ui/ knows no feature: pass what it shows in.' }],
        },
      ],
    },
  },
  // The renderer-side product code must log through its logger, not the console.
  {
    files: ['server/**/*.ts', 'main/**/*.ts', 'renderer/**/*.{ts,vue}'],
    ignores: ['**/*.test.ts', 'server/cli.ts'],
    rules: { 'no-console': 'error' },
  },
);
