/**
 * The PBX's call commands at the network edge, for the call stores' tests: `fetch` answers each request with the
 * next answer queued (202 by default), and `signedInPhone` sets up a signed-in app whose phone store runs on a
 * fake engine, as the call features need it.
 */
import { createPinia, setActivePinia } from 'pinia';
import { vi } from 'vitest';
import { createWebBridge } from '../bridge/web-bridge';
import { usePhoneStore } from '../features/calls';
import { useSessionStore } from '../features/sign-in';
import { FakePhoneEngine } from './fake-engine';
import { FakeMediaDevices, FakeRinger } from './fake-media';
import { ALICE_SESSION } from './fake-session';

export function fakePbx() {
  const requests: Array<{ url: string; method: string; body: unknown }> = [];
  /** Each request's headers, in the order of `requests`. */
  const headers: Headers[] = [];
  const answers: Array<{ status: number; body?: unknown }> = [];
  /** While set, answers wait for it: the test decides when the PBX's answer arrives. */
  let gate: Promise<void> | undefined;
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    requests.push({ url: String(input), method: init?.method ?? 'GET', body: init?.body === undefined ? undefined : JSON.parse(String(init.body)) });
    headers.push(new Headers(init?.headers));
    const answer = answers.shift() ?? { status: 202 };
    if (gate) await gate;
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), { status: answer.status });
  });
  return {
    fetch,
    requests,
    headers,
    answers,
    /** Holds the answers back until the returned function is called. */
    holdAnswers(): () => void {
      let release = () => {};
      gate = new Promise<void>((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

/** A refusal as the PBX's API sends it. */
export const refusal = (status: number, code: string, message: string) => ({ status, body: { error: { code, message } } });

/**
 * Alice signed in to http://pbx.test with a registered fake engine; the fake PBX answers fetch. Call with fake
 * timers on; `stop()` undoes it all.
 */
export function signedInPhone() {
  const items = new Map<string, string>();
  const bridge = createWebBridge({
    storage: { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) },
    setTitle: () => {},
    showNotification: () => {},
    platform: 'test',
  });
  vi.stubGlobal('window', { offhook: bridge });
  const pbx = fakePbx();
  vi.stubGlobal('fetch', pbx.fetch);
  setActivePinia(createPinia());
  const session = useSessionStore();
  session.session = ALICE_SESSION;
  session.serverUrl = 'http://pbx.test';
  const phone = usePhoneStore();
  const engine = new FakePhoneEngine();
  phone.start(engine, { ringer: new FakeRinger(), mediaDevices: new FakeMediaDevices() });
  engine.register('registered');
  return {
    pbx,
    phone,
    engine,
    stop(): void {
      phone.stop();
      vi.unstubAllGlobals();
    },
  };
}
