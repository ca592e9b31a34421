/**
 * What the number field suggests as it is typed: people from the directory and the parties of recent calls
 * whose name or number matches, each once, with the number as the user reads it.
 */
import type { CallHistoryEntry, DirectoryEntry } from '../../../shared/api';
import { displayNumber, numberDigits } from '../../../shared/phone-numbers';
import type { Region } from '../../../shared/phone-numbers';

export interface NumberSuggestion {
  /** Unique within one list of suggestions; also the option's element id. */
  id: string;
  name: string;
  /** The number as it came from the directory or the history. */
  number: string;
  /** The number formatted for the user's region; what picking the suggestion puts in the number field. */
  display: string;
  source: 'directory' | 'history';
}

export const SUGGESTION_LIMIT = 8;

const NUMBER_LIKE = /^[0-9+*#\s().-]+$/;

/** Names match on any part, any case; a number-like text also matches the digits of numbers. */
function matcher(text: string): (name: string, number: string) => boolean {
  const lower = text.trim().toLowerCase();
  const digits = NUMBER_LIKE.test(lower) ? numberDigits(lower) : '';
  return (name, number) => name.toLowerCase().includes(lower) || (digits !== '' && numberDigits(number).includes(digits));
}

export function suggestNumbers(
  text: string,
  sources: { directory: readonly DirectoryEntry[]; history: readonly CallHistoryEntry[]; region: Region; limit?: number },
): NumberSuggestion[] {
  if (text.trim() === '') return [];
  const matches = matcher(text);
  const limit = sources.limit ?? SUGGESTION_LIMIT;
  const seen = new Set<string>();
  const out: NumberSuggestion[] = [];
  const add = (name: string, number: string, source: NumberSuggestion['source']) => {
    const key = numberDigits(number) || number;
    if (out.length >= limit || number === '' || seen.has(key) || !matches(name, number)) return;
    seen.add(key);
    out.push({ id: `suggestion-${out.length}`, name, number, display: displayNumber(number, sources.region), source });
  };
  // The directory first, in the server's order (best matches first); then people from recent calls, newest first.
  for (const entry of sources.directory) add(entry.displayName, entry.extension, 'directory');
  for (const entry of sources.history) add(entry.party.name, entry.party.number, 'history');
  return out;
}

/** A suggestion's accessible name and visible text: "Bob Brown 102". */
export function suggestionLabel(suggestion: Pick<NumberSuggestion, 'name' | 'display'>): string {
  const name = suggestion.name.trim();
  return name && name !== suggestion.display ? `${name} ${suggestion.display}` : suggestion.display;
}
