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
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
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
          // Two files at a time: each starts its own PBX and browsers on ports and folders of its own, and most
          // of their time is spent waiting for sound to play out in real time, not on the CPU.
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
