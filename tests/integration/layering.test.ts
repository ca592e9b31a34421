/**
 * The layering rule in eslint.config.js: shared/ is pure TypeScript for every runtime, and the renderer runs
 * in a browser sandbox. These cases prove the rule fails on the imports it exists to stop.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function errors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.severity === 2).map((m) => m.ruleId ?? m.message);
}

describe('layering', () => {
  it.each([
    ['shared/example.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n"],
    ['shared/example.ts', "import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;\n"],
    ['shared/example.ts', 'export const x = () => document.title;\n'],
    ['renderer/example.ts', "import { join } from 'path';\nexport const x = join;\n"],
    ['renderer/example.ts', "import { shell } from 'electron';\nexport const x = shell;\n"],
    ['renderer/example.ts', 'export const x = () => process.env;\n'],
  ])('refuses %s: %s', async (file, code) => {
    const found = await errors(file, code);
    expect(found.some((rule) => rule === 'no-restricted-imports' || rule === 'no-restricted-globals')).toBe(true);
  });

  it('accepts Node imports in server/ and DOM use in renderer/', async () => {
    expect(await errors('server/example.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n")).toEqual([]);
    expect(await errors('renderer/example.ts', 'export const x = () => document.title;\n')).toEqual([]);
  });
});
