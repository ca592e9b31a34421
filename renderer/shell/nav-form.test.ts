import { describe, expect, it } from 'vitest';
import { effectScope, nextTick, ref } from 'vue';
import { FULL_FROM, RAIL_FROM, navFormFor, useNavForm, useNavMenu } from './nav-form';
import type { NavForm } from './nav-form';

describe('navFormFor', () => {
  it('gives the full list on a wide window, the rail on a middling one and the menu on a narrow one', () => {
    expect(navFormFor(1280)).toBe('full');
    expect(navFormFor(FULL_FROM)).toBe('full');
    expect(navFormFor(FULL_FROM - 1)).toBe('rail');
    expect(navFormFor(768)).toBe('rail');
    expect(navFormFor(RAIL_FROM)).toBe('rail');
    expect(navFormFor(RAIL_FROM - 1)).toBe('menu');
    expect(navFormFor(360)).toBe('menu');
  });
});

describe('useNavForm', () => {
  it('follows the window as it is resized, and stops listening with its scope', () => {
    const listeners = new Set<() => void>();
    const win = {
      innerWidth: 1280,
      addEventListener: (_type: string, listener: () => void) => listeners.add(listener),
      removeEventListener: (_type: string, listener: () => void) => listeners.delete(listener),
    } as unknown as Window;
    const scope = effectScope();
    const form = scope.run(() => useNavForm(win))!;
    expect(form.value).toBe('full');
    (win as { innerWidth: number }).innerWidth = 360;
    for (const listener of listeners) listener();
    expect(form.value).toBe('menu');
    scope.stop();
    expect(listeners.size).toBe(0);
  });
});

describe('useNavMenu', () => {
  it('opens and closes only in the narrow form', () => {
    const form = ref<NavForm>('rail');
    const menu = useNavMenu(form);
    menu.toggle();
    expect(menu.open.value).toBe(false);
    form.value = 'menu';
    menu.toggle();
    expect(menu.open.value).toBe(true);
    menu.toggle();
    expect(menu.open.value).toBe(false);
  });

  it('closes when the window grows out of the narrow form, so it is not left open behind the rail', async () => {
    const form = ref<NavForm>('menu');
    const menu = useNavMenu(form);
    menu.toggle();
    form.value = 'rail';
    await nextTick();
    expect(menu.open.value).toBe(false);
  });

  it('closes when a section is chosen', () => {
    const menu = useNavMenu(ref<NavForm>('menu'));
    menu.toggle();
    menu.close();
    expect(menu.open.value).toBe(false);
  });
});
