/**
 * The *97 mailbox menu end to end, on the built PBX process with the demo organization (every demo user's PIN is
 * 1234): Carol's desk phone leaves Alice a message (a 1 kHz tone) while Alice has no device registered; then Alice
 * signs in to the web phone, dials *97, keys her PIN on the in-call dial pad (RFC 4733 from Chromium), hears the
 * menu speak and her message's tone, saves it with 9, and hears goodbye as the PBX hangs up. The message is in
 * Saved and the app's Voicemail badge has gone.
 * Real PBX process, real Chromium, a desk phone over UDP; the clock is the machine's.
 */
import { describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../shared/api';
import type { VoicemailList } from '../../shared/voicemail';
import { DEMO_ORGANIZATION } from '../../server/store/demo';
import { audioDestination, UdpDeskPhone } from '../support/udp-desk-phone';
import { alice, carol, useStage } from './support/setup';
import { waitToHear, WebPhone } from './support/web-phone';

const MESSAGE_HZ = 1_000;

/** µ-law of one 16-bit sample (ITU-T G.711). */
function ulaw(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  const magnitude = Math.min(Math.abs(sample), 32635) + 0x84;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** 20 ms of a tone at 8 kHz as a PCMU payload, frame `index` of a continuous tone. */
function toneFrame(hz: number, index: number): Buffer {
  const frame = Buffer.alloc(160);
  for (let i = 0; i < 160; i++) frame[i] = ulaw(Math.round(8000 * Math.sin((2 * Math.PI * hz * (index * 160 + i)) / 8000)));
  return frame;
}

describe('the *97 mailbox menu end to end', () => {
  const stage = useStage('mailbox-menu', [700]);

  async function messages(box: 'new' | 'saved'): Promise<VoicemailList['items']> {
    const session = await fetch(`${stage.pbx.url}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension: alice.extension, password: alice.password }),
    });
    const { token } = (await session.json()) as SessionResponse;
    const response = await fetch(`${stage.pbx.url}/api/v1/voicemails?box=${box}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as VoicemailList).items;
  }

  it('plays a message to its owner from the web phone and saves it by key press', async () => {
    // Alice has no device yet: Carol's call goes straight to voicemail, and she speaks a 1 kHz tone for 20 s.
    const carolDesk = await UdpDeskPhone.registered(stage.pbx.sipUdpPort, carol.extension, DEMO_ORGANIZATION.domain, carol.sipPassword);
    let phone: WebPhone | undefined;
    try {
      const { final, dialog } = await carolDesk.invite(alice.extension, carol.sipPassword);
      expect(final.status).toBe(200);
      const media = audioDestination(final.body);
      for (let seq = 0; seq < 1000; seq++) {
        carolDesk.sendPayload(toneFrame(MESSAGE_HZ, seq), seq, media);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      carolDesk.bye(dialog);
      await expect.poll(() => messages('new'), { timeout: 10_000 }).toHaveLength(1);
      const [left] = await messages('new');

      phone = await WebPhone.signedIn(stage.browsers[0]!, stage.pbx.url, alice);
      const badge = phone.page.getByRole('navigation', { name: 'Sections' }).getByRole('status').filter({ hasText: /^\s*1(\s+new)?\s*$/ });
      await badge.waitFor({ timeout: 10_000 });

      await phone.call('*97');
      await phone.activeCall().waitFor({ timeout: 20_000 });
      // "Please enter your password followed by the pound key."
      await expect.poll(() => phone!.level(), { timeout: 10_000 }).toBeGreaterThan(-50);
      await phone.press('Dial pad');
      await phone.pressKeys('1234#');
      // "You have one new message", "message one", and the message: Carol's tone.
      await waitToHear(phone, MESSAGE_HZ, 30_000);
      await phone.pressKeys('9');
      // "Your message has been saved", "No more messages", "Goodbye", and the PBX hangs up.
      await phone.activeCall().waitFor({ state: 'detached', timeout: 30_000 });
      expect(await messages('new')).toHaveLength(0);
      expect((await messages('saved')).map((message) => message.id)).toEqual([left!.id]);
      await badge.waitFor({ state: 'detached', timeout: 5_000 });
    } finally {
      await phone?.close();
      carolDesk.close();
    }
  });
});
