import { describe, expect, it } from 'vitest';
import { openTestApi } from '../test-support';
import { byteRange } from './greetings';

describe('greeting routes', () => {
  it('reads one byte range, and refuses one past the end', () => {
    expect(byteRange(undefined, 100)).toBeUndefined();
    expect(byteRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(byteRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(byteRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(byteRange('bytes=50-500', 100)).toEqual({ start: 50, end: 99 });
    expect(byteRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(byteRange('bytes=9-3', 100)).toBe('unsatisfiable');
    // Several ranges, or none, and the file is sent whole.
    expect(byteRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(byteRange('bytes=-', 100)).toBeUndefined();
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
