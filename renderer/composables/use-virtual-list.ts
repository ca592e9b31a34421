/**
 * Renders only the rows in view of a long, fixed-row-height list, so a history of 100,000 calls scrolls as
 * lightly as one of 20. The container scrolls; a spacer gives it the full height; the visible slice is
 * positioned at its offset.
 */
import { computed, onBeforeUnmount, onMounted, ref } from 'vue';
import type { Ref } from 'vue';

export function useVirtualList<T>(items: Ref<readonly T[]>, rowHeight: number, overscan = 8) {
  const container = ref<HTMLElement>();
  const scrollTop = ref(0);
  const viewportHeight = ref(600);
  let observer: ResizeObserver | undefined;

  const onScroll = () => {
    scrollTop.value = container.value?.scrollTop ?? 0;
  };

  onMounted(() => {
    const el = container.value;
    if (!el) return;
    viewportHeight.value = el.clientHeight || viewportHeight.value;
    el.addEventListener('scroll', onScroll, { passive: true });
    observer = new ResizeObserver(() => {
      viewportHeight.value = el.clientHeight || viewportHeight.value;
    });
    observer.observe(el);
  });
  onBeforeUnmount(() => {
    container.value?.removeEventListener('scroll', onScroll);
    observer?.disconnect();
  });

  const range = computed(() => {
    const first = Math.max(0, Math.floor(scrollTop.value / rowHeight) - overscan);
    const count = Math.ceil(viewportHeight.value / rowHeight) + overscan * 2;
    return { first, last: Math.min(items.value.length, first + count) };
  });
  const visible = computed(() => items.value.slice(range.value.first, range.value.last).map((item, i) => ({ item, index: range.value.first + i })));
  const totalHeight = computed(() => items.value.length * rowHeight);
  const offset = computed(() => range.value.first * rowHeight);
  /** True when the last rows are in view: time to load the next page. */
  const nearEnd = computed(() => range.value.last >= items.value.length - overscan);

  return { container, visible, totalHeight, offset, nearEnd };
}
