import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

// The PBX is bundled into one ES module for Node; its npm dependencies stay external (SSR build default)
// and are loaded from node_modules at run time.
export default defineConfig({
  define: { __OFFHOOK_VERSION__: JSON.stringify(pkg.version) },
  build: {
    ssr: fileURLToPath(new URL('./server/cli.ts', import.meta.url)),
    outDir: fileURLToPath(new URL('./dist/server', import.meta.url)),
    emptyOutDir: true,
    target: 'node20',
    sourcemap: true,
    rollupOptions: { output: { entryFileNames: 'cli.js', format: 'es' } },
  },
});
