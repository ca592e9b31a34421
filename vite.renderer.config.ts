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
    rolldownOptions: {
      output: {
        // Libraries in chunks of their own, apart from the app's code: each stays under the 500 kB warning,
        // they download side by side, and an update of the app leaves them cached. All three are part of the
        // first screen (sign-in and the phone); the other panes are chunks loaded on demand (router.ts).
        codeSplitting: {
          groups: [
            { name: 'vue', test: /node_modules[\\/](@vue|vue|vue-router|pinia)[\\/]/, priority: 2 },
            { name: 'jssip', test: /node_modules[\\/](jssip|sdp-transform|debug|ms|events)[\\/]/, priority: 2 },
            { name: 'vendor', test: /node_modules[\\/]/, priority: 1 },
          ],
        },
      },
    },
  },
});
