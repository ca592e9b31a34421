import { describe, expect, it } from 'vitest';
import { CALL_SHORTCUT_ACTIONS, CALL_SHORTCUTS, callShortcut, matchCallShortcut } from './call-shortcuts';

const press = (code: string, modifiers: Partial<{ ctrlKey: boolean; shiftKey: boolean; altKey: boolean; metaKey: boolean }> = {}) => ({
  code,
  ctrlKey: true,
  shiftKey: true,
  altKey: false,
  metaKey: false,
  ...modifiers,
});

describe('call shortcuts', () => {
  it('has one shortcut per action, each on its own key', () => {
    expect(CALL_SHORTCUTS.map((s) => s.action)).toEqual([...CALL_SHORTCUT_ACTIONS]);
    expect(new Set(CALL_SHORTCUTS.map((s) => s.code)).size).toBe(CALL_SHORTCUTS.length);
  });

  it('writes the same keys for people, for aria-keyshortcuts and for Electron', () => {
    for (const shortcut of CALL_SHORTCUTS) {
      expect(shortcut.keys).toMatch(/^Ctrl\+Shift\+\S+$/);
      expect(shortcut.aria).toBe(shortcut.keys.replace(/^Ctrl/, 'Control'));
      expect(shortcut.accelerator).toBe(shortcut.aria);
    }
  });

  it('stays off the keys Chromium keeps for itself with Control+Shift', () => {
    // Tab search, bookmarks, devtools, profile menu, new incognito window, reopen tab, close window, quit, reload…
    const browsers = ['KeyA', 'KeyB', 'KeyC', 'KeyD', 'KeyG', 'KeyI', 'KeyJ', 'KeyM', 'KeyN', 'KeyO', 'KeyQ', 'KeyR', 'KeyT', 'KeyV', 'KeyW', 'KeyZ', 'Tab', 'Delete'];
    for (const shortcut of CALL_SHORTCUTS) expect(browsers).not.toContain(shortcut.code);
  });

  it('matches Control+Shift and the key, by the physical key whatever the layout', () => {
    expect(matchCallShortcut(press('Enter'))).toBe('answer');
    expect(matchCallShortcut(press('KeyX'))).toBe('decline');
    expect(matchCallShortcut(press('Space'))).toBe('mute');
    expect(matchCallShortcut(press('KeyH'))).toBe('hold');
    expect(matchCallShortcut(press('KeyE'))).toBe('hang-up');
  });

  it('ignores the key alone, with one modifier, or with another modifier too', () => {
    expect(matchCallShortcut(press('Enter', { ctrlKey: false, shiftKey: false }))).toBeUndefined();
    expect(matchCallShortcut(press('Enter', { shiftKey: false }))).toBeUndefined();
    expect(matchCallShortcut(press('KeyE', { ctrlKey: false }))).toBeUndefined();
    expect(matchCallShortcut(press('KeyH', { altKey: true }))).toBeUndefined();
    expect(matchCallShortcut(press('KeyX', { metaKey: true }))).toBeUndefined();
    expect(matchCallShortcut(press('KeyK'))).toBeUndefined();
  });

  it('finds a shortcut by its action', () => {
    expect(callShortcut('answer').keys).toBe('Ctrl+Shift+Enter');
  });
});
