import { describe, expect, it } from 'vitest';
import { createAppOrigin } from './app-origin';

describe('createAppOrigin', () => {
  describe('built renderer on disk', () => {
    const origin = createAppOrigin({ kind: 'file', rendererDir: '/opt/Offhook/resources/app.asar/dist/renderer' });

    it('loads index.html from the renderer folder', () => {
      expect(origin.entryUrl).toBe('file:///opt/Offhook/resources/app.asar/dist/renderer/index.html');
    });

    it('contains the pages and routes of the renderer folder', () => {
      expect(origin.contains('file:///opt/Offhook/resources/app.asar/dist/renderer/index.html')).toBe(true);
      expect(origin.contains('file:///opt/Offhook/resources/app.asar/dist/renderer/index.html#/calls')).toBe(true);
    });

    it('does not contain other files, look-alike folders, climbs out of the folder or the web', () => {
      expect(origin.contains('file:///etc/passwd')).toBe(false);
      expect(origin.contains('file:///opt/Offhook/resources/app.asar/dist/renderer-other/index.html')).toBe(false);
      expect(origin.contains('file:///opt/Offhook/resources/app.asar/dist/renderer/../main/main.js')).toBe(false);
      expect(origin.contains('https://example.com/')).toBe(false);
      expect(origin.contains('not a url')).toBe(false);
    });
  });

  describe('dev server', () => {
    const origin = createAppOrigin({ kind: 'dev-server', url: 'http://localhost:5173' });

    it('loads the dev server and contains its origin only', () => {
      expect(origin.entryUrl).toBe('http://localhost:5173/');
      expect(origin.contains('http://localhost:5173/#/settings')).toBe(true);
      expect(origin.contains('http://localhost:5174/')).toBe(false);
      expect(origin.contains('https://localhost:5173/')).toBe(false);
      expect(origin.contains('file:///index.html')).toBe(false);
    });

    it('refuses a dev server URL that is not http(s)', () => {
      expect(() => createAppOrigin({ kind: 'dev-server', url: 'file:///tmp/index.html' })).toThrow(/http\(s\)/);
    });
  });
});
