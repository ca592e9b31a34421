/**
 * How a voicemail reads in the pane: its transcription or what stands in for one, times as a clock ("0:04 of
 * 0:12"), and the file name a download gets. Pure, so the words are tested without a browser.
 */
import type { Transcript, Voicemail } from '../../../shared/voicemail';

export type TranscriptLook = 'text' | 'note' | 'problem';

/** What goes under a message: the text itself, or a sentence about why there is none (`look` styles it). */
export function transcriptLine(transcript: Transcript): { text: string; look: TranscriptLook } | undefined {
  switch (transcript.status) {
    case 'done': {
      const text = transcript.text?.trim();
      return text ? { text, look: 'text' } : { text: 'No words were heard in this message.', look: 'note' };
    }
    case 'pending':
      return { text: 'Transcribing…', look: 'note' };
    case 'narrowband':
      return {
        text: 'This call’s audio was narrowband (a desk phone), so it cannot be transcribed well. Play it to listen.',
        look: 'note',
      };
    case 'failed':
      return { text: 'The transcription failed. Play the message to listen to it.', look: 'problem' };
    case 'off':
      return undefined;
  }
}

/** A time as a clock: `0:04`, `12:30`, `1:02:03`. */
export function clock(milliseconds: number): string {
  const total = Number.isFinite(milliseconds) ? Math.max(0, Math.floor(milliseconds / 1000)) : 0;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** The slider's spoken value: where playback stands and how long the message is. */
export function positionText(positionMs: number, durationMs: number): string {
  return `${clock(positionMs)} of ${clock(durationMs)}`;
}

/** A message's length in words for the list: "12 seconds", "1 minute 5 seconds". */
export function lengthText(durationMs: number): string {
  const total = Math.max(0, Math.round(durationMs / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  const parts: string[] = [];
  if (minutes > 0) parts.push(`${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`);
  if (seconds > 0 || minutes === 0) parts.push(`${seconds} ${seconds === 1 ? 'second' : 'seconds'}`);
  return parts.join(' ');
}

/**
 * `voicemail-<caller>-<date>.ogg`, the caller being the number (or the name when the number was withheld) kept to
 * characters every file system accepts, and the date the day and time it was received (UTC, sortable).
 */
export function downloadName(voicemail: Pick<Voicemail, 'callerName' | 'callerNumber' | 'receivedAt'>): string {
  const caller = (voicemail.callerNumber ?? voicemail.callerName)
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9+]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  const received = new Date(voicemail.receivedAt);
  const date = Number.isNaN(received.getTime())
    ? 'unknown-date'
    : received.toISOString().slice(0, 19).replace('T', '-').replaceAll(':', '');
  return `voicemail-${caller || 'unknown'}-${date}.ogg`;
}

/** Where a key on the position slider moves playback to, or undefined for a key the slider leaves alone. */
export function seekTarget(key: string, positionMs: number, durationMs: number): number | undefined {
  const step = 5_000;
  const page = Math.max(step, Math.round(durationMs / 10));
  const target =
    key === 'ArrowRight' || key === 'ArrowUp'
      ? positionMs + step
      : key === 'ArrowLeft' || key === 'ArrowDown'
        ? positionMs - step
        : key === 'PageUp'
          ? positionMs + page
          : key === 'PageDown'
            ? positionMs - page
            : key === 'Home'
              ? 0
              : key === 'End'
                ? durationMs
                : undefined;
  return target === undefined ? undefined : Math.min(Math.max(0, target), Math.max(0, durationMs));
}
