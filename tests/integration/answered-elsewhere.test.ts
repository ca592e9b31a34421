/**
 * A call to a user with two devices, answered on one: the PBX cancels the other with an RFC 3326 Reason saying the
 * call was completed elsewhere, so that device shows it as answered elsewhere and not as missed. On the wire,
 * with two phones of the same user registered over real WebSockets to an in-process PBX.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { MediaPeer, SipPhone } from '../support/sip-phone';

const PASSWORDS: Record<string, string> = { '101': 'alice-101', '102': 'bob-102' };

describe('a call answered on another of the user\'s devices', () => {
  let pbx: RunningPbx;
  let dataDir: string;
  const cleanups: Array<() => unknown> = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-elsewhere-'));
    pbx = await startPbx({ httpPort: 0, bind: '127.0.0.1', dataDir, mediaAddress: '127.0.0.1', sipHost: '127.0.0.1', demo: true, webRoot: join(dataDir, 'no-web-phone') });
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    await pbx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function phone(extension: string): Promise<SipPhone> {
    const registered = await SipPhone.register(pbx.httpUrl, pbx.sipWebSocketUrl, extension, PASSWORDS[extension] ?? '');
    cleanups.push(() => registered.close());
    return registered;
  }

  function peer(): MediaPeer {
    const created = new MediaPeer();
    cleanups.push(() => created.close());
    return created;
  }

  it('cancels the device that did not answer with Reason: SIP;cause=200 (RFC 3326)', async () => {
    const alice = await phone('101');
    const bobDesk = await phone('102');
    const bobLaptop = await phone('102');
    const aliceMedia = peer();
    const deskMedia = peer();

    let heardRinging = () => {};
    const ringing = new Promise<void>((resolve) => (heardRinging = resolve));
    const placing = alice.invite('102', await aliceMedia.offer(), {}, (response) => {
      if (response.status === 180) heardRinging();
    });
    const [deskInvite, laptopInvite] = await Promise.all([bobDesk.request('INVITE'), bobLaptop.request('INVITE')]);
    // The laptop rings (a CANCEL goes only to a device that has answered the INVITE with something, RFC 3261 §9.1).
    bobLaptop.reply(laptopInvite, 180, 'Ringing', { toTag: 'laptop', headers: { Contact: bobLaptop.contact } });
    await ringing;
    bobDesk.answer(deskInvite, await deskMedia.answer(deskInvite.body));

    const cancel = await bobLaptop.request('CANCEL');
    expect(cancel.header('Reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
    bobLaptop.reply(cancel, 200, 'OK');
    bobLaptop.reply(laptopInvite, 487, 'Request Terminated', { toTag: 'laptop' });

    const { final } = await placing;
    expect(final.status).toBe(200);
  });
});
