import { effectScope } from 'vue';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useGreetingRecorder } from './use-greeting-recorder';

/** The browser at its edges: a microphone whose permission prompt answers when the test says, a recorder, blob URLs. */
function fakeBrowser() {
  const stoppedTracks: string[] = [];
  const recorders: string[] = [];
  const urls = { made: [] as string[], revoked: [] as string[] };
  let grant: (stream: MediaStream) => void = () => undefined;
  const stream = { getTracks: () => [{ stop: () => stoppedTracks.push('microphone') }] } as unknown as MediaStream;
  vi.stubGlobal('navigator', {
    mediaDevices: {
      getUserMedia: () =>
        new Promise<MediaStream>((resolve) => {
          grant = resolve;
        }),
    },
  });
  vi.stubGlobal(
    'MediaRecorder',
    class {
      state = 'inactive';
      mimeType = 'audio/webm';
      start() {
        this.state = 'recording';
        recorders.push('started');
      }
      stop() {
        this.state = 'inactive';
      }
    },
  );
  // A file this browser cannot decode, so it is kept as chosen.
  vi.stubGlobal(
    'OfflineAudioContext',
    class {
      decodeAudioData() {
        return Promise.reject(new Error('EncodingError'));
      }
    },
  );
  vi.spyOn(URL, 'createObjectURL').mockImplementation(() => {
    const url = `blob:greeting-${urls.made.length + 1}`;
    urls.made.push(url);
    return url;
  });
  vi.spyOn(URL, 'revokeObjectURL').mockImplementation((url) => void urls.revoked.push(url));
  return { stoppedTracks, recorders, urls, grantMicrophone: () => grant(stream) };
}

describe('recording a greeting', () => {
  let browser: ReturnType<typeof fakeBrowser>;
  beforeEach(() => {
    browser = fakeBrowser();
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
  });

  it('turns the microphone off and records nothing when the pane is left while the browser still asks for it', async () => {
    const scope = effectScope();
    const recorder = scope.run(() => useGreetingRecorder(() => undefined))!;
    const starting = recorder.start();
    expect(recorder.state.value).toBe('starting');
    scope.stop();
    browser.grantMicrophone();
    await starting;
    expect(browser.stoppedTracks).toEqual(['microphone']);
    expect(browser.recorders).toEqual([]);
    expect(recorder.state.value).not.toBe('recording');
  });

  it('lets no listen-back URL outlive the pane when it is left while a chosen file is read', async () => {
    const scope = effectScope();
    const recorder = scope.run(() => useGreetingRecorder(() => undefined))!;
    const reading = recorder.fromFile(new File([new Uint8Array(8)], 'Away.mp3', { type: 'audio/mpeg' }));
    scope.stop();
    await reading;
    expect(browser.urls.revoked).toEqual(browser.urls.made);
  });

  it('keeps a chosen file it cannot decode to listen to, and lets its URL go when the pane is left', async () => {
    const scope = effectScope();
    const recorder = scope.run(() => useGreetingRecorder(() => undefined))!;
    await recorder.fromFile(new File([new Uint8Array(8)], 'Away.mp3', { type: 'audio/mpeg' }));
    expect(recorder.draft.value).toMatchObject({ url: 'blob:greeting-1', suggestedName: 'Away', durationMs: undefined });
    scope.stop();
    expect(browser.urls.revoked).toEqual(['blob:greeting-1']);
  });
});
