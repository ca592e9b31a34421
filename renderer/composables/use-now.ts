import { onScopeDispose, ref } from 'vue';
import type { Ref } from 'vue';

/** The current time, updated every `intervalMs` for as long as the calling component lives. */
export function useNow(intervalMs = 1_000): Ref<number> {
  const now = ref(Date.now());
  const timer = setInterval(() => {
    now.value = Date.now();
  }, intervalMs);
  onScopeDispose(() => clearInterval(timer));
  return now;
}
