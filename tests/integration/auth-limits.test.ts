/**
 * Password guessing against the PBX in-process over real UDP, as an office and an attacker meet it.
 *
 * Behind one NAT (here 127.0.0.1, each phone on its own port): a phone with a stale password gets its own
 * account banned from the address, not the office; and even when someone there sprays guesses over accounts
 * and the address is banned as a whole, the registered phones go on refreshing, calling and answering calls.
 * From many addresses (127.0.0.x loopback aliases): guesses at one extension are held by the account's delay,
 * while the account's own phone goes on registering.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { accountKey } from '../../server/auth/attempt-limiter';
import { parseSip } from '../support/sip-phone';
import type { SipText } from '../support/sip-phone';
import { digestAuthorization } from '../support/sip-ws-client';
import { DOMAIN, deskPassword, udpPbxSuite } from '../support/udp-pbx';
import { UdpDeskPhone } from '../support/udp-desk-phone';

const OFFICE = '127.0.0.1';

describe('an office behind one address', () => {
  const suite = udpPbxSuite('auth-nat');

  async function phone(extension: string, password = deskPassword(extension)): Promise<{ desk: UdpDeskPhone; answer: SipText }> {
    const desk = await UdpDeskPhone.start(suite.pbx.sipPorts.udp ?? 0, extension, DOMAIN);
    suite.cleanups.push(() => desk.close());
    return { desk, answer: await desk.register(password) };
  }

  const signIn = (extension: string, password: string) =>
    fetch(`${suite.pbx.httpUrl}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ extension, password }) });

  /** `caller` calls `callee`, which rings (180) and answers (200) on its own: what the caller got. */
  async function call(caller: UdpDeskPhone, callee: UdpDeskPhone): Promise<number[]> {
    const calling = caller.invite(callee.extension, deskPassword(caller.extension));
    const invite = await callee.request('INVITE');
    const tag = randomBytes(4).toString('hex');
    callee.reply(invite, 180, 'Ringing', { toTag: tag, headers: { Contact: callee.contact } });
    const ringing = await caller.next((m) => m.kind === 'response' && m.status === 180);
    callee.reply(invite, 200, 'OK', { toTag: tag, headers: { Contact: callee.contact }, body: callee.sdp() });
    const { final, dialog } = await calling;
    await callee.request('ACK');
    caller.bye(dialog);
    callee.reply(await callee.request('BYE'), 200, 'OK');
    await caller.response('BYE');
    return [ringing.status, final.status];
  }

  it('bans a stale phone from its account at the address, not the office; a spray bans the address, and registered phones go on', async () => {
    const alice = await phone('101');
    const carol = await phone('103');
    expect([alice.answer.status, carol.answer.status]).toEqual([200, 200]);

    // Carol's old desk phone, with the password she has since changed, keeps trying: 10 failures in a minute.
    const stale = await phone('103', 'carol-old-password');
    expect(stale.answer.status).toBe(403);
    for (let i = 0; i < 9; i++) expect((await stale.desk.register('carol-old-password')).status).toBe(403);
    const security = suite.pbx.sip.security;
    expect(security.attempts.isPairBanned(OFFICE, accountKey(DOMAIN, '103'))).toBe(true);
    expect(security.isBanned(OFFICE)).toBe(false);
    // The pair ban holds at the REST door too; other accounts from the office sign in.
    expect((await signIn('103', 'carol-103')).status).toBe(429);
    expect((await signIn('101', 'alice-101')).status).toBe(201);
    // Carol's phone that registered on its own flow refreshes; Bob, new at the office, registers; Alice's rings.
    expect((await carol.desk.register(deskPassword('103'))).status).toBe(200);
    const bob = await phone('102');
    expect(bob.answer.status).toBe(200);
    expect(await call(bob.desk, alice.desk)).toEqual([180, 200]);

    // Someone at the office sprays guesses over extensions, real or not: the address is banned as a whole.
    for (const extension of ['9001', '9002', '9003', '9004', '9005']) {
      if (security.isBanned(OFFICE)) break;
      expect((await (await phone(extension, 'guess')).answer).status).toBe(403);
    }
    expect(security.isBanned(OFFICE)).toBe(true);
    // The registered phones go on: Alice refreshes, Bob calls her, her 180 and 200 reach him.
    expect((await alice.desk.register(deskPassword('101'))).status).toBe(200);
    expect(await call(bob.desk, alice.desk)).toEqual([180, 200]);
    // A phone that is not registered yet is not answered until the ban ends (here lifted by hand).
    const newcomer = await UdpDeskPhone.start(suite.pbx.sipPorts.udp ?? 0, '100', DOMAIN);
    suite.cleanups.push(() => newcomer.close());
    const aor = `<sip:100@${DOMAIN}>`;
    newcomer.send('REGISTER', `sip:${DOMAIN}`, { 'From': `${aor};tag=n`, 'To': aor, 'Call-ID': 'newcomer@127.0.0.1', 'CSeq': '1 REGISTER', 'Contact': newcomer.contact });
    await expect(newcomer.next(() => true, 1_000)).rejects.toThrow(/no matching SIP message/);
    security.unban(OFFICE);
    expect((await newcomer.register(deskPassword('100'))).status).toBe(200);
  }, 60_000);
});

/**
 * A device at `address` (a loopback alias) registering as `extension`, in two steps so that a test can have
 * many challenges answered at the same moment: `challenge` sends the REGISTER and returns its 401's challenge,
 * `answer` sends the REGISTER with credentials at once and resolves with its final response.
 */
class UdpRegistrant {
  private readonly responses: SipText[] = [];
  private wake: (() => void) | undefined;
  private readonly callId = `${randomBytes(6).toString('hex')}@registrant`;

  private constructor(
    private readonly socket: Socket,
    private readonly address: string,
    private readonly pbxPort: number,
    private readonly extension: string,
  ) {
    socket.on('message', (data) => {
      this.responses.push(parseSip(data.toString('utf8')));
      this.wake?.();
    });
  }

  static async open(address: string, pbxPort: number, extension: string): Promise<UdpRegistrant> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
    return new UdpRegistrant(socket, address, pbxPort, extension);
  }

  async challenge(): Promise<string> {
    this.send(1);
    const challenge = await this.final();
    if (challenge.status !== 401) throw new Error(`${this.address}: REGISTER got ${challenge.status}, not a challenge`);
    return challenge.header('WWW-Authenticate') ?? '';
  }

  answer(challenge: string, password: string): Promise<SipText> {
    this.send(2, digestAuthorization({ challenge, method: 'REGISTER', uri: `sip:${DOMAIN}`, username: this.extension, password }));
    return this.final();
  }

  close(): void {
    this.socket.close();
  }

  private send(cseq: number, authorization?: string): void {
    const port = this.socket.address().port;
    const lines = [
      `REGISTER sip:${DOMAIN} SIP/2.0`,
      `Via: SIP/2.0/UDP ${this.address}:${port};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      'Max-Forwards: 70',
      `From: <sip:${this.extension}@${DOMAIN}>;tag=${randomBytes(4).toString('hex')}`,
      `To: <sip:${this.extension}@${DOMAIN}>`,
      `Call-ID: ${this.callId}`,
      `CSeq: ${cseq} REGISTER`,
      `Contact: <sip:${this.extension}@${this.address}:${port}>`,
      ...(authorization ? [`Authorization: ${authorization}`] : []),
      'Content-Length: 0',
      '',
      '',
    ];
    this.socket.send(lines.join('\r\n'), this.pbxPort, '127.0.0.1');
  }

  /** The next final response, waiting at most 10 s for it. */
  private async final(): Promise<SipText> {
    for (let waited = 0; waited < 100; waited++) {
      const at = this.responses.findIndex((r) => r.status >= 200);
      if (at >= 0) return this.responses.splice(at, 1)[0]!;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    throw new Error(`${this.address}: no final response`);
  }
}

describe('guessing one extension from many addresses', () => {
  const suite = udpPbxSuite('auth-spread');

  it('holds the guesses by the account’s delay, unchecked, while the account’s own phone goes on registering', async () => {
    const alice = await suite.deskPhone('101');
    const port = suite.pbx.sipPorts.udp ?? 0;
    // Twelve addresses guess once each, and a thirteenth has the right password: each address alone is far
    // from any limit of its own. All thirteen answer their challenges at the same moment.
    const addresses = [...Array.from({ length: 12 }, (_, i) => `127.0.0.${10 + i}`), '127.0.0.30'];
    const registrants = await Promise.all(addresses.map((address) => UdpRegistrant.open(address, port, '101')));
    suite.cleanups.push(() => registrants.forEach((r) => r.close()));
    const challenges = await Promise.all(registrants.map((r) => r.challenge()));
    const passwords = [...Array.from({ length: 12 }, (_, i) => `guess-${i}`), deskPassword('101')];
    const answers = await Promise.all(registrants.map((r, i) => r.answer(challenges[i] ?? '', passwords[i] ?? '')));
    const statuses = answers.map((a) => a.status);
    // The first five failures are free; after them every attempt waits, refused unchecked with 503 and
    // Retry-After (RFC 3261 §21.5.4). The right password is refused like the guesses, so it tells nothing.
    expect(statuses.filter((s) => s === 403)).toHaveLength(5);
    expect(statuses.filter((s) => s === 503)).toHaveLength(8);
    expect(answers.at(-1)?.status).toBe(503);
    expect(answers.filter((a) => a.status === 503).every((a) => Number(a.header('Retry-After')) >= 1)).toBe(true);
    for (const address of addresses) expect(suite.pbx.sip.security.isBanned(address)).toBe(false);
    // Alice's phone, a known device, is not held by what the others did; nor is a new phone at her address.
    expect((await alice.register(deskPassword('101'))).status).toBe(200);
    const beside = await UdpRegistrant.open('127.0.0.1', port, '101');
    suite.cleanups.push(() => beside.close());
    expect((await beside.answer(await beside.challenge(), deskPassword('101'))).status).toBe(200);
  });
});
