/**
 * A phone engine for unit tests: the edge where the real one would talk SIP. Tests drive it the way the network
 * would (a call arrives, the far end answers) and read back what the store asked it to do.
 */
import type { DtmfMethod } from '../../shared/bridge';
import type { RegistrationState } from '../../shared/registration';
import type { MediaStatsSample } from '../phone/call-quality';
import type { DialPadKey } from '../phone/dial-string';
import { CallStateMachine } from '../phone/call-state';
import type { CallState, EndReason } from '../phone/call-state';
import type { WakeReason } from '../phone/connection-keeper';
import { isEstablished } from '../phone/call-state';
import type { KeptCall } from '../phone/kept-calls';
import type {
  CallDevices,
  CallDirection,
  CallNotice,
  CallSnapshot,
  DeclineKind,
  PhoneEngine,
  PhoneAccount,
  PhoneEngineEvents,
  RemoteParty,
} from '../phone/engine';
import { TypedEmitter } from '../util/typed-emitter';

interface FakeCall {
  snapshot: CallSnapshot;
  machine: CallStateMachine;
}

export class FakePhoneEngine extends TypedEmitter<PhoneEngineEvents> implements PhoneEngine {
  registration: RegistrationState = 'unregistered';
  account: PhoneAccount = { server: 'wss://pbx.test/sip', uri: 'sip:101@pbx.test' };
  started = false;
  stopped = false;
  readonly requests: string[] = [];
  readonly attached: Array<{ id: string; element: HTMLAudioElement }> = [];
  private readonly calls = new Map<string, FakeCall>();
  private nextId = 1;
  now = 1_000;
  /** What readStats answers, per call; tests set the counters the far end would produce. */
  readonly stats = new Map<string, MediaStatsSample>();
  devices: CallDevices = {};

  start(): void {
    this.started = true;
  }

  stop(): void {
    this.stopped = true;
    this.requests.push('stop');
  }

  checkConnection(reason: WakeReason): void {
    this.requests.push(`check connection (${reason})`);
  }

  /** Every established call, its dialog named after its id (the real engine reads JsSIP's dialog). */
  keptCalls(): KeptCall[] {
    return [...this.calls.values()]
      .filter((call) => isEstablished(call.machine.state))
      .map(({ snapshot }) => ({
        sipCallId: snapshot.sipCallId ?? snapshot.id,
        localTag: `local-${snapshot.id}`,
        remoteTag: `remote-${snapshot.id}`,
        direction: snapshot.direction,
        remote: { ...snapshot.remote },
        answeredAt: snapshot.answeredAt ?? this.now,
        held: snapshot.state === 'held' || snapshot.state === 'holding',
        savedAt: this.now,
      }));
  }

  rejoin(kept: KeptCall): string {
    this.requests.push(`rejoin ${kept.sipCallId}${kept.held ? ' held' : ''}`);
    const id = this.add(kept.direction, { ...kept.remote });
    this.get(id).snapshot.answeredAt = kept.answeredAt;
    this.move(id, 'dialing');
    return id;
  }

  call(target: string): string {
    this.requests.push(`call ${target}`);
    const id = this.add('outgoing', { name: '', number: target });
    this.move(id, 'dialing');
    return id;
  }

  answer(id: string): void {
    this.requests.push(`answer ${id}`);
  }

  decline(id: string, kind: DeclineKind = 'decline'): void {
    this.requests.push(kind === 'busy' ? `busy ${id}` : `decline ${id}`);
  }

  hangUp(id: string): void {
    this.requests.push(`hang up ${id}`);
  }

  attachRemoteAudio(id: string, element: HTMLAudioElement): () => void {
    this.attached.push({ id, element });
    return () => this.requests.push(`detach ${id}`);
  }

  setMuted(id: string, muted: boolean): void {
    this.requests.push(`${muted ? 'mute' : 'unmute'} ${id}`);
    const call = this.get(id);
    call.snapshot.muted = muted;
    this.publish(call);
  }

  /** Like the real engine, moves the call to holding; the network settles it with `settleReoffer`. */
  hold(id: string): void {
    this.requests.push(`hold ${id}`);
    const call = this.get(id);
    if (call.machine.state !== 'active') return;
    call.snapshot.notice = undefined;
    this.move(id, 'holding');
  }

  resume(id: string): void {
    this.requests.push(`resume ${id}`);
    const call = this.get(id);
    if (call.machine.state !== 'held') return;
    call.snapshot.notice = undefined;
    this.move(id, 'resuming');
  }

  sendDtmf(id: string, key: DialPadKey, method: DtmfMethod): void {
    this.requests.push(`dtmf ${id} ${key} ${method}`);
  }

  async readStats(id: string): Promise<MediaStatsSample | undefined> {
    return this.stats.get(id);
  }

  async useDevices(devices: CallDevices): Promise<void> {
    this.devices = { ...devices };
  }

  // What the network does:

  /** The PBX answers the re-INVITE of a hold or resume: 2xx (`ok`) or a refusal such as 488. */
  settleReoffer(id: string, ok: boolean): void {
    const call = this.get(id);
    const holding = call.machine.state === 'holding';
    if (!holding && call.machine.state !== 'resuming') throw new Error(`${id} is not being held or resumed`);
    const notice: CallNotice | undefined = ok ? undefined : holding ? 'hold-failed' : 'resume-failed';
    call.snapshot.notice = notice;
    this.move(id, ok === holding ? 'held' : 'active');
  }

  register(state: RegistrationState): void {
    this.registration = state;
    this.emit('registrationChanged', state);
  }

  ring(remote: RemoteParty): string {
    const id = this.add('incoming', remote);
    this.move(id, 'ringing-in');
    return id;
  }

  move(id: string, to: Exclude<CallState, 'ended'>): void {
    const call = this.get(id);
    call.machine.transition(to);
    if (to === 'active') call.snapshot.answeredAt = this.now;
    this.publish(call);
  }

  end(id: string, reason: EndReason, detail?: string): void {
    const call = this.get(id);
    call.machine.transition('ended', reason, detail);
    call.snapshot.endedAt = this.now;
    this.publish(call);
  }

  private add(direction: CallDirection, remote: RemoteParty): string {
    const id = `call-${this.nextId++}`;
    const call: FakeCall = {
      machine: new CallStateMachine(),
      snapshot: {
        id,
        direction,
        state: 'idle',
        remote,
        startedAt: this.now++,
        muted: false,
        remoteHold: false,
        receivedDigits: '',
        sipCallId: `sip-${id}@fake.test`,
      },
    };
    this.calls.set(id, call);
    this.emit('callAdded', { ...call.snapshot });
    return id;
  }

  private publish(call: FakeCall): void {
    call.snapshot = { ...call.snapshot, state: call.machine.state, endReason: call.machine.endReason, endDetail: call.machine.endDetail };
    this.emit('callChanged', { ...call.snapshot });
  }

  private get(id: string): FakeCall {
    const call = this.calls.get(id);
    if (!call) throw new Error(`no call ${id}`);
    return call;
  }
}
