/**
 * A restart loses nothing. Desk phones on real UDP sockets register and call through the PBX; the PBX is
 * closed, or killed in a process of its own with SIGKILL (a crash, a power cut: nothing written on the way
 * out), and started again on the same data folder and SIP port:
 * - a phone that registered before is reached without registering again, its registration running out when
 *   it would have;
 * - a call that was up when the PBX was killed has its record, ended at the last heartbeat, and each phone
 *   gets a BYE instead of waiting in a dead dialog.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseServeConfig } from '../../server/config';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { aorKey } from '../../server/presence/registrar';
import { CRASH_END_REASON } from '../../server/store/active-calls';
import { closeDatabase, openDatabase } from '../../server/store/db';
import { readHeartbeat } from '../../server/store/heartbeat';
import { freePort } from '../interop/support/ports';
import { startPbxProcess } from '../support/pbx-process';
import type { PbxProcess } from '../support/pbx-process';
import { UdpDeskPhone } from '../support/udp-desk-phone';
import { deskPassword, DOMAIN } from '../support/udp-pbx';

/** What the desk phones ask for (UdpDeskPhone.register). */
const REGISTERED_FOR_MS = 600_000;

describe('restarting the PBX', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function dataFolder(): string {
    const dir = mkdtempSync(join(tmpdir(), 'offhook-restart-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  async function inProcess(dataDir: string, port: number): Promise<RunningPbx> {
    const argv = ['--demo', '--http-port', '0', '--bind', '127.0.0.1', '--media-address', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', String(port), '--sip-tcp-port', 'off', '--sip-tls-port', 'off'];
    const pbx = await startPbx(parseServeConfig(argv, {}, { webRoot: join(dataDir, 'no-web-phone') }));
    cleanups.push(() => pbx.close());
    return pbx;
  }

  async function inChildProcess(dataDir: string, port: number): Promise<PbxProcess> {
    const pbx = await startPbxProcess(dataDir, port);
    cleanups.push(() => pbx.kill());
    return pbx;
  }

  async function phone(port: number, extension: string): Promise<UdpDeskPhone> {
    const desk = await UdpDeskPhone.registered(port, extension, DOMAIN, deskPassword(extension));
    cleanups.push(() => desk.close());
    return desk;
  }

  async function bindingOf(pbx: RunningPbx, extension: string) {
    const { id } = await pbx.db.selectFrom('organizations').select('id').where('domain', '=', DOMAIN).executeTakeFirstOrThrow();
    return pbx.sip.registrar.lookup(aorKey(id, extension));
  }

  /** 102's phone, which has not registered with this PBX, is called by 101, answers, and is hung up on. */
  async function callReaches(port: number, callee: UdpDeskPhone): Promise<void> {
    const caller = await phone(port, '101');
    const calling = caller.invite('102', deskPassword('101'));
    callee.answer(await callee.request('INVITE'));
    const { final, dialog } = await calling;
    expect(final.status).toBe(200);
    await callee.request('ACK');
    caller.bye(dialog);
    callee.reply(await callee.request('BYE'), 200, 'OK');
    expect((await caller.response('BYE')).status).toBe(200);
  }

  it('reaches a UDP desk phone after a clean restart without it registering again, its registration running out when it would have', async () => {
    const port = await freePort();
    const dataDir = dataFolder();
    const first = await inProcess(dataDir, port);
    const callee = await phone(port, '102');
    const [before] = await bindingOf(first, '102');
    await first.close();

    const second = await inProcess(dataDir, port);
    const [after] = await bindingOf(second, '102');
    expect(after?.expiresAt).toBe(before?.expiresAt);
    expect([after?.connection.transport, after?.connection.remotePort]).toEqual(['UDP', callee.sipPort]);
    await callReaches(port, callee);
  });

  // A PBX in a process of its own starts from source, which takes a while on a loaded machine.
  const KILLED_PBX_TEST_MS = 60_000;

  it('reaches a UDP desk phone after the PBX was killed, with what was left of its registration', async () => {
    const port = await freePort();
    const dataDir = dataFolder();
    const killed = await inChildProcess(dataDir, port);
    const callee = await phone(port, '102');
    const registeredBy = Date.now();
    await killed.kill();

    const second = await inProcess(dataDir, port);
    const [after] = await bindingOf(second, '102');
    // Counted from the REGISTER, not from the restart, which came later.
    expect(after?.expiresAt).toBeLessThanOrEqual(registeredBy + REGISTERED_FOR_MS);
    expect(after?.expiresAt).toBeGreaterThan(Date.now());
    await callReaches(port, callee);
  }, KILLED_PBX_TEST_MS);

  it('records a call that was up when the PBX was killed as ended at the last heartbeat, and sends each phone a BYE', async () => {
    const port = await freePort();
    const dataDir = dataFolder();
    const killed = await inChildProcess(dataDir, port);
    const caller = await phone(port, '101');
    const callee = await phone(port, '102');
    const calling = caller.invite('102', deskPassword('101'));
    const invite = await callee.request('INVITE');
    const calleeDialog = callee.answer(invite);
    const { final, dialog: callerDialog } = await calling;
    expect(final.status).toBe(200);
    await callee.request('ACK');

    // The answered call was stored before the caller had its 200; the PBX says it is alive every few seconds.
    const db = openDatabase(join(dataDir, 'offhook.db'));
    let lastAlive: string | undefined;
    try {
      const [row] = await db.selectFrom('active_calls').select(['call_id', 'answered_at']).execute();
      expect(row?.call_id).toBe(callerDialog.callId);
      await expect.poll(async () => ((await readHeartbeat(db)) ?? '') > (row?.answered_at ?? ''), { timeout: 15_000, interval: 200 }).toBe(true);
      await killed.kill();
      lastAlive = await readHeartbeat(db);
    } finally {
      await closeDatabase(db);
    }

    const second = await inProcess(dataDir, port);
    const [callerBye, calleeBye] = await Promise.all([caller.request('BYE'), callee.request('BYE')]);
    expect([callerBye.header('Call-ID'), callerBye.header('To')]).toEqual([callerDialog.callId, callerDialog.local]);
    expect([calleeBye.header('Call-ID'), calleeBye.header('To')]).toEqual([calleeDialog.callId, calleeDialog.local]);
    caller.reply(callerBye, 200, 'OK');
    callee.reply(calleeBye, 200, 'OK');

    const record = await second.db.selectFrom('call_records').selectAll().where('call_id', '=', callerDialog.callId).executeTakeFirstOrThrow();
    expect(record).toMatchObject({ caller_extension: '101', callee_extension: '102', disposition: 'answered', ended_at: lastAlive, end_reason: CRASH_END_REASON });
    expect(await second.db.selectFrom('active_calls').selectAll().execute()).toEqual([]);
  }, KILLED_PBX_TEST_MS);
});
