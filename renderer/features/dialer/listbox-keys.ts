/**
 * The keys of a combobox with a list of suggestions (WAI-ARIA APG combobox pattern): focus stays in the text
 * field while the arrows move the active option, Enter picks it, Escape closes the list. Keys it leaves
 * unhandled keep their usual meaning (Enter with no active option submits the form: it calls).
 */
export interface ListboxState {
  open: boolean;
  /** Index of the active option; -1 for none. */
  active: number;
}

export interface ListboxKeyResult {
  state: ListboxState;
  /** The option picked by this key, if any. */
  pick?: number;
  /** Whether the key was used here and its default action should be prevented. */
  handled: boolean;
}

export const CLOSED: ListboxState = { open: false, active: -1 };

export function listboxKey(state: ListboxState, key: string, count: number): ListboxKeyResult {
  switch (key) {
    case 'ArrowDown':
      if (count === 0) return { state, handled: false };
      return { state: { open: true, active: state.open ? (state.active + 1) % count : 0 }, handled: true };
    case 'ArrowUp':
      if (count === 0) return { state, handled: false };
      return { state: { open: true, active: state.open && state.active > 0 ? state.active - 1 : count - 1 }, handled: true };
    case 'Enter':
      if (state.open && state.active >= 0 && state.active < count) return { state: CLOSED, pick: state.active, handled: true };
      return { state: CLOSED, handled: false };
    case 'Escape':
      if (state.open) return { state: CLOSED, handled: true };
      return { state, handled: false };
    default:
      return { state, handled: false };
  }
}
