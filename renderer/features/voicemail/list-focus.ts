/**
 * Where keyboard focus goes when a message leaves the list it was in (saved, marked as new): to the message that
 * took its place, or the one before it when it was last, so the user goes on where they were. Undefined when the
 * list is left empty. Pure, so the choice is tested without a browser.
 */
export function neighbourOf(ids: readonly number[], leaving: number): number | undefined {
  const at = ids.indexOf(leaving);
  if (at < 0) return undefined;
  return ids[at + 1] ?? (at > 0 ? ids[at - 1] : undefined);
}
