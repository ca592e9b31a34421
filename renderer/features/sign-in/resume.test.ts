import { describe, expect, it, vi } from 'vitest';
import type { KeptSession } from '../../../shared/bridge';
import { RequestError, SESSION_ENDED } from '../../api/client';
import { ALICE_SESSION } from '../../testing/fake-session';
import { createResumer, createSessionKeeper, KEEP_ALIVE_MS, KEPT_SESSION_READ_TIMEOUT_MS, resumeRetryDelayMs, START_RENEW_TIMEOUT_MS } from './resume';
import type { PhoneStart } from './resume';

const KEPT: KeptSession = { serverUrl: 'http://pbx.test/', token: 'tok-1' };

/** A clock that runs its timers only when the test says. */
function manualClock() {
  const timers = new Map<number, { run: () => void; ms: number }>();
  let next = 0;
  return {
    clock: {
      setTimeout: (run: () => void, ms: number) => {
        timers.set(++next, { run, ms });
        return next;
      },
      clearTimeout: (id: unknown) => void timers.delete(id as number),
    },
    pending: () => [...timers.values()].map((timer) => timer.ms),
    /** Runs every timer due now, as the time passing would. */
    fire: () => {
      const due = [...timers.values()];
      timers.clear();
      for (const timer of due) timer.run();
    },
  };
}

function setUp(kept: KeptSession | null = KEPT) {
  const bridge = { getKeptSession: vi.fn(async () => kept), forgetSession: vi.fn(async () => undefined) };
  const starts: PhoneStart[] = [];
  const endings: string[] = [];
  const renew = vi.fn<(server: string, token: string, options?: { timeoutMs?: number }) => Promise<typeof ALICE_SESSION>>();
  const time = manualClock();
  const resumer = createResumer({ bridge: () => bridge, started: (start) => starts.push(start), ended: (message) => endings.push(message), renew, clock: time.clock });
  return { bridge, starts, endings, renew, time, resumer };
}

describe('resuming a kept session', () => {
  it('does nothing without a kept session', async () => {
    const { resumer, renew, starts } = setUp(null);
    await resumer.resume();
    expect(renew).not.toHaveBeenCalled();
    expect([starts, resumer.resuming.value]).toEqual([[], false]);
  });

  it('renews the kept token and starts the phone with what the server answered, marked as resumed', async () => {
    const { resumer, renew, starts } = setUp();
    renew.mockResolvedValueOnce(ALICE_SESSION);
    await resumer.resume();
    expect(renew.mock.calls).toEqual([['http://pbx.test/', 'tok-1', { timeoutMs: START_RENEW_TIMEOUT_MS }]]);
    expect(starts).toEqual([{ session: ALICE_SESSION, serverUrl: 'http://pbx.test', resumed: true }]);
    expect(resumer.resuming.value).toBe(false);
  });

  it('starts the phone only once what it needs is ready, while renewing meanwhile', async () => {
    const { resumer, renew, starts } = setUp();
    renew.mockResolvedValueOnce(ALICE_SESSION);
    let settingsIn = (): void => undefined;
    const ready = new Promise<void>((resolve) => (settingsIn = resolve));
    const resumed = resumer.resume({ ready });
    await vi.waitFor(() => expect(renew).toHaveBeenCalled());
    expect(starts).toEqual([]);
    settingsIn();
    await resumed;
    expect(starts).toHaveLength(1);
  });

  it('forgets a session the server says is over, and says so for the sign-in form', async () => {
    const { resumer, renew, starts, endings, bridge } = setUp();
    renew.mockRejectedValueOnce(new RequestError(SESSION_ENDED, true));
    await resumer.resume();
    expect(bridge.forgetSession).toHaveBeenCalledOnce();
    expect([starts, endings, resumer.resuming.value]).toEqual([[], [SESSION_ENDED], false]);
  });

  it('keeps the token when the server cannot be reached, says so, and tries again later, waiting longer each time', async () => {
    const { resumer, renew, starts, bridge, time } = setUp();
    const unreachable = new RequestError("Can't reach the server at http://pbx.test.");
    renew.mockRejectedValueOnce(unreachable).mockRejectedValueOnce(unreachable).mockResolvedValueOnce(ALICE_SESSION);
    await resumer.resume();
    expect(resumer.resuming.value).toBe(true);
    expect(resumer.notice.value).toBe("Can't reach the server at http://pbx.test. Trying again in 2 seconds.");
    expect(time.pending()).toEqual([2_000]);
    expect(bridge.forgetSession).not.toHaveBeenCalled();

    time.fire();
    await vi.waitFor(() => expect(time.pending()).toEqual([4_000]));
    expect(resumer.notice.value).toMatch(/Trying again in 4 seconds\.$/);

    time.fire();
    await vi.waitFor(() => expect(starts).toHaveLength(1));
    expect([renew.mock.calls.length, resumer.resuming.value, resumer.notice.value, time.pending()]).toEqual([3, false, '', []]);
  });

  it('gives the first renewal at start a short timeout, so the sign-in form and its notice show soon; later tries wait as usual', async () => {
    const { resumer, renew, time } = setUp();
    renew.mockRejectedValueOnce(new RequestError('The server at http://pbx.test did not answer in time.')).mockResolvedValueOnce(ALICE_SESSION);
    await resumer.resume();
    expect(START_RENEW_TIMEOUT_MS).toBeLessThanOrEqual(3_000);
    expect(renew.mock.calls[0]?.[2]).toEqual({ timeoutMs: START_RENEW_TIMEOUT_MS });
    expect(resumer.notice.value).toBe('The server at http://pbx.test did not answer in time. Trying again in 2 seconds.');
    time.fire();
    await vi.waitFor(() => expect(renew).toHaveBeenCalledTimes(2));
    expect(renew.mock.calls[1]?.[2]).toEqual({});
  });

  it('goes on without a kept session when the bridge does not answer in time', async () => {
    const { bridge, resumer, renew, time } = setUp();
    bridge.getKeptSession.mockReturnValueOnce(new Promise(() => {}));
    const first = resumer.resume();
    await vi.waitFor(() => expect(time.pending()).toEqual([KEPT_SESSION_READ_TIMEOUT_MS]));
    time.fire();
    await first;
    expect([renew.mock.calls.length, resumer.resuming.value, time.pending()]).toEqual([0, false, []]);
  });

  it('never waits less than 2 seconds or more than a minute between tries', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(resumeRetryDelayMs)).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('stops trying when cancelled (a sign-in or a sign-out), and drops an answer that comes after', async () => {
    const { resumer, renew, starts, time } = setUp();
    renew.mockRejectedValueOnce(new RequestError('down'));
    await resumer.resume();
    resumer.cancel();
    expect([time.pending(), resumer.resuming.value, resumer.notice.value]).toEqual([[], false, '']);

    let answer = (_session: typeof ALICE_SESSION): void => undefined;
    renew.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    const late = resumer.resume();
    await vi.waitFor(() => expect(renew).toHaveBeenCalledTimes(2));
    resumer.cancel();
    answer(ALICE_SESSION);
    await late;
    expect(starts).toEqual([]);
  });
});

describe('a running app keeps its session alive', () => {
  function keeperSetUp() {
    const renew = vi.fn<(server: string, token: string) => Promise<typeof ALICE_SESSION>>();
    const time = manualClock();
    const renewals: string[] = [];
    const endings: string[] = [];
    const keeper = createSessionKeeper({ renew, clock: time.clock, renewed: (at) => renewals.push(at), ended: (message) => endings.push(message) });
    return { renew, time, renewals, endings, keeper };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  it('renews every hour with the token, and goes on after a server that could not be reached', async () => {
    const { renew, time, renewals, keeper } = keeperSetUp();
    keeper.start('http://pbx.test', 'tok-1');
    expect(time.pending()).toEqual([KEEP_ALIVE_MS]);
    renew.mockResolvedValueOnce({ ...ALICE_SESSION, expiresAt: '2030-01-01T00:00:00.000Z' });
    time.fire();
    await settle();
    expect(renew).toHaveBeenCalledWith('http://pbx.test', 'tok-1');
    expect(renewals).toEqual(['2030-01-01T00:00:00.000Z']);
    renew.mockRejectedValueOnce(new RequestError("Can't reach the server at http://pbx.test."));
    time.fire();
    await settle();
    expect(time.pending()).toEqual([KEEP_ALIVE_MS]);
  });

  it('ends when the server says the session is over, and stops when told', async () => {
    const { renew, time, endings, keeper } = keeperSetUp();
    keeper.start('http://pbx.test', 'tok-1');
    renew.mockRejectedValueOnce(new RequestError(SESSION_ENDED, true));
    time.fire();
    await settle();
    expect(endings).toEqual([SESSION_ENDED]);
    expect(time.pending()).toEqual([]);
    keeper.start('http://pbx.test', 'tok-2');
    keeper.stop();
    expect(time.pending()).toEqual([]);
  });
});
