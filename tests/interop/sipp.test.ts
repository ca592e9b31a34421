/**
 * SIPp as desk phones, over UDP and over TCP, against the PBX in this process: a phone registers with digest
 * authentication; Alice (101) calls Bob (102), whose phone registered first and then waits for calls on the
 * same port; either side hangs up; Alice gives up while Bob's phone rings; Alice puts Bob on hold and back.
 * SIPp checks every message against its scenario; the test checks SIPp's exit code and statistics, and what
 * the PBX recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestContext } from 'vitest';
import { DOMAIN, md5ChallengeMissing, plainRtpMissing, reInviteMissing, sipPassword, startInteropPbx, transportMissing } from './support/pbx';
import type { InteropPbx } from './support/pbx';
import { freePort, waitUntilBound } from './support/ports';
import { describeRun, runSipp, sippAvailable, startSipp } from './support/sipp';
import type { SippResult, SipTransport } from './support/sipp';

const ALICE = '101';
const BOB = '102';

function skipReason(...reasons: Array<string | undefined>): string | undefined {
  return reasons.find((r) => r !== undefined);
}

const sippMissing = sippAvailable() ? undefined : 'SIPp is not installed (Debian: apt-get install sip-tester)';

function expectAllSucceeded(result: SippResult, calls = 1): void {
  expect(result.stats?.successful, describeRun(result)).toBe(calls);
  expect(result.stats?.failed, describeRun(result)).toBe(0);
  expect(result.exitCode, describeRun(result)).toBe(0);
}

for (const transport of ['udp', 'tcp'] as const satisfies readonly SipTransport[]) {
  const missing = skipReason(sippMissing, transportMissing(transport));
  if (missing) console.log(`interop: SIPp over ${transport.toUpperCase()} skipped: ${missing}`);

  describe.skipIf(missing !== undefined)(`SIPp desk phones over ${transport.toUpperCase()}`, () => {
    let running: InteropPbx;
    let port: number;
    let blocked: string | undefined;
    const passwords = new Map<string, string>();

    beforeAll(async () => {
      running = await startInteropPbx();
      const listening = running.ports[transport];
      if (!listening) throw new Error(`the PBX started without a ${transport.toUpperCase()} port in RunningPbx.sipPorts`);
      port = listening;
      if (running.ports.udp) blocked = await md5ChallengeMissing(running.ports.udp);
      if (blocked) console.log(`interop: SIPp over ${transport.toUpperCase()} skipped: ${blocked}`);
      for (const extension of [ALICE, BOB]) passwords.set(extension, await sipPassword(running.pbx, extension));
    });

    afterAll(async () => {
      await running?.close();
    });

    function skipIfBlocked(ctx: TestContext, ...more: Array<string | undefined>): void {
      const reason = skipReason(blocked, ...more);
      if (reason) {
        console.log(`interop: "${ctx.task.name}" over ${transport.toUpperCase()} skipped: ${reason}`);
        ctx.skip(reason);
      }
    }

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
        await waitUntilBound(bobPort, transport);
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
        return { alice, bob };
      } finally {
        bobRun.kill();
        await register(BOB, bobPort, 0);
      }
    }

    async function lastCallRecord() {
      return running.pbx.db.selectFrom('call_records').selectAll().orderBy('id', 'desc').executeTakeFirst();
    }

    it('a desk phone registers with digest authentication and unregisters', async (ctx) => {
      skipIfBlocked(ctx);
      const before = running.pbx.sip.registrar.bindingCount;
      const phonePort = await freePort();
      expectAllSucceeded(await register(ALICE, phonePort));
      expect(running.pbx.sip.registrar.bindingCount).toBe(before + 1);
      expectAllSucceeded(await register(ALICE, phonePort, 0));
      expect(running.pbx.sip.registrar.bindingCount).toBe(before);
    });

    it('Alice calls Bob, Bob answers, Alice hangs up', async (ctx) => {
      skipIfBlocked(ctx, plainRtpMissing());
      const { alice, bob } = await call('caller.xml', 'answerer.xml');
      expectAllSucceeded(alice);
      expectAllSucceeded(bob);
      expect(await lastCallRecord()).toMatchObject({ caller_extension: ALICE, callee_extension: BOB, disposition: 'answered' });
    });

    it('Alice calls Bob, Bob answers and hangs up', async (ctx) => {
      skipIfBlocked(ctx, plainRtpMissing());
      const { alice, bob } = await call('caller-awaits-bye.xml', 'answerer-hangs-up.xml');
      expectAllSucceeded(alice);
      expectAllSucceeded(bob);
      expect(await lastCallRecord()).toMatchObject({ caller_extension: ALICE, disposition: 'answered' });
    });

    it('Alice cancels while Bob’s phone rings: 487 to Alice, CANCEL to Bob', async (ctx) => {
      skipIfBlocked(ctx, plainRtpMissing());
      const { alice, bob } = await call('caller-cancels.xml', 'answerer-rings.xml');
      expectAllSucceeded(alice);
      expectAllSucceeded(bob);
      expect(await lastCallRecord()).toMatchObject({ caller_extension: ALICE, disposition: 'cancelled' });
    });

    it('Alice puts Bob on hold with a sendonly re-INVITE, resumes, and hangs up', async (ctx) => {
      skipIfBlocked(ctx, plainRtpMissing(), reInviteMissing());
      const { alice, bob } = await call('caller-holds.xml', 'answerer.xml');
      expectAllSucceeded(alice);
      expectAllSucceeded(bob);
    });
  });
}
