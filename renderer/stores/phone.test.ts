import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { ENDED_CARD_MS, usePhoneStore } from './phone';
import { FakePhoneEngine } from '../testing/fake-engine';

describe('phone store', () => {
  let engine: FakePhoneEngine;
  let phone: ReturnType<typeof usePhoneStore>;

  beforeEach(() => {
    vi.useFakeTimers();
    setActivePinia(createPinia());
    phone = usePhoneStore();
    engine = new FakePhoneEngine();
    phone.start(engine);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts the engine and follows its registration', () => {
    expect(engine.started).toBe(true);
    expect(phone.registration).toBe('unregistered');
    engine.register('registering');
    expect(phone.registration).toBe('registering');
    engine.register('registered');
    expect(phone.isRegistered).toBe(true);
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
    // Events from the old engine no longer reach the store, and no removal timer is left behind.
    engine.ring({ name: '', number: '102' });
    expect(phone.callList).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
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
