// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import globals from 'globals';
import throughEntryPlugin from './eslint-rules/through-entry.js';
import { layerImports } from './eslint-rules/layer-imports.js';

/** One plugin named `local` for all of this project's rules (a second plugin of that name would replace it). */
const localRules = { rules: { ...throughEntryPlugin.rules, 'layer-imports': layerImports } };

const NODE_BUILTINS = [
  'assert', 'buffer', 'child_process', 'cluster', 'crypto', 'dgram', 'dns', 'events', 'fs', 'fs/promises', 'http',
  'http2', 'https', 'net', 'os', 'path', 'perf_hooks', 'process', 'readline', 'stream', 'tls', 'url', 'util',
  'worker_threads', 'zlib',
];
const nodeImports = [{ group: ['node:*'], message: 'Node APIs are not available here.' }];
const nodePaths = NODE_BUILTINS.map((name) => ({ name, message: 'Node APIs are not available here.' }));
const electronPaths = [{ name: 'electron', message: 'Electron is reached only through the bridge in shared/bridge.ts.' }];

// The PBX's layers (docs/architecture.md, "The PBX, inside"), lowest first. The composition root (pbx.ts,
// sip-service.ts, cli.ts) wires them and is imported by none of them.
const COMPOSITION_ROOT = ['server/pbx', 'server/sip-service', 'server/cli', 'server/cli-device'];
const ABOVE_STORE = ['server/calls', 'server/routing', 'server/features', 'server/presence', 'server/events', 'server/api'];
const PBX_LAYERS = [
  {
    folder: 'server/util',
    never: ['server/auth', 'server/sip', 'server/media', 'server/store', ...ABOVE_STORE, ...COMPOSITION_ROOT],
    why: 'util/ holds small tools every layer may use, so it uses none of them.',
  },
  {
    folder: 'server/auth',
    never: ['server/sip', 'server/media', 'server/store', ...ABOVE_STORE, ...COMPOSITION_ROOT],
    why: 'auth/ (digest, passwords, attempt limits) sits under the SIP edge and the store, which both use it.',
  },
  {
    folder: 'server/sip',
    never: ['server/media', 'server/store', ...ABOVE_STORE, ...COMPOSITION_ROOT],
    why: 'the SIP stack knows no users, no database and no media; it is handed interfaces (credentials, dial policy) by the composition root.',
  },
  {
    folder: 'server/media',
    never: ['server/sip', 'server/store', ...ABOVE_STORE, ...COMPOSITION_ROOT],
    why: 'media legs and joins know neither SIP (SDP is their contract) nor the database.',
  },
  {
    folder: 'server/store',
    never: ['server/sip', 'server/media', ...ABOVE_STORE, ...COMPOSITION_ROOT],
    why: 'the store holds the SQL and serves the layers above it, which it does not know.',
  },
  {
    folder: 'server/events',
    never: ['server/sip', 'server/media', 'server/calls', 'server/routing', 'server/features', 'server/presence', 'server/api', ...COMPOSITION_ROOT],
    why: 'the event hub needs only the store; its publishers reach it through the EventPublisher interface.',
  },
  {
    folder: 'server/calls',
    never: ['server/routing', 'server/features', 'server/api', ...COMPOSITION_ROOT],
    typesOnly: ['server/events'],
    why: 'a call reaches routing and features through its ports (calls/ports.ts), and the event hub through the EventPublisher interface.',
  },
  {
    folder: 'server/routing',
    never: ['server/features', 'server/api', ...COMPOSITION_ROOT],
    why: 'the dialplan names destinations; the features that serve them sit above it.',
  },
  {
    folder: 'server/features',
    never: ['server/api', ...COMPOSITION_ROOT],
    why: 'a feature is called by the API (and by SIP handlers); it never calls back into them.',
  },
  {
    folder: 'server/presence',
    never: ['server/features', 'server/api', ...COMPOSITION_ROOT],
    why: 'the registrar and subscriptions sit below the features and the API that use them.',
  },
  {
    folder: 'server/api',
    never: ['server/sip', ...COMPOSITION_ROOT],
    why: 'the API is handed what it needs of SIP (the WebSocket front door) by the composition root, through an interface of its own.',
  },
];
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
  // The PBX's layers, one block for them all (a rule's options in a later block would replace those of an earlier one).
  // A PBX feature, like a renderer feature, is entered through its index.ts only.
  {
    files: ['server/**/*.ts'],
    rules: {
      'local/layer-imports': ['error', { layers: PBX_LAYERS }],
      'local/through-entry': ['error', { modules: ['server/features/*'] }],
    },
  },
  // No source file grows past 500 lines without a reason written at its top (then an eslint-disable of this rule,
  // with that reason beside it).
  {
    files: ['**/*.{ts,js,mjs,vue}'],
    rules: { 'max-lines': ['warn', { max: 500, skipBlankLines: true, skipComments: true }] },
  },
  // The renderer-side product code must log through its logger, not the console.
  {
    files: ['server/**/*.ts', 'main/**/*.ts', 'renderer/**/*.{ts,vue}'],
    ignores: ['**/*.test.ts', 'server/cli.ts'],
    rules: { 'no-console': 'error' },
  },
);
