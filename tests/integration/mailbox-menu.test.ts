/**
 * The *97 mailbox menu from a desk phone over real UDP through the PBX (in-process, SQLite): the phone dials *97,
 * hears the prompts, keys its PIN as RFC 4733 telephone-events, hears its messages, saves one with 9 and deletes
 * the next with 7, and the store (rows and files) changes accordingly; three wrong PINs end the call.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RtpHeader, RtpPacket } from 'werift';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/password';
import { encodeOggOpus } from '../../server/media/audio-file';
import { createDecoder } from '../../server/media/joins/frame-codec';
import { toneFrame, toneLevel } from '../../server/media/joins/mixer.test-helper';
import { serializeTelephoneEvent, digitToEvent } from '../../server/media/legs/dtmf';
import { findOrganizationByDomain } from '../../server/store/organizations';
import { findUserByExtension } from '../../server/store/users';
import { getVoicemail, insertVoicemail, setMailboxPinHash } from '../../server/store/voicemails';
import type { RunningPbx } from '../../server/pbx';
import { audioDestination, UdpDeskPhone } from '../support/udp-desk-phone';
import { DOMAIN, deskPassword, startUdpPbx } from '../support/udp-pbx';

const TELEPHONE_EVENT = 101;

/** The phone's media: receives PCMU (decoded as the phone would) and sends key presses as RFC 4733 events. */
class PhoneMedia {
  readonly heard: Int16Array[] = [];
  private readonly decoder = createDecoder('pcmu', 8000);
  private sequence = 1;
  private timestamp = 8000;
  private target: { address: string; port: number } | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('message', (data) => {
      const packet = RtpPacket.deSerialize(data);
      if (packet.header.payloadType !== 0) return;
      const pcm = new Int16Array(160);
      this.decoder.decode(packet.payload, pcm);
      this.heard.push(pcm);
    });
  }

  static async open(): Promise<PhoneMedia> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    return new PhoneMedia(socket);
  }

  sdp(): string {
    const port = this.socket.address().port;
    return ['v=0', `o=menu ${Date.now()} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 ${TELEPHONE_EVENT}`, 'a=rtpmap:0 PCMU/8000', `a=rtpmap:${TELEPHONE_EVENT} telephone-event/8000`, `a=fmtp:${TELEPHONE_EVENT} 0-15`, 'a=ptime:20', 'a=sendrecv', ''].join('\r\n');
  }

  sendTo(sdp: string): void {
    const { address, port } = audioDestination(sdp);
    this.target = { address, port };
  }

  /** The level of `hz` in the last `frames` frames heard. */
  level(hz: number, frames = 10): number {
    const recent = this.heard.slice(-frames);
    const samples = new Int16Array(recent.length * 160);
    recent.forEach((frame, i) => samples.set(frame, i * 160));
    return toneLevel(samples, 8000, hz);
  }

  /** Resolves once the PBX starts sending again (a new prompt) after `since` frames. */
  async nextPrompt(since: number): Promise<void> {
    await expect.poll(() => this.heard.length, { timeout: 10_000, interval: 20 }).toBeGreaterThan(since + 5);
  }

  /** Whether the last `frames` frames hold sound (speech or a tone), not silence. */
  hearsSound(frames = 25): boolean {
    const recent = this.heard.slice(-frames);
    return recent.length === frames && recent.some((frame) => frame.some((sample) => Math.abs(sample) > 2000));
  }

  /** One key press: an event of 100 ms, its packets 20 ms apart, the end packet sent three times (RFC 4733 §2.5.1.4). */
  async press(keys: string): Promise<void> {
    for (const key of keys) {
      const event = digitToEvent(key)!;
      const start = this.timestamp;
      for (let step = 1; step <= 8; step++) {
        const end = step >= 6;
        const payload = serializeTelephoneEvent({ event, end, volume: 10, duration: Math.min(step, 5) * 160 });
        this.send(new RtpPacket(new RtpHeader({ payloadType: TELEPHONE_EVENT, sequenceNumber: this.sequence++, timestamp: start, ssrc: 0x97, marker: step === 1 }), payload));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      this.timestamp += 160 * 10;
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
  }

  private send(packet: RtpPacket): void {
    if (!this.target) throw new Error('no media address from the PBX yet');
    this.socket.send(packet.serialize(), this.target.port, this.target.address);
  }

  close(): void {
    this.socket.close();
  }
}

/** A tone of `hz` lasting `ms`, as the Ogg Opus file a deposit would have stored. */
function toneFile(hz: number, ms: number): Buffer {
  const frames = ms / 20;
  const samples = new Int16Array(frames * 320);
  for (let i = 0; i < frames; i++) samples.set(toneFrame(hz, 16000, i), i * 320);
  return encodeOggOpus(samples, 16000);
}

describe('the *97 mailbox menu from a desk phone', () => {
  let pbx: RunningPbx;
  let dataDir: string;
  const cleanups: Array<() => unknown> = [];
  beforeAll(async () => {
    ({ pbx, dataDir } = await startUdpPbx('mailbox-menu'));
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await expect.poll(() => pbx.sip.calls.activeCallCount).toBe(0);
  });
  afterAll(async () => {
    await pbx?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  async function mailboxOwner(extension: string): Promise<{ organizationId: number; userId: number }> {
    const organization = await findOrganizationByDomain(pbx.db, DOMAIN);
    const user = await findUserByExtension(pbx.db, organization!.id, extension);
    return { organizationId: organization!.id, userId: user!.id };
  }

  async function seed(owner: { organizationId: number; userId: number }, name: string, hz: number, receivedAt: string): Promise<number> {
    const folder = join(dataDir, 'voicemail');
    mkdirSync(folder, { recursive: true });
    const bytes = toneFile(hz, 2000);
    writeFileSync(join(folder, `${name}.ogg`), bytes);
    return insertVoicemail(pbx.db, {
      ...owner,
      callerName: 'Carol Chen',
      callerNumber: '103',
      callerExtension: '103',
      receivedAt,
      durationMs: 2000,
      file: join('voicemail', `${name}.ogg`),
      sizeBytes: bytes.length,
      wideband: true,
      reason: 'no-answer',
    });
  }

  /** 101's desk phone dials *97 with its media on `media`; the 200's SDP tells where to send keys. */
  async function dialMenu(media: PhoneMedia): Promise<{ phone: UdpDeskPhone }> {
    const phone = await UdpDeskPhone.registered(pbx.sipPorts.udp ?? 0, '101', DOMAIN, deskPassword('101'));
    cleanups.push(() => phone.close());
    const { final } = await phone.invite('*97', deskPassword('101'), {}, media.sdp());
    expect(final.status).toBe(200);
    media.sendTo(final.body);
    return { phone };
  }

  it('PIN by DTMF, then 9 saves the first message and 7 deletes the next; the store follows', async () => {
    const owner = await mailboxOwner('101');
    await setMailboxPinHash(pbx.db, owner.userId, await hashPassword('2468'));
    const older = await seed(owner, 'menu-older', 1000, '2026-12-01T09:00:00.000Z');
    const newer = await seed(owner, 'menu-newer', 1500, '2026-12-02T09:00:00.000Z');
    const media = await PhoneMedia.open();
    cleanups.push(() => media.close());
    const { phone } = await dialMenu(media);

    // "Please enter your password followed by the pound key."
    await expect.poll(() => media.hearsSound(), { timeout: 5_000 }).toBe(true);
    await media.press('2468#');
    // The older message first: its 1 kHz tone reaches the phone after the counts and "message one".
    await expect.poll(() => media.level(1000), { timeout: 20_000, interval: 50 }).toBeGreaterThan(2000);
    await media.press('9');
    // "Your message has been saved", then the next message, 1.5 kHz.
    await expect.poll(() => media.level(1500), { timeout: 20_000, interval: 50 }).toBeGreaterThan(2000);
    expect((await getVoicemail(pbx.db, owner, older))?.status).toBe('saved');
    await media.press('7');
    // "Message deleted", "No more messages", "Goodbye", and the PBX hangs up.
    const bye = await phone.request('BYE', 20_000);
    phone.reply(bye, 200, 'OK');
    expect(await getVoicemail(pbx.db, owner, newer)).toBeUndefined();
    expect(existsSync(join(dataDir, 'voicemail', 'menu-newer.ogg'))).toBe(false);
    expect((await getVoicemail(pbx.db, owner, older))?.status).toBe('saved');
  });

  it('three wrong PINs: the PBX hangs up and nothing changes', async () => {
    const owner = await mailboxOwner('101');
    await setMailboxPinHash(pbx.db, owner.userId, await hashPassword('1357'));
    const kept = await seed(owner, 'menu-kept', 1000, '2026-12-03T09:00:00.000Z');
    const media = await PhoneMedia.open();
    cleanups.push(() => media.close());
    const { phone } = await dialMenu(media);
    // Each guess is keyed over the prompt that asks for it ("Please enter…", then "Password incorrect…").
    await expect.poll(() => media.hearsSound(), { timeout: 5_000 }).toBe(true);
    for (const guess of ['1111#', '2222#', '3333#']) {
      await media.press(guess);
      // The keys stopped the prompt; the next one starts once the guess is checked.
      if (guess !== '3333#') await media.nextPrompt(media.heard.length);
    }
    const bye = await phone.request('BYE', 30_000);
    phone.reply(bye, 200, 'OK');
    expect((await getVoicemail(pbx.db, owner, kept))?.status).toBe('new');
    expect(media.level(1000, 1000)).toBeLessThan(500);
  });
});
