/**
 * A PBX started in-process for a test file (SQLite in a temporary data folder, the demo organization), with
 * phones that speak SIP over real WebSockets and werift media peers on loopback, each closed after its test:
 * what the integration tests of calls through the PBX all begin with.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { DEMO_USERS } from '../../server/store/demo';
import { MediaPeer, SipPhone } from './sip-phone';
import type { PhoneDialog } from './sip-phone';

export async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface WsPbxSuite {
  /** The running PBX (from the suite's beforeAll on). */
  readonly pbx: RunningPbx;
  /** What a test leaves to undo; run after it, last first. */
  readonly cleanups: Array<() => unknown>;
  /** A demo user signed in over REST and registered over a WebSocket. */
  phone(extension: string): Promise<SipPhone>;
  peer(): MediaPeer;
  /** `from` calls `to` (with `extra` headers), which answers: both dialogs and both media peers. */
  connected(from: SipPhone, to: SipPhone, extra?: Record<string, string>): Promise<{ callerDialog: PhoneDialog; calleeDialog: PhoneDialog; callerMedia: MediaPeer; calleeMedia: MediaPeer }>;
  /** Each peer sends its marker until the other has received it (at most 3 s). */
  hearsEachOther(a: MediaPeer, b: MediaPeer, markers: [number, number]): Promise<void>;
  /** `by` hangs up and `other` answers the BYE the PBX sends it. */
  hangUp(by: SipPhone, dialog: PhoneDialog, other: SipPhone): Promise<void>;
}

export function wsPbxSuite(name: string): WsPbxSuite {
  let started: { pbx: RunningPbx; dataDir: string } | undefined;
  const cleanups: Array<() => unknown> = [];
  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), `offhook-${name}-`));
    const pbx = await startPbx({ httpPort: 0, bind: '127.0.0.1', dataDir, mediaAddress: '127.0.0.1', sipHost: '127.0.0.1', demo: true, webRoot: join(dataDir, 'no-web-phone') });
    started = { pbx, dataDir };
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    if (started) await until(() => started!.pbx.sip.calls.activeCallCount === 0, 5_000).catch(() => undefined);
  });
  afterAll(async () => {
    await started?.pbx.close();
    if (started) rmSync(started.dataDir, { recursive: true, force: true });
  });

  const suite: WsPbxSuite = {
    get pbx() {
      if (!started) throw new Error('the PBX is not started yet');
      return started.pbx;
    },
    cleanups,
    async phone(extension) {
      const password = DEMO_USERS.find((u) => u.extension === extension)?.password ?? '';
      const registered = await SipPhone.register(suite.pbx.httpUrl, suite.pbx.sipWebSocketUrl, extension, password);
      cleanups.push(() => registered.close());
      return registered;
    },
    peer() {
      const created = new MediaPeer();
      cleanups.push(() => created.close());
      return created;
    },
    async connected(from, to, extra = {}) {
      const callerMedia = suite.peer();
      const calleeMedia = suite.peer();
      const placing = from.invite(to.extension, await callerMedia.offer(), extra);
      const invite = await to.request('INVITE');
      const calleeDialog = to.answer(invite, await calleeMedia.answer(invite.body));
      const { final, dialog: callerDialog } = await placing;
      expect(final.status).toBe(200);
      await callerMedia.accept(final.body);
      await to.next((m) => m.kind === 'request' && m.method === 'ACK');
      return { callerDialog, calleeDialog, callerMedia, calleeMedia };
    },
    async hearsEachOther(a, b, [fromA, fromB]) {
      for (let seq = 1; seq <= 150 && (!b.received.includes(fromA) || !a.received.includes(fromB)); seq++) {
        a.send(fromA, seq);
        b.send(fromB, seq);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(b.received).toContain(fromA);
      expect(a.received).toContain(fromB);
    },
    async hangUp(by, dialog, other) {
      by.inDialog(dialog, 'BYE');
      expect((await by.response('BYE')).status).toBe(200);
      other.reply(await other.request('BYE'), 200, 'OK');
    },
  };
  return suite;
}
