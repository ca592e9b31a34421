import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// A sandboxed preload is a single CommonJS script that may require 'electron' and nothing else, so the
// bridge code from shared/ is bundled in and the file is named .cjs (package.json says "type": "module").
export default defineConfig({
  build: {
    ssr: here('./preload/preload.ts'),
    outDir: here('./dist/preload'),
    emptyOutDir: true,
    target: 'node22',
    sourcemap: true,
    minify: false,
    rolldownOptions: {
      external: ['electron'],
      // The preload needs only the channel names from shared/bridge.ts; building the zod schemas beside
      // them has no effect, so their construction is dropped rather than shipped in every window.
      treeshake: { manualPureFunctions: ['z'] },
      output: { format: 'cjs', entryFileNames: 'preload.cjs', codeSplitting: false },
    },
  },
  ssr: {
    target: 'node',
    noExternal: true,
    external: ['electron'],
  },
});
