/**
 * The navigation pane's form for the window's width: the full list of icons and words beside the content on a
 * wide window, a rail of icons with their word under each on a middling one, and on a narrow window a Menu
 * button that opens the list over the content. styles/shell.css keys the layout off the form (`shell--<form>`), so
 * these widths are the only breakpoints of the shell.
 */
import { onScopeDispose, ref, watch } from 'vue';
import type { Ref } from 'vue';

export type NavForm = 'full' | 'rail' | 'menu';

/** From this width up the full list shows. */
export const FULL_FROM = 1024;
/** From this width up (and below FULL_FROM) the rail shows; narrower windows get the Menu button. */
export const RAIL_FROM = 600;

export function navFormFor(width: number): NavForm {
  if (width >= FULL_FROM) return 'full';
  if (width >= RAIL_FROM) return 'rail';
  return 'menu';
}

/** The form for the window's current width, updated as the window is resized. */
export function useNavForm(win: Pick<Window, 'innerWidth' | 'addEventListener' | 'removeEventListener'> = window): Ref<NavForm> {
  const form = ref<NavForm>(navFormFor(win.innerWidth));
  const onResize = () => {
    form.value = navFormFor(win.innerWidth);
  };
  win.addEventListener('resize', onResize);
  onScopeDispose(() => win.removeEventListener('resize', onResize));
  return form;
}

/**
 * Whether the narrow form's section list is open. It closes when a section is chosen and when the window
 * grows out of the narrow form, so it is never left open behind the rail or the full list.
 */
export function useNavMenu(form: Ref<NavForm>) {
  const open = ref(false);
  watch(form, (now) => {
    if (now !== 'menu') open.value = false;
  });
  return {
    open,
    toggle(): void {
      open.value = form.value === 'menu' && !open.value;
    },
    close(): void {
      open.value = false;
    },
  };
}
