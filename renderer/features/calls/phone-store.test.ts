import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { AUTO_ANSWER_DELAY_MS, ENDED_CARD_MS, QUALITY_INTERVAL_MS, usePhoneStore } from './phone-store';
import { useDevicesStore, useSettingsStore } from '../settings';
import { FakePhoneEngine } from '../../testing/fake-engine';
import { FakeMediaDevices, FakeRinger } from '../../testing/fake-media';
import { createWebBridge } from '../../bridge/web-bridge';

describe('phone store', () => {
  let engine: FakePhoneEngine;
  let ringer: FakeRinger;
  let mediaDevices: FakeMediaDevices;
  let phone: ReturnType<typeof usePhoneStore>;

  beforeEach(() => {
    vi.useFakeTimers();
    // The settings live behind the bridge; an in-memory web bridge stands in for localStorage.
    const items = new Map<string, string>();
    const bridge = createWebBridge({
      storage: { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) },
      setTitle: () => {},
      showNotification: () => {},
      platform: 'test',
    });
    vi.stubGlobal('window', { offhook: bridge });
    setActivePinia(createPinia());
    phone = usePhoneStore();
    engine = new FakePhoneEngine();
    ringer = new FakeRinger();
    mediaDevices = new FakeMediaDevices();
    phone.start(engine, { ringer, mediaDevices });
  });

  afterEach(() => {
    phone.stop();
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  /** An answered call from `number`, on the line. */
  function activeCall(number: string): string {
    const id = engine.ring({ name: '', number });
    engine.move(id, 'connecting');
    engine.move(id, 'active');
    return id;
  }

  it('starts the engine and follows its registration', () => {
    expect(engine.started).toBe(true);
    expect(phone.registration).toBe('unregistered');
    engine.register('registering');
    expect(phone.registration).toBe('registering');
    engine.register('registered');
    expect(phone.isRegistered).toBe(true);
  });

  it('passes wake signals to the engine, which checks its connection', () => {
    phone.checkConnection('resume');
    phone.checkConnection('online');
    expect(engine.requests).toEqual(['check connection (resume)', 'check connection (online)']);
  });

  it('builds the number from the dial pad', () => {
    phone.pressDigit('1');
    phone.pressDigit('0');
    phone.pressDigit('#');
    expect(phone.number).toBe('10#');
  });

  it('allows a call only when registered and there is a number', () => {
    expect(phone.canDial).toBe(false);
    phone.setNumber('102');
    expect(phone.canDial).toBe(false);
    engine.register('registered');
    expect(phone.canDial).toBe(true);
    phone.setNumber('  ');
    expect(phone.canDial).toBe(false);
  });

  it('places a call to the cleaned-up number and clears the field', () => {
    engine.register('registered');
    phone.setNumber('(555) 010-0199');
    const id = phone.dial(phone.number);
    expect(engine.requests).toEqual(['call 5550100199']);
    expect(phone.number).toBe('');
    expect(phone.callList).toHaveLength(1);
    expect(phone.calls[id ?? '']).toMatchObject({ direction: 'outgoing', state: 'dialing', remote: { number: '5550100199' } });
  });

  it('says why it did not place a call', () => {
    expect(phone.dial('')).toBeUndefined();
    expect(phone.dialError).toBe('Enter a number to call.');
    expect(phone.dial('102')).toBeUndefined();
    expect(phone.dialError).toBe('The phone is not registered yet. Calls can be made once it shows Registered.');
    engine.register('registered');
    expect(phone.dial('abc')).toBeUndefined();
    expect(phone.dialError).toBe('A number can hold only digits, *, # and a leading +.');
    expect(engine.requests).toEqual([]);
    phone.pressDigit('1');
    expect(phone.dialError).toBe('');
  });

  it('shows an incoming call and forwards answer, decline and hang up', () => {
    const id = engine.ring({ name: 'Ada Lovelace', number: '101' });
    expect(phone.calls[id]).toMatchObject({ direction: 'incoming', state: 'ringing-in', remote: { name: 'Ada Lovelace' } });
    phone.answer(id);
    phone.decline(id);
    phone.hangUp(id);
    expect(engine.requests).toEqual([`answer ${id}`, `decline ${id}`, `hang up ${id}`]);
  });

  describe('in-call options', () => {
    it('mutes and unmutes a call', () => {
      const id = activeCall('101');
      phone.toggleMute(id);
      expect(phone.calls[id]?.muted).toBe(true);
      phone.toggleMute(id);
      expect(phone.calls[id]?.muted).toBe(false);
      expect(engine.requests).toEqual([`mute ${id}`, `unmute ${id}`]);
    });

    it('holds and resumes a call as the PBX confirms', () => {
      const id = activeCall('101');
      phone.hold(id);
      expect(phone.calls[id]?.state).toBe('holding');
      engine.settleReoffer(id, true);
      expect(phone.calls[id]?.state).toBe('held');
      phone.resume(id);
      expect(phone.calls[id]?.state).toBe('resuming');
      engine.settleReoffer(id, true);
      expect(phone.calls[id]).toMatchObject({ state: 'active', notice: undefined });
    });

    it('stays on the line, saying so, when the PBX refuses the hold', () => {
      const id = activeCall('101');
      phone.hold(id);
      engine.settleReoffer(id, false);
      expect(phone.calls[id]).toMatchObject({ state: 'active', notice: 'hold-failed' });
    });

    it('sends keys as DTMF while the dial pad of a call is open, and to the number otherwise', () => {
      const id = activeCall('101');
      phone.pressKey('1');
      expect(phone.number).toBe('1');
      phone.openKeypad(id);
      phone.pressKey('5');
      phone.pressKey('#');
      expect(engine.requests).toEqual([`dtmf ${id} 5 rfc4733`, `dtmf ${id} # rfc4733`]);
      expect(phone.sentDigits[id]).toBe('5#');
      phone.closeKeypad();
      phone.pressKey('2');
      expect(phone.number).toBe('12');
    });

    it('sends DTMF by SIP INFO when the setting says so', () => {
      useSettingsStore().settings = { dtmfMethod: 'info' };
      const id = activeCall('101');
      phone.openKeypad(id);
      phone.pressKey('9');
      expect(engine.requests).toEqual([`dtmf ${id} 9 info`]);
    });

    it('opens no dial pad for a call that is not answered, and closes it when the call ends', () => {
      const ringing = engine.ring({ name: '', number: '101' });
      phone.openKeypad(ringing);
      expect(phone.keypadCall).toBeUndefined();
      const id = activeCall('102');
      phone.openKeypad(id);
      expect(phone.keypadCall?.id).toBe(id);
      engine.end(id, 'hung-up-remote');
      expect(phone.keypadCallId).toBeUndefined();
    });
  });

  describe('call waiting and switching', () => {
    it('answering a second call holds the first', () => {
      const first = activeCall('101');
      const second = engine.ring({ name: '', number: '102' });
      phone.answer(second);
      expect(engine.requests).toEqual([`hold ${first}`, `answer ${second}`]);
      expect(phone.calls[first]?.state).toBe('holding');
    });

    it('resuming the held call holds the other, so the two swap', () => {
      const first = activeCall('101');
      phone.hold(first);
      engine.settleReoffer(first, true);
      const second = activeCall('102');
      engine.requests.length = 0;
      phone.resume(first);
      expect(engine.requests).toEqual([`hold ${second}`, `resume ${first}`]);
      engine.settleReoffer(second, true);
      engine.settleReoffer(first, true);
      expect(phone.activeCall?.id).toBe(first);
      expect(phone.calls[second]?.state).toBe('held');
    });

    it('placing a second call holds the first', () => {
      engine.register('registered');
      const first = activeCall('101');
      phone.dial('103');
      expect(engine.requests).toEqual([`hold ${first}`, 'call 103']);
    });
  });

  describe('do not disturb and auto-answer', () => {
    it('turns calls away busy without showing or ringing them', () => {
      useSettingsStore().settings = { doNotDisturb: true };
      const id = engine.ring({ name: '', number: '101' });
      expect(engine.requests).toEqual([`busy ${id}`]);
      expect(phone.callList).toEqual([]);
      expect(ringer.log).toEqual([]);
      engine.end(id, 'declined');
      expect(phone.callList).toEqual([]);
    });

    it('answers after a short ring when auto-answer is on', () => {
      useSettingsStore().settings = { autoAnswer: true };
      const id = engine.ring({ name: '', number: '101' });
      vi.advanceTimersByTime(AUTO_ANSWER_DELAY_MS - 1);
      expect(engine.requests).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(engine.requests).toEqual([`answer ${id}`]);
    });

    it('leaves a waiting call to the person even with auto-answer on', () => {
      useSettingsStore().settings = { autoAnswer: true };
      activeCall('101');
      engine.ring({ name: '', number: '102' });
      vi.advanceTimersByTime(AUTO_ANSWER_DELAY_MS * 2);
      expect(engine.requests).toEqual([]);
    });

    it('does not auto-answer a call that stopped ringing', () => {
      useSettingsStore().settings = { autoAnswer: true };
      const id = engine.ring({ name: '', number: '101' });
      engine.end(id, 'missed');
      vi.advanceTimersByTime(AUTO_ANSWER_DELAY_MS);
      expect(engine.requests).toEqual([]);
    });
  });

  describe('ringtone', () => {
    it('rings while a call rings and stops the moment it is answered', () => {
      useSettingsStore().settings = { ringtone: 'chirp', ringVolume: 0.5 };
      const id = engine.ring({ name: '', number: '101' });
      expect(ringer.ringing).toBe(true);
      expect(ringer.lastOptions).toEqual({ ringtone: 'chirp', volume: 0.5, deviceId: undefined });
      engine.move(id, 'connecting');
      expect(ringer.log).toEqual(['ring chirp on default', 'stop']);
    });

    it('stops when the caller gives up or the call is answered elsewhere (CANCEL)', () => {
      const id = engine.ring({ name: '', number: '101' });
      engine.end(id, 'missed');
      expect(ringer.ringing).toBe(false);
    });

    it('keeps ringing while a second call still rings', () => {
      const first = engine.ring({ name: '', number: '101' });
      engine.ring({ name: '', number: '102' });
      engine.end(first, 'missed');
      expect(ringer.ringing).toBe(true);
      expect(ringer.log).toEqual(['ring classic on default']);
    });

    it('rings on the chosen ringer device while it is plugged in', async () => {
      mediaDevices.plugIn({ deviceId: 'usb-bell', kind: 'audiooutput', label: 'USB bell' });
      await vi.advanceTimersByTimeAsync(0);
      await useDevicesStore().choose('ringer', 'usb-bell');
      engine.ring({ name: '', number: '101' });
      expect(ringer.lastOptions?.deviceId).toBe('usb-bell');
    });
  });

  describe('devices', () => {
    it('moves calls to a chosen device, to the default when it is unplugged, and back when it returns', async () => {
      const headset = { deviceId: 'headset-mic', kind: 'audioinput' as const, label: 'Headset' };
      mediaDevices.plugIn(headset);
      await vi.advanceTimersByTimeAsync(0);
      await useDevicesStore().choose('microphone', 'headset-mic');
      expect(engine.devices).toEqual({ microphoneId: 'headset-mic', speakerId: undefined });
      mediaDevices.unplug('headset-mic');
      await vi.advanceTimersByTimeAsync(0);
      expect(engine.devices).toEqual({ microphoneId: undefined, speakerId: undefined });
      mediaDevices.plugIn(headset);
      await vi.advanceTimersByTimeAsync(0);
      expect(engine.devices).toEqual({ microphoneId: 'headset-mic', speakerId: undefined });
    });

    it('remembers the choice in the settings by device id', async () => {
      mediaDevices.plugIn({ deviceId: 'desk-speaker', kind: 'audiooutput', label: 'Desk speaker' });
      await vi.advanceTimersByTimeAsync(0);
      await useDevicesStore().choose('speaker', 'desk-speaker');
      expect(useSettingsStore().settings.speakerId).toBe('desk-speaker');
      expect(engine.devices.speakerId).toBe('desk-speaker');
    });
  });

  describe('call quality', () => {
    it('estimates the quality of the call on the line every interval', async () => {
      const id = activeCall('101');
      engine.stats.set(id, { packetsReceived: 100, packetsLost: 0, jitterMs: 3, roundTripMs: 10 });
      await vi.advanceTimersByTimeAsync(QUALITY_INTERVAL_MS);
      expect(phone.quality[id]).toMatchObject({ lossPercent: 0, jitterMs: 3, roundTripMs: 10, grade: 'good' });
      // 20 of the next 100 packets lost: a poor interval.
      engine.stats.set(id, { packetsReceived: 180, packetsLost: 20, jitterMs: 40, roundTripMs: 300 });
      await vi.advanceTimersByTimeAsync(QUALITY_INTERVAL_MS);
      expect(phone.quality[id]).toMatchObject({ lossPercent: 20, grade: 'poor' });
      engine.end(id, 'hung-up-remote');
      expect(phone.quality[id]).toBeUndefined();
    });
  });

  it('follows a call through its states', () => {
    const id = engine.ring({ name: '', number: '103' });
    engine.move(id, 'connecting');
    expect(phone.calls[id]?.state).toBe('connecting');
    engine.move(id, 'active');
    expect(phone.calls[id]).toMatchObject({ state: 'active', answeredAt: engine.now });
  });

  it('keeps an ended call on screen briefly with its reason, then removes it', () => {
    const id = engine.ring({ name: '', number: '103' });
    engine.end(id, 'missed');
    expect(phone.calls[id]).toMatchObject({ state: 'ended', endReason: 'missed' });
    vi.advanceTimersByTime(ENDED_CARD_MS - 1);
    expect(phone.callList).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(phone.callList).toEqual([]);
  });

  it('lists calls oldest first', () => {
    const first = engine.ring({ name: '', number: '101' });
    const second = engine.ring({ name: '', number: '102' });
    expect(phone.callList.map((call) => call.id)).toEqual([first, second]);
  });

  it('shows the name picked for a call placed to them, until the call has gone from the screen', () => {
    engine.register('registered');
    const id = phone.dial('102', 'Bob Brown')!;
    expect(phone.calls[id]?.remote).toEqual({ name: 'Bob Brown', number: '102' });
    engine.move(id, 'ringing-out');
    engine.move(id, 'connecting');
    engine.move(id, 'active');
    expect(phone.calls[id]?.remote.name).toBe('Bob Brown');
    // A blank name is no name: the card shows the number.
    const other = phone.dial('103', '  ')!;
    expect(phone.calls[other]?.remote).toEqual({ name: '', number: '103' });
  });

  it('keeps the PBX\'s words about a refused call for the card, and a call answered elsewhere as such', () => {
    engine.register('registered');
    const id = phone.dial('+12125550123')!;
    engine.end(id, 'refused', 'Outside calls are not allowed for this extension');
    expect(phone.calls[id]).toMatchObject({ endReason: 'refused', endDetail: 'Outside calls are not allowed for this extension' });
    const ringing = engine.ring({ name: 'Alice Adams', number: '101' });
    engine.end(ringing, 'answered-elsewhere');
    expect(phone.calls[ringing]?.endReason).toBe('answered-elsewhere');
    expect(ringer.ringing).toBe(false);
  });

  it('hands audio elements to the engine', () => {
    const id = engine.ring({ name: '', number: '101' });
    const element = {} as HTMLAudioElement;
    const detach = phone.attachRemoteAudio(id, element);
    expect(engine.attached).toEqual([{ id, element }]);
    detach();
    expect(engine.requests).toEqual([`detach ${id}`]);
  });

  it('stops the engine and forgets everything on stop', () => {
    engine.register('registered');
    const id = engine.ring({ name: '', number: '101' });
    engine.end(id, 'missed');
    phone.setNumber('12');
    phone.stop();
    expect(engine.stopped).toBe(true);
    expect(phone.callList).toEqual([]);
    expect(phone.registration).toBe('unregistered');
    expect(phone.number).toBe('');
    // Events from the old engine no longer reach the store, and no timer is left behind.
    engine.ring({ name: '', number: '102' });
    expect(phone.callList).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    expect(ringer.ringing).toBe(false);
  });

  it('does nothing for actions after stop', () => {
    phone.stop();
    expect(() => {
      phone.answer('call-1');
      phone.hangUp('call-1');
    }).not.toThrow();
    expect(phone.attachRemoteAudio('call-1', {} as HTMLAudioElement)).toBeTypeOf('function');
  });
});
