/**
 * What the web phone's first screen downloads, read from the built renderer (dist/renderer): the built
 * index.html's scripts, module preloads and style sheets, and every module they import statically, each
 * gzipped on its own as a server would send it. Chunks reached only through `import()` (the panes loaded when
 * first opened, router.ts) are left out of the first screen and counted in the whole bundle.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

export const RENDERER_DIST = resolve(import.meta.dirname, '../dist/renderer');

/**
 * The same measure taken on the build before the split (commit b3205e7, one chunk for the whole app), so
 * that the bench shows what the split changed.
 */
export const BEFORE_SPLIT = { commit: 'b3205e7', firstScreenGzipKb: 185.7, largestChunkMinKb: 680.1 } as const;

export interface BundleFigures {
  /** Files the first screen loads (the page, its scripts and styles), and their gzip size together. */
  firstScreenFiles: string[];
  firstScreenGzipKb: number;
  firstScreenMinKb: number;
  /** Every file of the build but the source maps. */
  wholeGzipKb: number;
  wholeMinKb: number;
  largestChunk: { file: string; minKb: number };
}

const kb = (bytes: number) => Number((bytes / 1024).toFixed(1));

/** `src` and `href` of the page's scripts, module preloads and style sheets. */
function pageAssets(html: string): string[] {
  const found: string[] = [];
  for (const tag of html.match(/<(script|link)\b[^>]*>/g) ?? []) {
    const isScript = tag.startsWith('<script');
    const rel = /\brel="([^"]+)"/.exec(tag)?.[1];
    if (!isScript && rel !== 'modulepreload' && rel !== 'stylesheet') continue;
    const url = /\b(?:src|href)="([^"]+)"/.exec(tag)?.[1];
    if (url && !/^[a-z]+:/i.test(url)) found.push(url);
  }
  return found;
}

/** Relative modules a built chunk imports statically (`import … from "./x.js"`, `export … from`, `import "./x.js"`); `import()` is not one. */
function staticImports(code: string): string[] {
  const found: string[] = [];
  for (const match of code.matchAll(/(?:^|[;\n}])\s*(?:import|export)\s*(?:[\w$*{}\s,]*?\s*from\s*)?["'](\.{1,2}\/[^"']+)["']/g)) {
    if (match[1]) found.push(match[1]);
  }
  return found;
}

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? allFiles(path) : [path];
  });
}

export function measureBundle(dir = RENDERER_DIST): BundleFigures {
  const indexHtml = join(dir, 'index.html');
  if (!existsSync(indexHtml)) throw new Error(`${indexHtml} is missing: run "npm run build" first`);
  const firstScreen = new Set<string>([indexHtml]);
  const queue = pageAssets(readFileSync(indexHtml, 'utf8')).map((url) => resolve(dir, url));
  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (firstScreen.has(file) || !existsSync(file)) continue;
    firstScreen.add(file);
    if (file.endsWith('.js')) queue.push(...staticImports(readFileSync(file, 'utf8')).map((spec) => resolve(dirname(file), spec)));
  }
  const sizes = (files: Iterable<string>) => {
    let min = 0;
    let gzip = 0;
    for (const file of files) {
      const content = readFileSync(file);
      min += content.length;
      gzip += gzipSync(content).length;
    }
    return { min, gzip };
  };
  const shipped = allFiles(dir).filter((file) => !file.endsWith('.map'));
  const chunks = shipped.filter((file) => file.endsWith('.js')).map((file) => ({ file, size: statSync(file).size }));
  const largest = chunks.reduce((a, b) => (b.size > a.size ? b : a), { file: '', size: 0 });
  const first = sizes(firstScreen);
  const whole = sizes(shipped);
  return {
    firstScreenFiles: [...firstScreen].map((file) => relative(dir, file)),
    firstScreenGzipKb: kb(first.gzip),
    firstScreenMinKb: kb(first.min),
    wholeGzipKb: kb(whole.gzip),
    wholeMinKb: kb(whole.min),
    largestChunk: { file: relative(dir, largest.file), minKb: kb(largest.size) },
  };
}
