/**
 * The soak's legitimate traffic, which must all succeed whatever else the PBX is put through:
 * - UDP desk phones in pairs, each on its own address, registered and refreshing, calling each other one
 *   call at a time: INVITE with 407, answered at once, held for a few seconds with G.711 both ways, hung up
 *   by either side. A call counts as completed when it was answered, each side heard at least half of what
 *   the other sent, the callee got the PBX's ACK, the BYE got its 200 and the other side got a BYE too.
 * - users registered over TCP and over WebSocket, refreshing, reconnecting if the PBX closes their flow;
 * - MESSAGE between any two of these users, delivered when the sender got a 2xx and the recipient the text.
 */
import { DOMAIN, describeError } from './soak-context';
import type { SoakContext } from './soak-context';
import { count } from './soak-counters';
import { SoakPhone } from './soak-phone';
import type { CallLeg, SipUser } from './soak-phone';
import { RtpMedia } from './soak-rtp';
import { BLOCKS, sourceAddress, tcpWire, udpWire, wsWire } from './soak-wire';
import type { Wire, WireTransport } from './soak-wire';

/** Share of the other side's packets a side must hear for its call to count as having had media. */
const MIN_HEARD_SHARE = 0.5;
/** How long a callee may take to see the PBX's INVITE, and the far side its BYE. */
const INVITE_ARRIVAL_MS = 35_000;
const BYE_ARRIVAL_MS = 10_000;
const RETRY_MS = 2_000;
const MAX_MESSAGES_IN_FLIGHT = 50;

/** One user's device: the phone is replaced when a stream flow has to be opened again. */
export interface Device {
  user: SipUser;
  transport: WireTransport;
  address: string;
  phone: SoakPhone | undefined;
  /** Until when the PBX holds this device's binding, as far as the device knows. */
  boundUntil: number;
}

async function connect(context: SoakContext, device: Device, media?: RtpMedia): Promise<SoakPhone> {
  const open = { UDP: udpWire, TCP: tcpWire, WS: wsWire }[device.transport];
  const wire: Wire = await open(context.registry, device.address, context.pbx);
  return new SoakPhone(wire, device.user, DOMAIN, media);
}

/** Registers the device, then refreshes at half the expiry until the run stops; reopens a stream flow that closed. */
async function keepRegistered(context: SoakContext, device: Device, received: (body: string) => void, media?: RtpMedia): Promise<void> {
  const tally = context.counters.registrations;
  const expires = context.options.registerExpiresS;
  while (context.running) {
    try {
      if (!device.phone?.wire.isOpen) {
        if (device.phone) count(tally.reasons, `${device.transport} flow closed by the PBX (opened again)`);
        device.phone = await connect(context, device, media);
        device.phone.onMessageReceived = received;
      }
      const answer = await device.phone.register(expires);
      if (answer.status === 200) {
        tally[device.transport].ok += 1;
        device.boundUntil = Date.now() + expires * 1000;
        await context.pause((expires * 1000) / 2);
        continue;
      }
      tally[device.transport].failed += 1;
      count(tally.reasons, `${device.transport} REGISTER got ${answer.status} ${answer.reason}`);
    } catch (error) {
      if ((await context.pbxGoneSoon()) || !context.running) return;
      tally[device.transport].failed += 1;
      count(tally.reasons, `${device.transport} REGISTER: ${describeError(error)}`);
    }
    await context.pause(RETRY_MS);
  }
}

function heardEnough(heard: number, otherSent: number): boolean {
  return otherSent > 0 && heard >= otherSent * MIN_HEARD_SHARE;
}

/** One call from `caller` to `callee`; counts it as completed or failed, with the reason. */
async function oneCall(context: SoakContext, caller: SoakPhone, callee: SoakPhone): Promise<void> {
  const calls = context.counters.calls;
  calls.attempted += 1;
  const [low, high] = context.options.holdSeconds;
  const holdMs = (low + Math.random() * (high - low)) * 1000;
  const { leg: incoming, stale } = callee.expectIncoming(INVITE_ARRIVAL_MS);
  for (const leg of stale) void callee.hangUp(leg).catch(() => undefined);
  let callerLeg: CallLeg | undefined;
  let calleeLeg: CallLeg | undefined;
  const fail = async (reason: string) => {
    calls.failed += 1;
    count(calls.reasons, (await context.pbxGoneSoon()) ? `PBX exited (${reason})` : reason);
  };
  try {
    callerLeg = await caller.call(callee.user.extension);
    calleeLeg = await incoming;
    await context.hold(holdMs);
    if (context.pbxGone) throw new Error('during the call');
    const callerHangsUp = Math.random() < 0.5;
    const [phone, leg, other] = callerHangsUp ? [caller, callerLeg, calleeLeg] : [callee, calleeLeg, callerLeg];
    const status = await phone.hangUp(leg);
    const farEnd = await Promise.race([other.ended.then(() => true), context.hold(BYE_ARRIVAL_MS).then(() => false)]);
    calls.mediaSent += callerLeg.media.sent + calleeLeg.media.sent;
    calls.mediaHeard += callerLeg.media.heard + calleeLeg.media.heard;
    if (status !== 200) await fail(`BYE got ${status}`);
    else if (!farEnd) await fail(`the ${callerHangsUp ? 'callee' : 'caller'} got no BYE`);
    else if (!calleeLeg.acked) await fail('the callee never got the ACK for its 200');
    else if (!heardEnough(callerLeg.media.heard, calleeLeg.media.sent) || !heardEnough(calleeLeg.media.heard, callerLeg.media.sent)) {
      await fail(`media: caller heard ${callerLeg.media.heard} of ${calleeLeg.media.sent}, callee ${calleeLeg.media.heard} of ${callerLeg.media.sent}`);
    } else calls.completed += 1;
  } catch (error) {
    await fail(describeError(error));
    // Whatever is left of the call is hung up, so the pair's next call starts clean.
    for (const [phone, leg] of [[caller, callerLeg], [callee, calleeLeg]] as const) {
      if (leg && !leg.endedBy && !context.pbxGone) await phone.hangUp(leg).catch(() => undefined);
    }
  }
}

async function callLoop(context: SoakContext, a: Device, b: Device): Promise<void> {
  for (let n = 0; context.running; n++) {
    const [caller, callee] = n % 2 === 0 ? [a, b] : [b, a];
    const now = Date.now();
    if (caller.phone && callee.phone && caller.boundUntil > now && callee.boundUntil > now) await oneCall(context, caller.phone, callee.phone);
    await context.pause(500 + Math.random() * 1000);
  }
}

async function messageLoop(context: SoakContext, devices: readonly Device[], delivered: Set<string>): Promise<void> {
  const messages = context.counters.messages;
  const rate = context.options.messagesPerSecond;
  if (rate <= 0 || devices.length < 2) return;
  const inFlight = new Set<Promise<void>>();
  for (let n = 0; context.running; n++) {
    await context.pause(1000 / rate);
    const sender = devices[Math.floor(Math.random() * devices.length)];
    const recipient = devices[Math.floor(Math.random() * devices.length)];
    if (!sender?.phone?.wire.isOpen || !recipient || recipient === sender || recipient.boundUntil < Date.now()) continue;
    if (inFlight.size >= MAX_MESSAGES_IN_FLIGHT || !context.running) continue;
    const body = `soak message ${n} from ${sender.user.extension}`;
    messages.sent += 1;
    const sending = sender.phone.message(recipient.user.extension, body).then(
      (answer) => {
        if (answer.status >= 200 && answer.status < 300 && delivered.delete(body)) messages.delivered += 1;
        else {
          messages.failed += 1;
          count(messages.reasons, answer.status < 300 ? 'a 2xx, but the text never reached the recipient' : `MESSAGE got ${answer.status} ${answer.reason}`);
        }
      },
      async (error: unknown) => {
        messages.failed += 1;
        count(messages.reasons, (await context.pbxGoneSoon()) ? `PBX exited (${describeError(error)})` : describeError(error));
      },
    );
    inFlight.add(sending);
    void sending.finally(() => inFlight.delete(sending));
  }
  await Promise.all(inFlight);
}

/** Users for the soak's legitimate traffic, by what they do. */
export interface LegitUsers {
  callers: SipUser[];
  tcp: SipUser[];
  ws: SipUser[];
}

/** Starts the legitimate traffic; resolves when all of it has ended after the run stops. */
export async function legitTraffic(context: SoakContext, users: LegitUsers): Promise<void> {
  const kinds = context.options.kinds;
  const delivered = new Set<string>();
  const received = (body: string) => {
    if (body.startsWith('soak message ')) delivered.add(body);
  };
  const device = (user: SipUser, transport: WireTransport, block: number, index: number): Device => ({
    user, transport, address: sourceAddress(block, index), phone: undefined, boundUntil: 0,
  });
  const phones = kinds.has('calls') ? users.callers.map((user, i) => device(user, 'UDP', BLOCKS.udpPhones, i)) : [];
  const streams = kinds.has('registrations')
    ? [...users.tcp.map((user, i) => device(user, 'TCP', BLOCKS.tcpUsers, i)), ...users.ws.map((user, i) => device(user, 'WS', BLOCKS.wsUsers, i))]
    : [];
  const loops: Array<Promise<void>> = [];
  for (const phone of phones) {
    const media = await RtpMedia.open(context.registry, phone.address);
    loops.push(keepRegistered(context, phone, received, media));
  }
  for (const stream of streams) loops.push(keepRegistered(context, stream, received));
  for (let i = 0; i + 1 < phones.length; i += 2) loops.push(callLoop(context, phones[i]!, phones[i + 1]!));
  if (kinds.has('messages')) loops.push(messageLoop(context, [...phones, ...streams], delivered));
  await Promise.all(loops);
}
