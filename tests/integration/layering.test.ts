/**
 * The layering rules in eslint.config.js: shared/ is pure TypeScript for every runtime, the renderer runs in a
 * browser sandbox, and each PBX layer imports only what is below it (docs/architecture.md). These cases prove
 * each rule fails on the imports it exists to stop, and lets through what it must not stop.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();

async function errors(filePath: string, code: string): Promise<string[]> {
  return found(filePath, code, 2);
}

async function warnings(filePath: string, code: string): Promise<string[]> {
  return found(filePath, code, 1);
}

async function found(filePath: string, code: string, severity: 1 | 2): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).filter((m) => m.severity === severity).map((m) => m.ruleId ?? m.message);
}

/** A module importing `name` from `from`, and using it. */
function importing(from: string, name = 'x', kind: 'value' | 'type' = 'value'): string {
  return kind === 'type' ? `import type { ${name} } from '${from}';\nexport type Y = ${name};\n` : `import { ${name} } from '${from}';\nexport const y = ${name};\n`;
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

  // The PBX's layers (docs/architecture.md, "The PBX, inside"): each folder imports only the ones below it.
  it.each([
    // sip/ knows no users, no database, no media, and nothing above it.
    ['server/sip/edge/example.ts', '../../store/users'],
    ['server/sip/edge/example.ts', '../../media/legs/rtp-leg'],
    ['server/sip/example.ts', '../presence/registrar'],
    ['server/sip/transport/example.ts', '../../calls/call-engine'],
    ['server/sip/example.ts', '../routing/dial-policy'],
    ['server/sip/example.ts', '../features/transfer'],
    ['server/sip/example.ts', '../events/event-hub'],
    ['server/sip/example.ts', '../api/app'],
    ['server/sip/example.ts', '../sip-service'],
    // media/ knows neither SIP nor the database.
    ['server/media/joins/example.ts', '../../sip/syntax/message'],
    ['server/media/legs/example.ts', '../../store/call-records'],
    ['server/media/example.ts', '../calls/call-engine'],
    // store/ serves the layers above it and knows none of them.
    ['server/store/example.ts', '../sip/syntax/message'],
    ['server/store/example.ts', '../media/sdp/sdp'],
    ['server/store/example.ts', '../calls/call-engine'],
    ['server/store/migrations/example.ts', '../../api/app'],
    ['server/store/example.ts', '../presence/registrar'],
    // auth/ and util/ lie under the SIP edge and the store, which use them.
    ['server/auth/example.ts', '../store/organizations'],
    ['server/auth/example.ts', '../sip/edge/authenticator'],
    ['server/util/example.ts', '../store/db'],
    ['server/util/example.ts', '../auth/digest'],
    // events/ needs only the store.
    ['server/events/example.ts', '../calls/call-engine'],
    ['server/events/example.ts', '../api/app'],
    // calls/ reaches routing and features through its ports, never by import.
    ['server/calls/example.ts', '../routing/dial-policy'],
    ['server/calls/example.ts', '../features/transfer'],
    ['server/calls/example.ts', '../api/routes/calls'],
    // routing/ names destinations; the features that serve them are above it.
    ['server/routing/example.ts', '../features/transfer'],
    ['server/routing/example.ts', '../api/app'],
    // presence/ sits below the features and the API.
    ['server/presence/example.ts', '../features/messaging'],
    ['server/presence/example.ts', '../api/app'],
    // features/ never calls back into the API.
    ['server/features/transfer/example.ts', '../../api/routes/calls'],
    // api/ is handed what it needs of SIP, through an interface of its own.
    ['server/api/example.ts', '../sip/transport/ws-transport'],
    ['server/api/routes/example.ts', '../../sip/syntax/message'],
    ['server/api/example.ts', '../sip-service'],
    // The same, however the path is spelled.
    ['server/sip/edge/example.ts', '../../store/users.ts'],
    ['server/sip/edge/example.ts', './../../store/../store/users'],
  ])('refuses a PBX layer importing one it must not: %s imports %s', async (file, from) => {
    expect(await errors(file, importing(from))).toContain('local/layer-imports');
  });

  it('refuses the same imports as export-from, as type imports and as import()', async () => {
    expect(await errors('server/sip/example.ts', "export { findUserByExtension } from '../store/users';\n")).toContain('local/layer-imports');
    expect(await errors('server/sip/example.ts', "export * from '../store/users';\n")).toContain('local/layer-imports');
    expect(await errors('server/sip/example.ts', importing('../store/schema', 'Database', 'type'))).toContain('local/layer-imports');
    expect(await errors('server/api/example.ts', "export const y = () => import('../sip/endpoint');\n")).toContain('local/layer-imports');
  });

  it('lets calls/ see the event hub only as an interface: types alone', async () => {
    expect(await errors('server/calls/example.ts', importing('../events/event-hub', 'EventHub'))).toContain('local/layer-imports');
    expect(await errors('server/calls/example.ts', "import { EventHub, type EventPublisher } from '../events/event-hub';\nexport const y: EventPublisher = new EventHub(undefined as never);\n")).toContain('local/layer-imports');
    expect(await errors('server/calls/example.ts', "export const y = () => import('../events/event-hub');\n")).toContain('local/layer-imports');
    expect(await errors('server/calls/example.ts', importing('../events/event-hub', 'EventPublisher', 'type'))).toEqual([]);
    expect(await errors('server/calls/example.ts', "import { type EventPublisher } from '../events/event-hub';\nexport type Y = EventPublisher;\n")).toEqual([]);
  });

  it('accepts what each PBX layer may import, and tells shared/ apart from a layer of the same name', async () => {
    for (const [file, from] of [
      ['server/sip/edge/example.ts', '../../auth/attempt-limiter'],
      ['server/sip/edge/example.ts', '../../util/lru-map'],
      ['server/sip/edge/example.ts', '../../log'],
      ['server/sip/edge/example.ts', '../transport/connection'],
      ['server/media/legs/example.ts', '../sdp/sdp'],
      ['server/store/example.ts', '../auth/digest'],
      ['server/store/example.ts', '../util/domain-name'],
      ['server/auth/example.ts', '../util/domain-name'],
      ['server/calls/example.ts', '../sip/endpoint'],
      ['server/calls/example.ts', '../media/joins/bridge'],
      ['server/calls/example.ts', '../presence/registrar'],
      ['server/calls/example.ts', '../store/call-records'],
      ['server/calls/example.ts', '../../shared/events'],
      ['server/routing/example.ts', '../store/users'],
      ['server/routing/example.ts', '../sip/syntax/message'],
      ['server/presence/example.ts', '../routing/local-target'],
      ['server/features/transfer/example.ts', '../../calls/call-engine'],
      ['server/features/transfer/example.ts', '../../routing/dial-policy'],
      ['server/api/example.ts', '../../shared/api'],
      ['server/api/example.ts', '../events/event-hub'],
      ['server/api/example.ts', '../store/users'],
      ['server/pbx.ts', './sip/endpoint'],
      ['server/sip-service.ts', './api/app'],
    ]) {
      expect([file, from, await errors(file!, importing(from!))]).toEqual([file, from, []]);
    }
  });

  // A PBX feature, like a renderer feature, is entered through its index.ts only.
  it.each([
    ['server/features/pickup/example.ts', "import { transfer } from '../transfer/transfer-service';\nexport const x = transfer;\n"],
    ['server/sip-service.ts', "import { MessageRouter } from './features/messaging/messages';\nexport const x = MessageRouter;\n"],
    ['server/api/routes/example.ts', "import type { TransferCommands } from '../../features/transfer/commands';\nexport type X = TransferCommands;\n"],
  ])('refuses reaching into a PBX feature past its index.ts: %s', async (file, code) => {
    expect(await errors(file, code)).toContain('local/through-entry');
  });

  it('accepts a PBX feature entered through its index.ts, and imports inside one feature', async () => {
    expect(await errors('server/features/pickup/example.ts', importing('../transfer'))).toEqual([]);
    expect(await errors('server/api/routes/example.ts', importing('../../features/transfer/index', 'X', 'type'))).toEqual([]);
    expect(await errors('server/features/transfer/example.ts', importing('./transfer-service'))).toEqual([]);
  });

  // No source file past 500 lines without a reason at its top: a warning, which `npm run lint` (--max-warnings 0) fails on.
  it('warns, without an error, of a source file past 500 lines, blank lines and comments not counted', async () => {
    const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const x${i} = ${i};`).join('\n') + '\n';
    for (const file of ['server/sip/example.ts', 'renderer/features/calls/example.ts', 'bench/example.ts']) {
      expect(await warnings(file, lines(501))).toEqual(['max-lines']);
      expect(await errors(file, lines(501))).toEqual([]);
      expect(await warnings(file, lines(500))).toEqual([]);
      expect(await warnings(file, `${lines(500)}\n\n// a comment\n/* and\n another */\n`)).toEqual([]);
    }
    const reasoned = `/* eslint-disable max-lines -- one RFC state machine per §, read side by side. */\n${lines(600)}`;
    expect(await warnings('server/sip/example.ts', reasoned)).toEqual([]);
  });
});
