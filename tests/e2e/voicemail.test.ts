/**
 * Voicemail end to end, on the built PBX process with the demo organization: Bob's answering rule rings his devices
 * for 5 s and then sends callers to voicemail.
 * - Alice calls from the web phone (her microphone plays 1.2 kHz) and Bob does not answer: she hears the default
 *   greeting, leaves a message, and the stored recording holds her tone, not the greeting or the record tone. Bob's
 *   desk phone, subscribed to message-summary, sees its lamp light (1 new), and his app's Voicemail badge says 1.
 * - Bob uploads a greeting (a 600 Hz sound) and makes it active. Carol calls from a desk phone (G.711), hears it,
 *   and speaks a 1 kHz tone: a second message holds her tone (narrowband, so not transcribed), and the lamp says 2
 *   new. Alice's next call hears the greeting too; she hangs up during it and nothing is kept.
 * Real PBX process, real Chromium, a desk phone over UDP; the clock is the machine's.
 */
import { describe, expect, it } from 'vitest';
import type { AnsweringRule, TimeFrame } from '../../shared/answering-rules';
import type { SessionResponse } from '../../shared/api';
import type { VoicemailList } from '../../shared/voicemail';
import { decodeAudio, encodeWav } from '../../server/media/audio-file';
import { decodeG711, encodeG711 } from '../../server/media/joins/g711';
import { DEMO_ORGANIZATION } from '../../server/store/demo';
import { audioDestination, UdpDeskPhone } from '../support/udp-desk-phone';
import type { SipText } from '../support/sip-phone';
import { alice, bob, carol, useStage } from './support/setup';
import { expectToHear, WebPhone } from './support/web-phone';

const ALICE_HZ = 1_200;
const CAROL_HZ = 1_000;
const GREETING_HZ = 600;
/** The record tone the PBX plays before recording (features/voicemail/tone.ts); it must not be in a message. */
const RECORD_TONE_HZ = 440;

/** Power of `hz` in `samples` (Goertzel), per sample. */
function powerAt(samples: Int16Array, rate: number, hz: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let previous = 0;
  let beforePrevious = 0;
  for (const sample of samples) {
    const next = sample / 32768 + coefficient * previous - beforePrevious;
    beforePrevious = previous;
    previous = next;
  }
  return (previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious) / samples.length;
}

/** 20 ms of a tone at 8 kHz, frame `index` of a continuous tone. */
function toneFrame(hz: number, index: number): Int16Array {
  return new Int16Array(160).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * hz * (index * 160 + i)) / 8000)));
}

describe('voicemail end to end', () => {
  const stage = useStage('voicemail', [ALICE_HZ, 440]);

  async function tokenOf(person: { extension: string; password: string }): Promise<string> {
    const response = await fetch(`${stage.pbx.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension: person.extension, password: person.password }),
    });
    expect(response.ok, `sign-in as ${person.extension}: ${response.status}`).toBe(true);
    return ((await response.json()) as SessionResponse).token;
  }

  async function api<T>(token: string, method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${stage.pbx.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    expect(response.ok, `${method} ${path}: ${response.status} ${text}`).toBe(true);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async function newMessages(token: string, count: number): Promise<VoicemailList['items']> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const list = await api<VoicemailList>(token, 'GET', '/voicemails?box=new');
      if (list.items.length >= count || Date.now() > deadline) return list.items;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** The message's recording, decoded, with how strongly each frequency of interest is in it. */
  async function recording(token: string, id: number): Promise<{ durationMs: number; power: (hz: number) => number }> {
    const response = await fetch(`${stage.pbx.url}/api/v1/voicemails/${id}/audio`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^audio\/ogg/);
    const audio = decodeAudio(Buffer.from(await response.arrayBuffer()), `voicemail ${id}`);
    return { durationMs: audio.durationMs, power: (hz) => powerAt(audio.samples, audio.rate, hz) };
  }

  /** Answers each NOTIFY of the message-waiting lamp (as a phone must, or the PBX ends the subscription) until one matches `body`. */
  async function lamp(desk: UdpDeskPhone, body: RegExp): Promise<SipText> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const notify = await desk.next((m) => m.kind === 'request' && m.method === 'NOTIFY', Math.max(1, deadline - Date.now()));
      desk.reply(notify, 200, 'OK');
      if (body.test(notify.body)) return notify;
    }
  }

  it('keeps unanswered calls from the web phone and from a desk phone, lights the lamp and the badge, and plays the active greeting', async () => {
    const bobToken = await tokenOf(bob);
    const frame = await api<TimeFrame>(bobToken, 'POST', '/time-frames', { name: 'Any time', spec: { type: 'always' } });
    await api<AnsweringRule>(bobToken, 'POST', '/answering-rules', {
      name: 'Ring briefly, then voicemail',
      timeFrameId: frame.id,
      priority: 1,
      action: { type: 'ring', ringSeconds: 5, whenNotAnswered: { type: 'voicemail' } },
    });

    // Bob's desk phone watches his mailbox: dark to begin with.
    const desk = await UdpDeskPhone.registered(stage.pbx.sipUdpPort, bob.extension, DEMO_ORGANIZATION.domain, bob.sipPassword);
    const carolDesk = await UdpDeskPhone.registered(stage.pbx.sipUdpPort, carol.extension, DEMO_ORGANIZATION.domain, carol.sipPassword);
    const [a, b] = await Promise.all([WebPhone.signedIn(stage.browsers[0]!, stage.pbx.url, alice), WebPhone.signedIn(stage.browsers[1]!, stage.pbx.url, bob)]);
    try {
      const subscribed = await desk.authenticated('SUBSCRIBE', bob.extension, bob.sipPassword, { Event: 'message-summary', Accept: 'application/simple-message-summary', Expires: '600' });
      expect(subscribed.status).toBeLessThan(300);
      await lamp(desk, /Messages-Waiting:\s*no/i);

      // Alice calls; Bob's app rings and nobody answers; after 5 s the PBX answers for his voicemail.
      await a.call(bob.extension);
      await b.incomingCall().waitFor({ timeout: 10_000 });
      await a.activeCall().waitFor({ timeout: 20_000 });
      expect(await a.level(), 'Alice hears the default greeting').toBeGreaterThan(-50);
      // The default greeting and the tone take a few seconds; then she speaks (her tone) for a few more.
      await a.page.waitForTimeout(14_000);
      await a.hangUp();

      await lamp(desk, /Voice-Message:\s*1\/0/i);
      await b.page.getByRole('navigation', { name: 'Sections' }).getByRole('status').filter({ hasText: /^\s*1\s*new\s*$/ }).waitFor({ timeout: 5_000 });
      const [fromAlice] = await newMessages(bobToken, 1);
      expect(fromAlice?.callerName).toBe(alice.displayName);
      const aliceAudio = await recording(bobToken, fromAlice!.id);
      expect(aliceAudio.durationMs).toBeGreaterThan(1_500);
      expect(aliceAudio.power(ALICE_HZ), 'Alice’s tone is in her message').toBeGreaterThan(1e-4);
      expect(aliceAudio.power(ALICE_HZ)).toBeGreaterThan(50 * aliceAudio.power(RECORD_TONE_HZ));

      // Bob's own greeting: a 600 Hz sound, uploaded and made active.
      const samples = new Int16Array(16_000 * 3).map((_, i) => Math.round(8000 * Math.sin((2 * Math.PI * GREETING_HZ * i) / 16_000)));
      const upload = await fetch(`${stage.pbx.url}/api/v1/greetings?name=${encodeURIComponent('Tone greeting')}`, {
        method: 'POST',
        headers: { 'authorization': `Bearer ${bobToken}`, 'content-type': 'audio/wav' },
        body: new Uint8Array(encodeWav(samples, 16_000)),
      });
      const uploadText = await upload.text();
      expect(upload.status, uploadText).toBe(201);
      const greeting = JSON.parse(uploadText) as { id: number };
      await api(bobToken, 'PATCH', `/greetings/${greeting.id}`, { active: true });

      // Carol calls from her desk phone, hears Bob's greeting, and speaks a 1 kHz tone.
      const { final, dialog } = await carolDesk.invite(bob.extension, carol.sipPassword);
      expect(final.status).toBe(200);
      const media = audioDestination(final.body);
      for (let seq = 0; seq < 400; seq++) {
        carolDesk.sendPayload(encodeG711('ulaw', toneFrame(CAROL_HZ, seq)), seq, media);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      carolDesk.bye(dialog);
      const heard = new Int16Array(carolDesk.heard.length * 160);
      carolDesk.heard.forEach((payload, i) => decodeG711('ulaw', payload, heard.subarray(i * 160)));
      expect(powerAt(heard, 8000, GREETING_HZ), 'Carol heard Bob’s greeting').toBeGreaterThan(100 * powerAt(heard, 8000, CAROL_HZ));
      await lamp(desk, /Voice-Message:\s*2\/0/i);
      const messages = await newMessages(bobToken, 2);
      const fromCarol = messages.find((m) => m.callerName === carol.displayName || m.callerNumber === carol.extension);
      expect(fromCarol, JSON.stringify(messages)).toBeDefined();
      const carolAudio = await recording(bobToken, fromCarol!.id);
      expect(carolAudio.power(CAROL_HZ), 'Carol’s tone is in her message').toBeGreaterThan(1e-4);
      expect(carolAudio.power(CAROL_HZ)).toBeGreaterThan(50 * carolAudio.power(GREETING_HZ));
      expect(fromCarol!.transcript.status, 'a desk phone’s narrowband audio is not guessed at').toBe('narrowband');

      // Alice's next call from the web phone hears the greeting too; she hangs up during it, and nothing is kept.
      await a.call(bob.extension);
      await a.activeCall().waitFor({ timeout: 20_000 });
      await expectToHear(a, GREETING_HZ);
      await a.hangUp();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect((await api<VoicemailList>(bobToken, 'GET', '/voicemails?box=new')).items).toHaveLength(2);
    } finally {
      await a.close();
      await b.close();
      desk.close();
      carolDesk.close();
    }
  });
});
