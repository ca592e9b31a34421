import { defineConfig } from 'vite';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// The Electron main process, built as one ES module (package.json says "type": "module", and Electron
// loads an ESM main since version 28). Electron and electron-store (ESM only, and it finds its files
// through Electron) stay imports resolved at run time; everything else from shared/ and npm is bundled.
export default defineConfig({
  build: {
    ssr: here('./main/main.ts'),
    outDir: here('./dist/main'),
    emptyOutDir: true,
    target: 'node22',
    sourcemap: true,
    minify: false,
    rolldownOptions: {
      external: ['electron', 'electron-store', 'better-sqlite3', ...builtinModules, /^node:/],
      output: { format: 'es', entryFileNames: 'main.js' },
    },
  },
  ssr: {
    target: 'node',
    noExternal: true,
    external: ['electron', 'electron-store', 'better-sqlite3'],
  },
});
