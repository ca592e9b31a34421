import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { candidateType, GATHERING_DEADLINE_MS, GatheringCap } from './ice-gathering';

// Candidate lines as Chromium reports them in its icecandidate events.
const HOST = 'candidate:1467250027 1 udp 2122260223 192.168.1.20 54400 typ host generation 0 ufrag Yk2q network-id 1';
const SRFLX = 'candidate:842163049 1 udp 1686052607 203.0.113.7 54400 typ srflx raddr 192.168.1.20 rport 54400 generation 0';
const RELAY = 'candidate:3745210362 1 udp 41885439 198.51.100.3 61000 typ relay raddr 203.0.113.7 rport 54400 generation 0';

describe('candidateType', () => {
  it('reads the type from the candidate, or from its SDP line where the browser gives none', () => {
    expect(candidateType({ type: 'relay', candidate: HOST })).toBe('relay');
    expect(candidateType({ candidate: HOST })).toBe('host');
    expect(candidateType({ type: null, candidate: SRFLX })).toBe('srflx');
    expect(candidateType({ candidate: 'garbage' })).toBeUndefined();
  });
});

describe('GatheringCap', () => {
  let cap: GatheringCap;

  beforeEach(() => {
    vi.useFakeTimers();
    cap = new GatheringCap(GATHERING_DEADLINE_MS, {
      now: () => Date.now(),
      setTimeout: (callback, ms) => setTimeout(callback, ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    });
  });

  afterEach(() => {
    cap.dispose();
    vi.useRealTimers();
  });

  it('stops waiting at the first host candidate', () => {
    const ready = vi.fn();
    cap.began();
    vi.advanceTimersByTime(20);
    cap.candidate({ candidate: { candidate: HOST }, ready });
    expect(ready).toHaveBeenCalledTimes(1);
    cap.candidate({ candidate: { candidate: SRFLX }, ready });
    vi.advanceTimersByTime(GATHERING_DEADLINE_MS);
    expect(ready).toHaveBeenCalledTimes(1);
  });

  it('stops waiting at the deadline, counted from the start of gathering, when no host candidate comes', () => {
    const ready = vi.fn();
    cap.began();
    vi.advanceTimersByTime(100);
    cap.candidate({ candidate: { candidate: RELAY }, ready });
    vi.advanceTimersByTime(GATHERING_DEADLINE_MS - 101);
    expect(ready).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(ready).toHaveBeenCalledTimes(1);
  });

  it('takes a first candidate after the deadline as the end of the wait', () => {
    const ready = vi.fn();
    cap.began();
    vi.advanceTimersByTime(GATHERING_DEADLINE_MS + 50);
    cap.candidate({ candidate: { candidate: SRFLX }, ready });
    expect(ready).toHaveBeenCalledTimes(1);
  });

  it('counts from the first candidate when the start of gathering was not seen', () => {
    const ready = vi.fn();
    cap.candidate({ candidate: { candidate: SRFLX }, ready });
    vi.advanceTimersByTime(GATHERING_DEADLINE_MS - 1);
    expect(ready).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(ready).toHaveBeenCalledTimes(1);
  });

  it('caps every round of a session again: the call, then an ICE restart', () => {
    const first = vi.fn();
    const restart = vi.fn();
    cap.began();
    cap.candidate({ candidate: { candidate: HOST }, ready: first });
    vi.advanceTimersByTime(10_000);
    cap.began();
    cap.candidate({ candidate: { candidate: RELAY }, ready: restart });
    expect(restart).not.toHaveBeenCalled();
    cap.candidate({ candidate: { candidate: HOST }, ready: restart });
    expect(restart).toHaveBeenCalledTimes(1);
    expect(first).toHaveBeenCalledTimes(1);
  });

  it('calls nothing after it is disposed', () => {
    const ready = vi.fn();
    cap.candidate({ candidate: { candidate: SRFLX }, ready });
    cap.dispose();
    vi.advanceTimersByTime(GATHERING_DEADLINE_MS);
    expect(ready).not.toHaveBeenCalled();
  });
});
