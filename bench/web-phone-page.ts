/// <reference lib="dom" />
/**
 * What the web-phone bench puts in every page before the app loads, all on the wall clock
 * (`performance.timeOrigin + performance.now()`, comparable across the two browser processes of one machine):
 * the last click, the moment an incoming card appears (a MutationObserver), the first moment the far end's audio
 * is heard after `arm()`, and the SIP messages the page's WebSockets send and receive (their first line and
 * CSeq method), which time the INVITE alone through the PBX, the reference for Call clicked to the card.
 */
import type { Page } from 'playwright-core';

export interface WireMessage {
  at: number;
  direction: 'out' | 'in';
  /** `INVITE`, `ACK`… for a request, `200`, `180`… for a response. */
  kind: string;
  /** The method of its CSeq, which tells a response to an INVITE from one to something else. */
  method: string;
}

export interface PageBench {
  lastClickAt: number;
  incomingAt: number;
  heardAt: number;
  armedAt: number;
  wire: WireMessage[];
  arm(): void;
}

/**
 * Runs in the page (Playwright's addInitScript), so it refers to nothing outside itself. `threshold` is the level
 * in dBFS above which the remote audio counts as heard.
 */
export function instrumentPage(threshold: number): void {
  const wall = () => performance.timeOrigin + performance.now();
  const bench: PageBench = {
    lastClickAt: 0,
    incomingAt: 0,
    heardAt: 0,
    armedAt: 0,
    wire: [],
    arm() {
      bench.heardAt = 0;
      bench.incomingAt = 0;
      bench.wire = [];
      bench.armedAt = wall();
    },
  };
  Object.assign(window, { __bench: bench });
  document.addEventListener('click', () => (bench.lastClickAt = wall()), true);
  new MutationObserver(() => {
    if (!bench.incomingAt && document.querySelector('section[aria-label="Incoming call"]')) bench.incomingAt = wall();
  }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-label'] });

  const record = (direction: WireMessage['direction'], data: unknown) => {
    if (typeof data !== 'string' || !bench.armedAt) return;
    const firstLine = data.slice(0, data.indexOf('\r\n'));
    const request = /^([A-Z]+) sip:/.exec(firstLine);
    const response = /^SIP\/2\.0 (\d{3})/.exec(firstLine);
    if (!request && !response) return;
    const method = /\r\nCSeq:\s*\d+\s+([A-Z]+)/i.exec(data)?.[1] ?? '';
    bench.wire.push({ at: wall(), direction, kind: request?.[1] ?? response?.[1] ?? '', method });
  };
  const Native = window.WebSocket;
  class WatchedWebSocket extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (event) => record('in', event.data));
    }
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      record('out', data);
      super.send(data);
    }
  }
  window.WebSocket = WatchedWebSocket;

  let context: AudioContext | undefined;
  const analysers = new Map<MediaStream, AnalyserNode>();
  const samples = new Float32Array(256);
  setInterval(() => {
    if (!bench.armedAt || bench.heardAt) return;
    for (const element of Array.from(document.querySelectorAll<HTMLAudioElement>('[data-testid="remote-audio"]'))) {
      const stream = element.srcObject;
      if (!(stream instanceof MediaStream) || stream.getAudioTracks().length === 0) continue;
      let analyser = analysers.get(stream);
      if (!analyser) {
        context ??= new AudioContext();
        analyser = context.createAnalyser();
        analyser.fftSize = samples.length;
        context.createMediaStreamSource(stream).connect(analyser);
        analysers.set(stream, analyser);
      }
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      if (10 * Math.log10(sum / samples.length + 1e-12) > threshold) {
        bench.heardAt = wall();
        return;
      }
    }
    // Streams of ended calls are let go so the heap figures are the app's, not the benchmark's.
    for (const stream of analysers.keys()) if (stream.getAudioTracks().every((track) => track.readyState === 'ended')) analysers.delete(stream);
  }, 2);
}

export const readBench = (page: Page): Promise<PageBench> => page.evaluate(() => (window as unknown as { __bench: PageBench }).__bench);
export const armBench = (page: Page): Promise<void> => page.evaluate(() => (window as unknown as { __bench: PageBench }).__bench.arm());

/** The INVITE's own trip through the PBX: the caller's last INVITE sent (after the digest challenge) to the callee receiving one. */
export function inviteAlone(caller: PageBench, callee: PageBench): number {
  const received = callee.wire.find((m) => m.direction === 'in' && m.kind === 'INVITE');
  const sent = caller.wire.filter((m) => m.direction === 'out' && m.kind === 'INVITE' && (!received || m.at <= received.at)).pop();
  return received && sent ? received.at - sent.at : NaN;
}

/** When the callee sent its 200 to the INVITE: the end of its own part of answering (microphone, answer SDP, gathering). */
export function okSentAt(callee: PageBench): number {
  return callee.wire.find((m) => m.direction === 'out' && m.kind === '200' && m.method === 'INVITE')?.at ?? NaN;
}
