/**
 * A phone engine for unit tests: the edge where the real one would talk SIP. Tests drive it the way the network
 * would (a call arrives, the far end answers) and read back what the store asked it to do.
 */
import type { RegistrationState } from '../../shared/registration';
import { CallStateMachine } from '../phone/call-state';
import type { CallState, EndReason } from '../phone/call-state';
import type { CallDirection, CallSnapshot, PhoneEngine, PhoneEngineEvents, RemoteParty } from '../phone/engine';
import { TypedEmitter } from '../util/typed-emitter';

interface FakeCall {
  snapshot: CallSnapshot;
  machine: CallStateMachine;
}

export class FakePhoneEngine extends TypedEmitter<PhoneEngineEvents> implements PhoneEngine {
  registration: RegistrationState = 'unregistered';
  started = false;
  stopped = false;
  readonly requests: string[] = [];
  readonly attached: Array<{ id: string; element: HTMLAudioElement }> = [];
  private readonly calls = new Map<string, FakeCall>();
  private nextId = 1;
  now = 1_000;

  start(): void {
    this.started = true;
  }

  stop(): void {
    this.stopped = true;
    this.requests.push('stop');
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

  decline(id: string): void {
    this.requests.push(`decline ${id}`);
  }

  hangUp(id: string): void {
    this.requests.push(`hang up ${id}`);
  }

  attachRemoteAudio(id: string, element: HTMLAudioElement): () => void {
    this.attached.push({ id, element });
    return () => this.requests.push(`detach ${id}`);
  }

  // What the network does:

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

  end(id: string, reason: EndReason): void {
    const call = this.get(id);
    call.machine.transition('ended', reason);
    call.snapshot.endedAt = this.now;
    this.publish(call);
  }

  private add(direction: CallDirection, remote: RemoteParty): string {
    const id = `call-${this.nextId++}`;
    const call: FakeCall = {
      machine: new CallStateMachine(),
      snapshot: { id, direction, state: 'idle', remote, startedAt: this.now++ },
    };
    this.calls.set(id, call);
    this.emit('callAdded', { ...call.snapshot });
    return id;
  }

  private publish(call: FakeCall): void {
    call.snapshot = { ...call.snapshot, state: call.machine.state, endReason: call.machine.endReason };
    this.emit('callChanged', { ...call.snapshot });
  }

  private get(id: string): FakeCall {
    const call = this.calls.get(id);
    if (!call) throw new Error(`no call ${id}`);
    return call;
  }
}
