import { describe, expect, it } from 'vitest';
import { requestedRange, servedRange } from './byte-range';
import { HttpError } from './errors';

describe('requestedRange', () => {
  it('reads the one byte range a player asks for, bounded by the file', () => {
    expect(requestedRange(undefined, 100)).toBeUndefined();
    expect(requestedRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(requestedRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(requestedRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 });
    expect(requestedRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(requestedRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
  });

  it('answers the whole file for what it does not serve, and unsatisfiable past the end', () => {
    expect(requestedRange('bytes=0-1,5-6', 100)).toBeUndefined();
    expect(requestedRange('items=0-1', 100)).toBeUndefined();
    expect(requestedRange('bytes=9-3', 100)).toBeUndefined();
    expect(requestedRange('bytes=-', 100)).toBeUndefined();
    expect(requestedRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(requestedRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(requestedRange('bytes=0-', 0)).toBe('unsatisfiable');
  });
});

describe('servedRange', () => {
  it('serves what requestedRange reads, and refuses a range past the end with a sentence and the size', () => {
    expect(servedRange('bytes=0-9', 100, 'greeting')).toEqual({ start: 0, end: 9 });
    expect(servedRange(undefined, 100, 'greeting')).toBeUndefined();
    let refusal: unknown;
    try {
      servedRange('bytes=100-', 100, 'greeting');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(HttpError);
    const { statusCode, headers } = refusal as HttpError;
    expect({ statusCode, headers, body: (refusal as HttpError).toBody() }).toEqual({
      statusCode: 416,
      headers: { 'Content-Range': 'bytes */100' },
      body: { error: { code: 'range_not_satisfiable', message: 'The greeting is 100 bytes long; ask for a range within it.' } },
    });
  });
});
