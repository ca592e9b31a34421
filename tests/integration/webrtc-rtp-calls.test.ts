/**
 * Calls between a WebRTC phone (SIP over WebSocket, DTLS-SRTP from a werift peer, as a browser sends it) and a
 * plain desk phone (SIP over UDP, RTP/AVP G.711 from a UDP socket), through the PBX in-process, in both
 * directions: each side is offered the media it speaks, and the same audio bytes cross both ways.
 * A desk phone registered through an edge proxy (Path, RFC 3327) is called through that proxy.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';
import { SipPhone } from '../support/sip-phone';
import type { PhoneDialog } from '../support/sip-phone';
import { audioDestination, UdpDeskPhone } from '../support/udp-desk-phone';
import { deskPassword, DOMAIN, udpPbxSuite } from '../support/udp-pbx';

const WEB_TONE = 0xa1;
const DESK_TONE = 0xb2;

/** A browser's media: a full-ICE werift peer on loopback with its default codecs (Opus, PCMU). */
class WebPeer {
  readonly pc = new RTCPeerConnection({ iceServers: [], iceUseIpv6: false, iceInterfaceAddresses: { udp4: '127.0.0.1' }, iceAdditionalHostAddresses: ['127.0.0.1'] });
  readonly track = new MediaStreamTrack({ kind: 'audio' });
  /** Payloads of the PCMU packets that reached the browser. */
  readonly heard: Buffer[] = [];

  constructor() {
    this.pc.addTransceiver(this.track, { direction: 'sendrecv' });
    this.pc.onTrack.subscribe((remote) =>
      remote.onReceiveRtp.subscribe((rtp) => {
        if (rtp.header.payloadType === 0) this.heard.push(rtp.payload);
      }),
    );
  }

  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return this.gathered();
  }

  async answer(offerSdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.gathered();
  }

  async accept(answerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answerSdp });
  }

  /** 20 ms of PCMU; werift's sender puts in the negotiated payload type and its SSRC. */
  send(seq: number): void {
    this.track.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, ssrc: 1 }), Buffer.alloc(160, WEB_TONE)));
  }

  private async gathered(): Promise<string> {
    while (this.pc.iceGatheringState !== 'complete') await new Promise((r) => setTimeout(r, 10));
    return this.pc.localDescription?.sdp ?? '';
  }
}

const tone = (fill: number) => Buffer.alloc(160, fill);

/** Both sides talk until each has heard ten packets of the other's audio, byte for byte. */
async function talk(web: WebPeer, desk: UdpDeskPhone, pbxRtp: { address: string; port: number }): Promise<void> {
  const webHeard = () => web.heard.filter((p) => p.equals(tone(DESK_TONE))).length;
  const deskHeard = () => desk.heard.filter((p) => p.equals(tone(WEB_TONE))).length;
  for (let seq = 1; seq <= 250 && (webHeard() < 10 || deskHeard() < 10); seq++) {
    web.send(seq);
    desk.sendAudio(DESK_TONE, seq, pbxRtp);
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(webHeard(), 'PCMU packets from the desk phone heard by the browser').toBeGreaterThanOrEqual(10);
  expect(deskHeard(), 'PCMU packets from the browser heard by the desk phone').toBeGreaterThanOrEqual(10);
}

describe('calls between a WebRTC phone and a plain RTP desk phone', () => {
  const suite = udpPbxSuite('webrtc-rtp');
  const { cleanups } = suite;
  // These tests are about the SIP exchange itself: a device's refusal (busy, unavailable, a challenge) reaches the
  // caller as it was given. With the PBX's services, such a call goes to voicemail instead, which the voicemail and
  // answering-rules tests cover; here the engine runs without them.
  beforeAll(() => {
    suite.pbx.sip.calls.services = undefined;
  });

  async function webPhone(extension: string, password: string): Promise<{ phone: SipPhone; media: WebPeer }> {
    const phone = await SipPhone.register(suite.pbx.httpUrl, suite.pbx.sipWebSocketUrl, extension, password);
    const media = new WebPeer();
    cleanups.push(() => phone.close(), () => media.pc.close());
    return { phone, media };
  }

  async function deskPhone(extension: string, headers: Record<string, string> = {}): Promise<UdpDeskPhone> {
    const desk = await UdpDeskPhone.start(suite.pbx.sipPorts.udp ?? 0, extension, DOMAIN);
    const registered = await desk.register(deskPassword(extension), headers);
    expect(registered.status).toBe(200);
    cleanups.push(async () => {
      await desk.register(deskPassword(extension), { ...headers, Expires: '0' });
      desk.close();
    });
    return desk;
  }

  async function webHangsUp(web: SipPhone, dialog: PhoneDialog, desk: UdpDeskPhone): Promise<void> {
    web.inDialog(dialog, 'BYE');
    const bye = await desk.request('BYE');
    desk.reply(bye, 200, 'OK');
    expect((await web.response('BYE')).status).toBe(200);
  }

  it('a WebRTC phone calls a desk phone: the desk phone is offered RTP/AVP G.711, and audio crosses both ways', async () => {
    const desk = await deskPhone('102');
    const { phone: alice, media } = await webPhone('101', 'alice-101');

    const calling = alice.invite('102', await media.offer());
    const invite = await desk.request('INVITE');
    const offered = audioDestination(invite.body);
    expect(offered.protocol).toBe('RTP/AVP');
    expect(offered.formats[0]).toBe('0');
    expect(invite.body).toMatch(/^a=rtpmap:0 PCMU\/8000/m);
    expect(invite.body).not.toMatch(/^a=fingerprint/m);
    desk.answer(invite);

    const { final, dialog } = await calling;
    expect(final.status).toBe(200);
    // The browser's leg stays WebRTC, with the one codec the desk phone can share.
    expect(final.body).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0(?: \d+)*\r?$/m);
    expect(final.body).toMatch(/^a=fingerprint:sha-256 /m);
    await media.accept(final.body);

    await talk(media, desk, offered);
    await webHangsUp(alice, dialog, desk);
    expect(suite.pbx.sip.calls.activeCallCount).toBe(0);
  });

  it('a desk phone calls a WebRTC phone: the browser is offered DTLS-SRTP, the desk phone gets RTP/AVP, and audio crosses both ways', async () => {
    const desk = await deskPhone('102');
    const { phone: alice, media } = await webPhone('101', 'alice-101');

    const calling = desk.invite('101', deskPassword('102'));
    const invite = await alice.request('INVITE');
    expect(invite.body).toMatch(/^m=audio \d+ UDP\/TLS\/RTP\/SAVPF 0(?: \d+)*\r?$/m);
    expect(invite.body).toMatch(/^a=fingerprint:sha-256 /m);
    const webDialog = alice.answer(invite, await media.answer(invite.body));

    const { final, dialog } = await calling;
    expect(final.status).toBe(200);
    const answered = audioDestination(final.body);
    expect(answered.protocol).toBe('RTP/AVP');
    expect(answered.formats[0]).toBe('0');
    expect(answered.address).toBe('127.0.0.1');

    await talk(media, desk, answered);
    desk.bye(dialog);
    const bye = await alice.request('BYE');
    expect(bye.header('Call-ID')).toBe(webDialog.callId);
    alice.reply(bye, 200, 'OK');
    expect((await desk.response('BYE')).status).toBe(200);
    expect(suite.pbx.sip.calls.activeCallCount).toBe(0);
  });

  it('reaches a desk phone registered through an edge proxy by the Path it registered with', async () => {
    const edge = '<sip:edge.offhook.test;lr>';
    const desk = await deskPhone('102', { Path: edge, Supported: 'path' });
    const { phone: alice, media } = await webPhone('101', 'alice-101');

    const calling = alice.invite('102', await media.offer());
    const invite = await desk.request('INVITE');
    expect(invite.headers.filter(([name]) => name.toLowerCase() === 'route').map(([, value]) => value)).toEqual([edge]);
    desk.reply(invite, 486, 'Busy Here', { toTag: 'busy' });
    const { final } = await calling;
    expect(final.status).toBe(486);
  });
});
