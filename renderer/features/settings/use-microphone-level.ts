import { onScopeDispose, ref, watch } from 'vue';
import type { Ref } from 'vue';
import { createLogger } from '../../log';
import { watchMicrophoneLevel } from '../../phone/tones';
import type { PlayingSound } from '../../phone/tones';

const log = createLogger('microphone-level');

/**
 * The live level (0 to 1) of the microphone `deviceId` gives, for as long as the calling component lives; it
 * follows the device as it changes. `error` says why there is no level (the person refused the microphone).
 */
export function useMicrophoneLevel(deviceId: Ref<string | undefined>, onOpened?: () => void) {
  const level = ref(0);
  const error = ref('');
  let meter: PlayingSound | undefined;
  let generation = 0;

  async function open(id: string | undefined): Promise<void> {
    const mine = ++generation;
    meter?.stop();
    meter = undefined;
    level.value = 0;
    try {
      const opened = await watchMicrophoneLevel(id, (value) => {
        level.value = value;
      });
      if (mine !== generation) {
        opened.stop();
        return;
      }
      meter = opened;
      error.value = '';
      onOpened?.();
    } catch (reason) {
      log.warn('could not open the microphone', { error: String(reason) });
      if (mine === generation) error.value = 'Offhook may not use the microphone. Allow it in the browser to see the level.';
    }
  }

  watch(deviceId, (id) => void open(id), { immediate: true });
  onScopeDispose(() => {
    generation++;
    meter?.stop();
  });
  return { level, error };
}
