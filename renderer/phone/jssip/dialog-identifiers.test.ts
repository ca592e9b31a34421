import { describe, expect, it } from 'vitest';
import type { RTCSession } from 'jssip/lib/RTCSession';
import { dialogIdentifiers } from './dialog-identifiers';

const session = (dialog: unknown) => ({ _dialog: dialog }) as unknown as RTCSession;

describe("a JsSIP session's dialog identifiers", () => {
  it('reads the Call-ID and both tags of a confirmed dialog', () => {
    expect(dialogIdentifiers(session({ id: { call_id: 'c1', local_tag: 'l1', remote_tag: 'r1' } }))).toEqual({ sipCallId: 'c1', localTag: 'l1', remoteTag: 'r1' });
  });

  it('has none before the dialog exists or when a tag is missing', () => {
    expect(dialogIdentifiers(session(null))).toBeUndefined();
    expect(dialogIdentifiers(session({ id: { call_id: 'c1', local_tag: 'l1' } }))).toBeUndefined();
  });
});
