/**
 * Shutting the PBX down with a call up: both desk phones get a BYE, a phone that missed the first copy gets
 * it again (UDP, Timer E) because the shutdown waits for the answers, and the call's record is on disk
 * when the PBX reopens its store. Two desk phones on real UDP sockets, the PBX in-process with SQLite.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeDatabase, openDatabase } from '../../server/store/db';
import { DEMO_ORGANIZATION, DEMO_USERS } from '../../server/store/demo';
import { UdpDeskPhone } from '../support/udp-desk-phone';
import { startUdpPbx } from '../support/udp-pbx';

const DOMAIN = DEMO_ORGANIZATION.domain;
const deskPassword = (extension: string) => DEMO_USERS.find((u) => u.extension === extension)?.sipPassword ?? '';

describe('shutting down with a call up', () => {
  let dataDir = '';
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('sends BYE to both phones, resends it to one that missed it, and keeps the call record', async () => {
    const started = await startUdpPbx('shutdown');
    const pbx = started.pbx;
    dataDir = started.dataDir;
    const caller = await UdpDeskPhone.registered(pbx.sipPorts.udp ?? 0, '101', DOMAIN, deskPassword('101'));
    const callee = await UdpDeskPhone.registered(pbx.sipPorts.udp ?? 0, '102', DOMAIN, deskPassword('102'));
    try {
      const calling = caller.invite('102', deskPassword('101'));
      callee.answer(await callee.request('INVITE'));
      expect((await calling).final.status).toBe(200);
      await callee.request('ACK');

      let closed = false;
      const closing = pbx.close().then(() => (closed = true));
      // The callee answers at once; the caller's first BYE is lost on the way.
      callee.reply(await callee.request('BYE'), 200, 'OK');
      const lost = await caller.request('BYE');
      const again = await caller.request('BYE', 3_000);
      expect([again.header('CSeq'), again.header('Via')]).toEqual([lost.header('CSeq'), lost.header('Via')]);
      expect(closed).toBe(false);
      caller.reply(again, 200, 'OK');
      await closing;
    } finally {
      caller.close();
      callee.close();
      await pbx.close();
    }

    const db = openDatabase(join(dataDir, 'offhook.db'));
    try {
      const record = await db.selectFrom('call_records').select(['caller_extension', 'disposition', 'end_reason', 'ended_at']).executeTakeFirstOrThrow();
      expect(record).toMatchObject({ caller_extension: '101', disposition: 'answered', end_reason: 'server shutting down' });
      expect(record.ended_at).not.toBeNull();
      // Nothing is left for the next start to take for a crash; the registrations are, for the phones to be reached.
      expect(await db.selectFrom('active_calls').selectAll().execute()).toEqual([]);
      expect((await db.selectFrom('registrations').select('extension').orderBy('extension').execute()).map((row) => row.extension)).toEqual(['101', '102']);
    } finally {
      await closeDatabase(db);
    }
  });
});
