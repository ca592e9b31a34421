/**
 * Ending the calls a crash left: what is stored of a leg, the BYE made from it, and which legs can be reached
 * again, with recording flows for the devices' wire.
 */
import { describe, expect, it } from 'vitest';
import type { StoredLeg } from '../store/active-calls';
import { byeFor, hangUpCallsLeftByCrash, legOf, legsMoved, markLegs, RECOVERY_CSEQ_MARGIN } from './call-recovery';
import { Dialog } from '../sip/dialog/dialog';
import { SipEndpoint } from '../sip/endpoint';
import { parseNameAddr } from '../sip/syntax/message';
import { FakeConnection } from '../sip/test-support';

const DOMAIN = 'demo.offhook.test';

function dialog(connection: FakeConnection, extra: Partial<ConstructorParameters<typeof Dialog>[0]> = {}): Dialog {
  return new Dialog({
    callId: 'leg-1@192.0.2.10',
    localTag: 'pbx1',
    remoteTag: 'phone1',
    localUri: `<sip:102@${DOMAIN}>;tag=pbx1`,
    remoteUri: `"Alice" <sip:101@${DOMAIN}>;tag=phone1`,
    remoteTarget: 'sip:101@192.0.2.10:5062',
    localCseq: 0,
    routeSet: [],
    connection,
    state: 'confirmed',
    ...extra,
  });
}

const leg = (extra: Partial<StoredLeg> = {}): StoredLeg => ({
  callId: 'leg-1@192.0.2.10',
  localTag: 'pbx1',
  remoteTag: 'phone1',
  localUri: `<sip:102@${DOMAIN}>;tag=pbx1`,
  remoteUri: `"Alice" <sip:101@${DOMAIN}>;tag=phone1`,
  remoteTarget: 'sip:101@192.0.2.10:5062',
  routeSet: [],
  nextCseq: 1,
  transport: 'UDP',
  remoteAddress: '192.0.2.10',
  remotePort: 5062,
  ...extra,
});

describe('call recovery', () => {
  it('stores of a leg what a BYE needs, and the BYE made from it continues the dialog', () => {
    const wire = new FakeConnection('192.0.2.10', 'UDP');
    const live = dialog(wire, { routeSet: ['<sip:edge.offhook.test;lr>'] });
    live.createRequest('INFO');
    const stored = legOf(live);
    expect(stored).toEqual(leg({ routeSet: ['<sip:edge.offhook.test;lr>'], nextCseq: 2, remotePort: wire.remotePort }));

    const bye = byeFor(JSON.parse(JSON.stringify(stored)) as StoredLeg, wire);
    expect(bye.method).toBe('BYE');
    expect(bye.uri).toBe('sip:101@192.0.2.10:5062');
    expect(bye.headers.get('Call-ID')).toBe('leg-1@192.0.2.10');
    expect(parseNameAddr(bye.headers.get('From') ?? '').params.tag).toBe('pbx1');
    expect(parseNameAddr(bye.headers.get('To') ?? '').params.tag).toBe('phone1');
    expect(bye.headers.getAll('Route')).toEqual(['<sip:edge.offhook.test;lr>']);
    // Higher than anything sent before the crash: a lower CSeq would be refused with 500 (RFC 3261 §12.2.2).
    expect(bye.headers.get('CSeq')).toBe(`${2 + RECOVERY_CSEQ_MARGIN} BYE`);
  });

  it('tells when the legs moved on since they were stored: other dialogs, or requests sent', () => {
    const wire = new FakeConnection('192.0.2.10', 'UDP');
    const a = dialog(wire);
    const b = dialog(wire, { callId: 'leg-2' });
    const mark = markLegs([a, b]);
    expect(legsMoved(mark, [a, b])).toBe(false);
    expect(legsMoved(mark, [a])).toBe(true);
    expect(legsMoved(mark, [a, dialog(wire, { callId: 'leg-3' })])).toBe(true);
    b.createRequest('NOTIFY');
    expect(legsMoved(mark, [a, b])).toBe(true);
  });

  it('sends a BYE over UDP and to a TCP device where it listens, and none over WebSocket, through a route set or behind a NAT', async () => {
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'offhook-test' });
    const udp = new FakeConnection('192.0.2.10', 'UDP');
    const tcp = new FakeConnection('192.0.2.20', 'TCP');
    const udpAsked: Array<[string, number]> = [];
    const connected: Array<[string, string, number]> = [];
    const sent = await hangUpCallsLeftByCrash(
      [
        { id: 'call-1', legs: [leg(), leg({ callId: 'ws-leg', transport: 'WS', remoteTarget: 'sip:x@abc.invalid;transport=ws' })] },
        {
          id: 'call-2',
          legs: [
            leg({ callId: 'tcp-leg', transport: 'TCP', remoteTarget: 'sip:102@192.0.2.20:5070;transport=tcp', remoteAddress: '192.0.2.20' }),
            leg({ callId: 'routed', transport: 'TCP', remoteTarget: 'sip:103@192.0.2.21:5070;transport=tcp', remoteAddress: '192.0.2.21', routeSet: ['<sip:edge;lr>'] }),
            leg({ callId: 'natted', transport: 'TCP', remoteTarget: 'sip:104@192.168.1.20:5070;transport=tcp', remoteAddress: '203.0.113.5' }),
          ],
        },
      ],
      endpoint,
      {
        udpFlow: (address, port) => (udpAsked.push([address, port]), udp),
        connect: async (transport, host, port) => (connected.push([transport, host, port]), tcp),
      },
    );
    expect(sent).toBe(2);
    expect(udpAsked).toEqual([['192.0.2.10', 5062]]);
    expect(connected).toEqual([['TCP', '192.0.2.20', 5070]]);
    expect(udp.requests.map((r) => [r.method, r.headers.get('Call-ID')])).toEqual([['BYE', 'leg-1@192.0.2.10']]);
    expect(tcp.requests.map((r) => [r.method, r.headers.get('Call-ID')])).toEqual([['BYE', 'tcp-leg']]);
  });

  it('gives up on a device it cannot connect to, and on UDP when it is off, without failing', async () => {
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'offhook-test' });
    const sent = await hangUpCallsLeftByCrash(
      [{ id: 'call-1', legs: [leg(), leg({ callId: 'tcp-leg', transport: 'TCP', remoteTarget: 'sip:102@192.0.2.20:5070;transport=tcp', remoteAddress: '192.0.2.20' })] }],
      endpoint,
      { connect: () => Promise.reject(new Error('connection refused')) },
    );
    expect(sent).toBe(0);
  });
});
