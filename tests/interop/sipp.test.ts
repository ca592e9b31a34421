/**
 * SIPp as desk phones, over UDP and over TCP, against the PBX in this process: a phone registers with digest
 * authentication; Alice (101) calls Bob (102), whose phone registered first and then waits for calls on the
 * same port; either side hangs up; Alice gives up while Bob's phone rings; Alice puts Bob on hold and back.
 * SIPp checks every message against its scenario (the scenarios also check the SDP: plain RTP/AVP with PCMU
 * both ways, recvonly to a hold, no hold direction after resuming); the test checks SIPp's exit code and
 * statistics, the PBX's bindings, calls and call records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOMAIN, sipPassword, startInteropPbx } from './support/pbx';
import type { InteropPbx } from './support/pbx';
import { aorKey } from '../../server/presence/registrar';
import { findOrganizationByDomain } from '../../server/store/organizations';
import { freePort, waitUntilBound } from './support/ports';
import { describeRun, runSipp, sippAvailable, startSipp } from './support/sipp';
import type { SippResult, SipTransport } from './support/sipp';

const ALICE = '101';
const BOB = '102';

const sippMissing = sippAvailable() ? undefined : 'SIPp is not installed (Debian: apt-get install sip-tester)';

function expectAllSucceeded(result: SippResult, calls = 1): void {
  expect(result.stats?.successful, describeRun(result)).toBe(calls);
  expect(result.stats?.failed, describeRun(result)).toBe(0);
  expect(result.exitCode, describeRun(result)).toBe(0);
}

for (const transport of ['udp', 'tcp'] as const satisfies readonly SipTransport[]) {
  // The runner prints no reason for a skipped suite, so the reason goes to its output here.
  if (sippMissing) process.stdout.write(`interop: SIPp over ${transport.toUpperCase()} skipped: ${sippMissing}\n`);

  describe.skipIf(sippMissing !== undefined)(`SIPp desk phones over ${transport.toUpperCase()}`, () => {
    let running: InteropPbx;
    let port: number;
    let organizationId: number;
    const passwords = new Map<string, string>();

    beforeAll(async () => {
      running = await startInteropPbx();
      const listening = running.ports[transport];
      if (!listening) throw new Error(`the PBX started without a ${transport.toUpperCase()} port in RunningPbx.sipPorts`);
      port = listening;
      organizationId = (await findOrganizationByDomain(running.pbx.db, DOMAIN))?.id ?? 0;
      for (const extension of [ALICE, BOB]) passwords.set(extension, await sipPassword(running.pbx, extension));
    });

    afterAll(async () => {
      await running?.close();
    });

    const credentials = (extension: string) => ({ username: extension, password: passwords.get(extension) ?? '' });

    async function register(extension: string, localPort: number, expires = 300): Promise<SippResult> {
      return runSipp({
        scenario: 'register.xml',
        transport,
        remote: { host: '127.0.0.1', port },
        localPort,
        keys: { user: extension, domain: DOMAIN, expires: String(expires) },
        credentials: credentials(extension),
        timeoutS: 10,
      });
    }

    /** Bob's phone registers from a port, then answers there with `answerer`; Alice calls with `caller`. */
    async function call(caller: string, answerer: string): Promise<{ alice: SippResult; bob: SippResult }> {
      const bobPort = await freePort();
      expectAllSucceeded(await register(BOB, bobPort));
      const bobRun = startSipp({ scenario: answerer, transport, localPort: bobPort, keys: { domain: DOMAIN }, timeoutS: 20 });
      try {
        await waitUntilBound(bobPort, transport, 5_000, bobRun.exited);
        const alice = await runSipp({
          scenario: caller,
          transport,
          remote: { host: '127.0.0.1', port },
          localPort: await freePort(),
          keys: { user: ALICE, callee: BOB, domain: DOMAIN },
          credentials: credentials(ALICE),
          timeoutS: 15,
          extraArgs: ['-d', '500'],
        });
        const bob = await bobRun.done;
        // Every call has ended on the PBX too, its media released.
        expect(running.pbx.sip.calls.activeCallCount).toBe(0);
        return { alice, bob };
      } finally {
        bobRun.kill();
        await register(BOB, bobPort, 0);
      }
    }

    async function lastCallRecord() {
      await running.pbx.sip.calls.flushRecords();
      return running.pbx.db.selectFrom('call_records').selectAll().orderBy('id', 'desc').executeTakeFirst();
    }

    it('a desk phone registers with digest authentication and unregisters', async () => {
      const before = running.pbx.sip.registrar.bindingCount;
      const phonePort = await freePort();
      expectAllSucceeded(await register(ALICE, phonePort));
      // SIPp has exited, so over TCP its connection is closed. It registered without outbound (no reg-id), so
      // its Contact names where it listens and the binding stays (RFC 3261 §18.1.1: a new connection reaches
      // it); only a binding made through an outbound flow dies with the flow (RFC 5626 §5.2).
      expect(running.pbx.sip.registrar.bindingCount).toBe(before + 1);
      const [binding] = running.pbx.sip.registrar.lookup(aorKey(organizationId, ALICE));
      expect(binding?.contact.uri.port).toBe(phonePort);
      expect(binding?.connection.transport).toBe(transport.toUpperCase());
      expectAllSucceeded(await register(ALICE, phonePort, 0));
      expect(running.pbx.sip.registrar.bindingCount).toBe(before);
    });

    it('Alice calls Bob, Bob answers, Alice hangs up', async () => {
      const { alice, bob } = await call('caller.xml', 'answerer.xml');
      expectAllSucceeded(alice);
      expectAllSucceeded(bob);
      expect(await lastCallRecord()).toMatchObject({ caller_extension: ALICE, callee_extension: BOB, disposition: 'answered', end_reason: 'caller hung up' });
    });

    it('Alice calls Bob, Bob answers and hangs up', async () => {
      const { alice, bob } = await call('caller-awaits-bye.xml', 'answerer-hangs-up.xml');
      expectAllSucceeded(alice);
      expectAllSucceeded(bob);
      expect(await lastCallRecord()).toMatchObject({ caller_extension: ALICE, callee_extension: BOB, disposition: 'answered', end_reason: 'callee hung up' });
    });

    it('Alice cancels while Bob’s phone rings: 487 to Alice, CANCEL to Bob', async () => {
      const { alice, bob } = await call('caller-cancels.xml', 'answerer-rings.xml');
      expectAllSucceeded(alice);
      expectAllSucceeded(bob);
      expect(await lastCallRecord()).toMatchObject({ caller_extension: ALICE, callee_extension: BOB, disposition: 'cancelled', answered_at: null });
    });

    it('Alice puts Bob on hold with a sendonly re-INVITE, resumes, and hangs up', async () => {
      const { alice, bob } = await call('caller-holds.xml', 'answerer.xml');
      expectAllSucceeded(alice);
      expectAllSucceeded(bob);
      expect(await lastCallRecord()).toMatchObject({ caller_extension: ALICE, callee_extension: BOB, disposition: 'answered', end_reason: 'caller hung up' });
    });
  });
}
