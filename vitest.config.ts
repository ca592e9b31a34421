import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

// Four projects, run in this order by `npm test`: fast unit tests beside the code, integration tests
// against a real PBX and SQLite, end-to-end tests that drive Chromium through a real PBX,
// and interop tests with real SIP peers from Debian (SIPp, baresip).
export default defineConfig({
  plugins: [vue()],
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['shared/**/*.test.ts', 'server/**/*.test.ts', 'main/**/*.test.ts', 'preload/**/*.test.ts', 'renderer/**/*.test.ts'],
          environment: 'node',
          // Vitest's default is one worker fewer than the cores: one, on the two-core machines CI runs on.
          maxWorkers: 2,
          setupFiles: ['tests/hashing-cost.setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          // Three files at a time: each runs a PBX of its own (own ports, own data folder), and most of their time
          // is spent waiting on the network and timers, not on the CPU.
          maxWorkers: 3,
          setupFiles: ['tests/hashing-cost.setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 90_000,
          hookTimeout: 60_000,
          // Two files at a time: each runs its own PBX and browsers (own ports and folders). Measured on the same
          // two-core machine on one day: 893 s in all, against 1036 s one file at a time.
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: {
          name: 'interop',
          include: ['tests/interop/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
