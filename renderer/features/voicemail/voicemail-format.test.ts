import { describe, expect, it } from 'vitest';
import { clock, downloadName, lengthText, positionText, seekTarget, transcriptLine } from './voicemail-format';

describe('transcriptLine', () => {
  it('shows the text when the transcription is done', () => {
    expect(transcriptLine({ status: 'done', text: '  Hello, call me back. ', engine: 'pocketsphinx' })).toEqual({ text: 'Hello, call me back.', look: 'text' });
  });

  it('says a done transcription without words heard nothing, rather than showing an empty line', () => {
    expect(transcriptLine({ status: 'done', text: ' ' })).toEqual({ text: 'No words were heard in this message.', look: 'note' });
  });

  it('says what stands in for the text while pending, for narrowband audio and on failure', () => {
    expect(transcriptLine({ status: 'pending' })?.text).toBe('Transcribing…');
    expect(transcriptLine({ status: 'narrowband' })?.text).toMatch(/narrowband \(a desk phone\), so it cannot be transcribed/);
    expect(transcriptLine({ status: 'failed', error: 'engine crashed' })).toEqual({ text: 'The transcription failed. Play the message to listen to it.', look: 'problem' });
  });

  it('shows nothing when transcription is off', () => {
    expect(transcriptLine({ status: 'off' })).toBeUndefined();
  });
});

describe('times', () => {
  it('reads as a clock', () => {
    expect(clock(4_200)).toBe('0:04');
    expect(clock(754_000)).toBe('12:34');
    expect(clock(3_723_000)).toBe('1:02:03');
    expect(clock(Number.NaN)).toBe('0:00');
    expect(clock(-5)).toBe('0:00');
  });

  it('gives the slider its spoken value', () => {
    expect(positionText(4_000, 12_000)).toBe('0:04 of 0:12');
  });

  it('gives a message’s length in words', () => {
    expect(lengthText(12_400)).toBe('12 seconds');
    expect(lengthText(1_000)).toBe('1 second');
    expect(lengthText(60_000)).toBe('1 minute');
    expect(lengthText(125_000)).toBe('2 minutes 5 seconds');
    expect(lengthText(0)).toBe('0 seconds');
  });
});

describe('seekTarget', () => {
  it('moves five seconds with the arrows, a tenth with Page keys, to the ends with Home and End', () => {
    expect(seekTarget('ArrowRight', 4_000, 60_000)).toBe(9_000);
    expect(seekTarget('ArrowLeft', 4_000, 60_000)).toBe(0);
    expect(seekTarget('ArrowUp', 58_000, 60_000)).toBe(60_000);
    expect(seekTarget('PageUp', 0, 120_000)).toBe(12_000);
    expect(seekTarget('Home', 30_000, 60_000)).toBe(0);
    expect(seekTarget('End', 30_000, 60_000)).toBe(60_000);
  });

  it('leaves other keys to the page', () => {
    expect(seekTarget('Tab', 0, 60_000)).toBeUndefined();
    expect(seekTarget(' ', 0, 60_000)).toBeUndefined();
  });
});

describe('downloadName', () => {
  it('names the file after the caller’s number and when the message came', () => {
    expect(downloadName({ callerName: 'Bob Brown', callerNumber: '+1 (555) 010-0200', receivedAt: '2026-12-07T21:05:09.000Z' })).toBe(
      'voicemail-+1-555-010-0200-2026-12-07-210509.ogg',
    );
  });

  it('uses the name when the number was withheld, kept to safe characters', () => {
    expect(downloadName({ callerName: 'Zoë / "Ops"', callerNumber: null, receivedAt: '2026-12-07T21:05:09.000Z' })).toBe('voicemail-Zoe-Ops-2026-12-07-210509.ogg');
    expect(downloadName({ callerName: '…', callerNumber: null, receivedAt: 'not a date' })).toBe('voicemail-unknown-unknown-date.ogg');
  });
});
