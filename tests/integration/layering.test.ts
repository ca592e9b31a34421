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

  // JsSIP only in the phone engine (renderer/phone/jssip/): everywhere else the phone is the PhoneEngine port.
  it.each([
    ['renderer/features/calls/example.ts', "import { UA } from 'jssip';\nexport const x = UA;\n"],
    ['renderer/phone/example.ts', "import type { RTCSession } from 'jssip/lib/RTCSession';\nexport type X = RTCSession;\n"],
    ['renderer/App.vue', "<script setup lang=\"ts\">\nimport { UA } from 'jssip';\nconst x = UA;\n</script>\n<template><p>{{ x }}</p></template>\n"],
    ['server/example.ts', "import { UA } from 'jssip';\nexport const x = UA;\n"],
  ])('refuses JsSIP outside renderer/phone/jssip/: %s', async (file, code) => {
    expect(await errors(file, code)).toContain('@typescript-eslint/no-restricted-imports');
  });

  it('accepts JsSIP inside renderer/phone/jssip/', async () => {
    expect(await errors('renderer/phone/jssip/example.ts', "import { UA } from 'jssip';\nexport const x = UA;\n")).toEqual([]);
    expect(
      await errors('renderer/phone/jssip/example.ts', "import type { UAConfiguration } from 'jssip/lib/UA';\nexport type X = UAConfiguration;\n"),
    ).toEqual([]);
  });

  // A renderer feature, and the JsSIP engine, are entered only through their index.ts.
  it.each([
    ['renderer/features/dialer/example.ts', "import { usePhoneStore } from '../calls/phone-store';\nexport const x = usePhoneStore;\n"],
    ['renderer/features/dialer/example.ts', "import CallCard from '../calls/CallCard.vue';\nexport const x = CallCard;\n"],
    ['renderer/router.ts', "import { useSessionStore } from './features/sign-in/session-store';\nexport const x = useSessionStore;\n"],
    ['renderer/shell/example.ts', "export { useHistoryStore } from '../features/history/history-store';\n"],
    ['renderer/features/sign-in/example.ts', "import { createJsSipEngine } from '../../phone/jssip/phone-engine';\nexport const x = createJsSipEngine;\n"],
  ])('refuses reaching into a module past its index.ts: %s', async (file, code) => {
    expect(await errors(file, code)).toContain('local/through-entry');
  });

  it.each([
    ['renderer/ui/example.ts', "import { usePhoneStore } from '../features/calls';\nexport const x = usePhoneStore;\n"],
    ['renderer/ui/example.ts', "import { usePhoneStore } from '../features/calls/phone-store';\nexport const x = usePhoneStore;\n"],
    ['renderer/ui/example.ts', "import NavPane from '../shell/NavPane.vue';\nexport const x = NavPane;\n"],
    ['renderer/ui/example.ts', "import { join } from 'node:path';\nexport const x = join;\n"],
  ])('refuses a feature, the shell or Node in shared ui/: %s', async (file, code) => {
    expect(await errors(file, code)).toContain('no-restricted-imports');
  });

  it('accepts a module entered through its index.ts, and imports inside one module', async () => {
    expect(await errors('renderer/features/dialer/example.ts', "import { usePhoneStore } from '../calls';\nexport const x = usePhoneStore;\n")).toEqual([]);
    expect(await errors('renderer/router.ts', "import { useSessionStore } from './features/sign-in/index';\nexport const x = useSessionStore;\n")).toEqual([]);
    expect(await errors('renderer/features/calls/example.ts', "import { usePhoneStore } from './phone-store';\nexport const x = usePhoneStore;\n")).toEqual([]);
    expect(await errors('renderer/features/sign-in/example.ts', "import { createJsSipEngine } from '../../phone/jssip';\nexport const x = createJsSipEngine;\n")).toEqual([]);
    expect(await errors('renderer/phone/jssip/example.ts', "import { snapshot } from './call-record';\nexport const x = snapshot;\n")).toEqual([]);
    expect(await errors('renderer/ui/example.ts', "import { DIAL_PAD_KEYS } from '../phone/dial-string';\nexport const x = DIAL_PAD_KEYS;\n")).toEqual([]);
  });

  it('accepts Node imports in server/ and DOM use in renderer/', async () => {
    expect(await errors('server/example.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n")).toEqual([]);
    expect(await errors('renderer/example.ts', 'export const x = () => document.title;\n')).toEqual([]);
  });
});
