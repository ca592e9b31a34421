/**
 * The dial policy in the call path: an extension without permission to call outside numbers is refused with
 * the policy's answer; with permission the PBX routes the call (and, with no trunk configured yet, says it
 * cannot reach that number).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { setCanCallExternal } from '../../server/store/dial-permissions';
import { MediaPeer, SipPhone } from '../support/sip-phone';

describe('dial policy', () => {
  let pbx: RunningPbx;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-policy-'));
    pbx = await startPbx({ httpPort: 0, bind: '127.0.0.1', dataDir, mediaAddress: '127.0.0.1', sipHost: '127.0.0.1', demo: true, webRoot: join(dataDir, 'none') });
  });

  afterAll(async () => {
    await pbx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses an outside number to an extension that may not call out, and routes it for one that may', async () => {
    const alice = await SipPhone.register(pbx.httpUrl, pbx.sipWebSocketUrl, '101', 'alice-101');
    const media = new MediaPeer();
    try {
      const refused = await alice.invite('15551234567', await media.offer());
      expect(refused.final.status).toBe(403);
      expect(refused.final.reason).toMatch(/Outside calls are not allowed/);

      const user = await pbx.db.selectFrom('users').select('id').where('extension', '=', '101').executeTakeFirstOrThrow();
      await setCanCallExternal(pbx.db, user.id, true);
      const routed = await alice.invite('15551234567', await media.offer());
      // Allowed past the policy; no trunk leads outside yet, so the number is not found.
      expect(routed.final.status).toBe(404);
    } finally {
      await media.close();
      alice.close();
    }
  });
});
