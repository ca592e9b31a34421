import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeWav } from '../../media/audio-file';
import { openTestApi } from '../test-support';

describe('greeting routes', () => {
  it('serves the audio whole, one byte range of it, 416 past its end, and whole again for a backwards range (RFC 9110 §14.1.1)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'offhook-greeting-routes-'));
    const api = await openTestApi({ dataDir });
    try {
      const token = await api.tokenFor('101', 'alice-101');
      const headers = { authorization: `Bearer ${token}` };
      const upload = await api.app.inject({ method: 'POST', url: '/api/v1/greetings?name=Office', payload: encodeWav(new Int16Array(8000).fill(1000), 8000), headers: { ...headers, 'content-type': 'audio/wav' } });
      expect(upload.statusCode).toBe(201);
      const url = `/api/v1/greetings/${(upload.json() as { id: number }).id}/audio`;
      const whole = (await api.app.inject({ method: 'GET', url, headers })).rawPayload;
      expect(whole.toString('latin1', 0, 4)).toBe('OggS');
      const part = await api.app.inject({ method: 'GET', url, headers: { ...headers, range: 'bytes=0-9' } });
      expect([part.statusCode, part.headers['content-range'], part.rawPayload]).toEqual([206, `bytes 0-9/${whole.length}`, whole.subarray(0, 10)]);
      const past = await api.app.inject({ method: 'GET', url, headers: { ...headers, range: `bytes=${whole.length}-` } });
      expect([past.statusCode, past.headers['content-range']]).toEqual([416, `bytes */${whole.length}`]);
      const backwards = await api.app.inject({ method: 'GET', url, headers: { ...headers, range: 'bytes=5-3' } });
      expect([backwards.statusCode, backwards.rawPayload]).toEqual([200, whole]);
    } finally {
      await api.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('answers 503 with a sentence where the PBX has no data folder', async () => {
    const api = await openTestApi();
    try {
      const token = await api.tokenFor('101', 'alice-101');
      const response = await api.app.inject({ method: 'GET', url: '/api/v1/greetings', headers: { authorization: `Bearer ${token}` } });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ error: { code: 'unavailable', message: 'Greetings are not available on this PBX: it has no data folder.' } });
      // JSON stays JSON for the other routes, the upload's raw-body parser notwithstanding.
      const frame = await api.app.inject({ method: 'POST', url: '/api/v1/time-frames', payload: 'not json', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
      expect(frame.statusCode).toBe(400);
      const wav = await api.app.inject({ method: 'POST', url: '/api/v1/time-frames', payload: Buffer.from('RIFF'), headers: { authorization: `Bearer ${token}`, 'content-type': 'audio/wav' } });
      expect(wav.statusCode).toBe(415);
    } finally {
      await api.close();
    }
  });
});
