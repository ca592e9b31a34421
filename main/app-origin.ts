/**
 * Where the app's own pages live. The window loads either the built renderer from disk or, in development,
 * a dev server; every navigation and every IPC sender is checked against this one answer.
 */
import { pathToFileURL } from 'node:url';

export interface AppOrigin {
  /** What the window loads first: the dev server URL, or the file URL of the built `index.html`. */
  readonly entryUrl: string;
  /** Whether `url` is one of the app's own pages (any path under the renderer folder, or the dev origin). */
  contains(url: string): boolean;
}

export type AppOriginSource = { kind: 'dev-server'; url: string } | { kind: 'file'; rendererDir: string };

export function createAppOrigin(source: AppOriginSource): AppOrigin {
  if (source.kind === 'dev-server') {
    const entry = new URL(source.url);
    if (entry.protocol !== 'http:' && entry.protocol !== 'https:') {
      throw new Error(`The renderer dev server must be an http(s) URL, got ${source.url}`);
    }
    return {
      entryUrl: entry.href,
      contains: (url) => parse(url)?.origin === entry.origin,
    };
  }
  // A trailing slash keeps `/app/renderer-evil/` from passing as a page of `/app/renderer`.
  const folder = pathToFileURL(source.rendererDir).href.replace(/\/?$/, '/');
  return {
    entryUrl: new URL('index.html', folder).href,
    contains: (url) => {
      const target = parse(url);
      // The URL parser resolves `..` segments, so a normalized href cannot climb out of the folder.
      return target?.protocol === 'file:' && target.href.startsWith(folder);
    },
  };
}

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}
