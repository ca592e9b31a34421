/**
 * Recording a greeting with the microphone: the browser's MediaRecorder captures it (whatever it codes to), and
 * when it stops the recording is decoded and turned into the 16 kHz mono WAV the PBX takes (wav-blob.ts), to
 * listen to before saving. A file chosen with Upload goes the same way, so MP3 and M4A work too; a file the
 * browser cannot decode is kept as it is and left to the PBX, whose sentence then says what is wrong.
 * Recording stops by itself at the longest a greeting may be.
 */
import { onScopeDispose, ref, shallowRef } from 'vue';
import { GREETING_MAX_MS } from '../../../shared/greetings';
import { createLogger } from '../../log';
import { audioToWav } from './wav-blob';

const log = createLogger('greeting-recorder');

export type RecorderState = 'idle' | 'starting' | 'recording' | 'processing';

export interface GreetingDraft {
  /** What is uploaded: a WAV, or the file as chosen when the browser could not decode it. */
  audio: Blob;
  /** A blob: URL to listen to it. */
  url: string;
  /** Undefined when the browser could not decode it. */
  durationMs: number | undefined;
  /** A name to start from: the file's, without its extension; empty for a recording. */
  suggestedName: string;
}

export function useGreetingRecorder(microphoneId: () => string | undefined) {
  const state = ref<RecorderState>('idle');
  const elapsedMs = ref(0);
  const draft = shallowRef<GreetingDraft>();
  const error = ref('');
  let recorder: MediaRecorder | undefined;
  let stream: MediaStream | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let startedAt = 0;
  /** Set when the pane is left: what the browser answers after that (a microphone, a decoded file) is let go. */
  let disposed = false;

  function release(): void {
    clearInterval(timer);
    timer = undefined;
    for (const track of stream?.getTracks() ?? []) track.stop();
    stream = undefined;
    recorder = undefined;
  }

  function discard(): void {
    if (draft.value) URL.revokeObjectURL(draft.value.url);
    draft.value = undefined;
  }

  async function finish(audio: Blob, suggestedName: string, recording: boolean): Promise<void> {
    state.value = 'processing';
    try {
      const { wav, durationMs } = await audioToWav(audio, recording ? GREETING_MAX_MS : undefined);
      if (disposed) return;
      discard();
      draft.value = { audio: wav, url: URL.createObjectURL(wav), durationMs, suggestedName };
    } catch (failure) {
      log.warn('could not decode the audio', { error: String(failure) });
      if (disposed) return;
      if (!recording) {
        discard();
        draft.value = { audio, url: URL.createObjectURL(audio), durationMs: undefined, suggestedName };
      } else {
        error.value = 'The recording could not be read. Try recording again.';
      }
    } finally {
      state.value = 'idle';
    }
  }

  async function start(): Promise<void> {
    if (state.value !== 'idle') return;
    error.value = '';
    discard();
    state.value = 'starting';
    try {
      const id = microphoneId();
      stream = await navigator.mediaDevices.getUserMedia({ audio: id ? { deviceId: { exact: id } } : true, video: false });
      // Left while the browser was asking: the cleanup ran before there was a stream to stop.
      if (disposed) {
        release();
        return;
      }
    } catch (failure) {
      log.warn('no microphone', { error: String(failure) });
      error.value = 'Offhook may not use the microphone. Allow it in the browser, then try again.';
      state.value = 'idle';
      return;
    }
    const chunks: Blob[] = [];
    const active = new MediaRecorder(stream);
    recorder = active;
    active.ondataavailable = (event) => {
      if (event.data.size > 0) chunks.push(event.data);
    };
    active.onstop = () => {
      release();
      void finish(new Blob(chunks, { type: active.mimeType }), '', true);
    };
    active.start(250);
    startedAt = performance.now();
    elapsedMs.value = 0;
    state.value = 'recording';
    timer = setInterval(() => {
      elapsedMs.value = performance.now() - startedAt;
      if (elapsedMs.value >= GREETING_MAX_MS) stop();
    }, 200);
  }

  function stop(): void {
    if (state.value !== 'recording' || !recorder) return;
    elapsedMs.value = performance.now() - startedAt;
    state.value = 'processing';
    recorder.stop();
  }

  async function fromFile(file: File): Promise<void> {
    if (state.value !== 'idle') return;
    error.value = '';
    const name = file.name.replace(/\.[^.]*$/, '').trim().slice(0, 60);
    await finish(file, name, false);
  }

  onScopeDispose(() => {
    disposed = true;
    if (recorder && recorder.state !== 'inactive') {
      recorder.onstop = null;
      recorder.stop();
    }
    release();
    discard();
  });

  return { state, elapsedMs, draft, error, start, stop, fromFile, discard };
}
