import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';
import { contentSecurityPolicy } from './shared/content-security-policy';

// The renderer is built once and used twice: loaded from disk by the desktop app and served by the PBX as
// the web phone. Relative asset paths (`base: './'`) make the one build work in both places.
export default defineConfig({
  root: fileURLToPath(new URL('./renderer', import.meta.url)),
  base: './',
  plugins: [
    vue(),
    {
      // The built page carries its policy itself: a file:// page in Electron has no response headers.
      name: 'offhook-content-security-policy',
      apply: 'build',
      transformIndexHtml: () => [
        { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy({ forMetaTag: true }) }, injectTo: 'head-prepend' },
      ],
    },
  ],
  build: {
    outDir: fileURLToPath(new URL('./dist/renderer', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
  },
});
