import { describe, expect, it } from 'vitest';
import { CLOSED, listboxKey } from './listbox-keys';

describe('listboxKey', () => {
  it('moves through the options with the arrows, wrapping at either end', () => {
    let state = CLOSED;
    const press = (key: string) => {
      const result = listboxKey(state, key, 3);
      state = result.state;
      return result;
    };
    expect(press('ArrowDown')).toMatchObject({ state: { open: true, active: 0 }, handled: true });
    expect(press('ArrowDown').state.active).toBe(1);
    expect(press('ArrowDown').state.active).toBe(2);
    expect(press('ArrowDown').state.active).toBe(0);
    expect(press('ArrowUp').state.active).toBe(2);
  });

  it('opens on the last option with ArrowUp', () => {
    expect(listboxKey(CLOSED, 'ArrowUp', 3)).toMatchObject({ state: { open: true, active: 2 }, handled: true });
  });

  it('picks the active option with Enter and closes the list', () => {
    expect(listboxKey({ open: true, active: 1 }, 'Enter', 3)).toEqual({ state: CLOSED, pick: 1, handled: true });
  });

  it('leaves Enter to the form when no option is active, so it calls', () => {
    expect(listboxKey({ open: true, active: -1 }, 'Enter', 3)).toEqual({ state: CLOSED, handled: false });
    expect(listboxKey(CLOSED, 'Enter', 0)).toEqual({ state: CLOSED, handled: false });
  });

  it('closes an open list with Escape, and lets Escape through when it is closed', () => {
    expect(listboxKey({ open: true, active: 0 }, 'Escape', 3)).toEqual({ state: CLOSED, handled: true });
    expect(listboxKey(CLOSED, 'Escape', 3)).toEqual({ state: CLOSED, handled: false });
  });

  it('does nothing with the arrows when there is nothing to suggest, nor with other keys', () => {
    expect(listboxKey(CLOSED, 'ArrowDown', 0)).toEqual({ state: CLOSED, handled: false });
    expect(listboxKey({ open: true, active: 0 }, 'b', 3)).toEqual({ state: { open: true, active: 0 }, handled: false });
  });
});
