/** A signed-in session for store tests: what the PBX would have answered to Alice's sign-in. */
import type { SessionResponse } from '../../shared/api';

export const ALICE_SESSION: SessionResponse = {
  token: 'token-1',
  expiresAt: '2030-01-01T00:00:00.000Z',
  user: { id: 2, extension: '101', displayName: 'Alice Adams', role: 'user', organization: { id: 1, name: 'Demo', domain: 'demo.test' } },
  sip: { uri: 'sip:101@demo.test', wsUrl: 'ws://pbx.test/sip', authorizationUser: '101', password: 'x', realm: 'demo.test', displayName: 'Alice Adams' },
};
