/**
 * Taking a message (`CallServices.voicemail`): the caller, already answered by the PBX, hears the owner's
 * greeting (or the default one made of recorded prompts), then a tone, and is recorded until they hang up,
 * press #, or the maximum length passes; then the PBX hangs up.
 *
 * Deposit states:   greeting ──► recording ──► storing ──► done
 *                      │  caller hangs up  │ (#, max length, hang-up)
 *                      └──────► done (nothing kept)
 * A mailbox at its limit plays "mailbox full" and hangs up instead. Messages for one mailbox are stored one at a
 * time and the limit counted again before each: one that would go over it (other callers filled the mailbox while
 * this one spoke) is dropped and logged, its caller gone by then.
 *
 * What is kept, and in which order, so that nothing acknowledged is lost: the Ogg Opus file is written under a
 * temporary name, synced and renamed into place (storage.ts); then the row is inserted and synced (a power cut
 * must not undo it); then transcription is started (its first state written) and only then are the apps and desk
 * phones told. A crash before the row leaves a file no row names, which the sweep at start moves aside. A message
 * too short or with no sound in it (audio-level.ts) is not kept.
 */
import type { Kysely } from 'kysely';
import type { ServiceCall, ServiceUser, VoicemailReason } from '../../calls/ports';
import type { Clock } from '../../media/joins/mix-clock';
import type { MediaPlayer, Sound } from '../../media/player';
import { greetingSource } from '../greetings';
import { createLogger } from '../../log';
import { syncCommitted } from '../../store/db';
import type { Database } from '../../store/schema';
import { countVoicemails, insertVoicemail } from '../../store/voicemails';
import { DEFAULT_KEEP_RULES, dropReason, VoiceMeter } from './audio-level';
import type { KeepRules } from './audio-level';
import type { Mailboxes } from './mailboxes';
import { oggOpusEncoder } from './encoding';
import type { GreetingSource, MessageEncoder, MessageEncoding, StoredMessage, TranscriptionHook, VoicemailPrompts } from './ports';
import { playSequence, prompts } from './prompts';
import { MessageRecorder } from './recorder';
import { writeMessageFile } from './storage';
import { recordTone } from './tone';

const log = createLogger('voicemail');

export interface VoicemailLimits {
  /** Longest message, in ms (3 minutes). */
  maxMessageMs: number;
  /** Messages a mailbox holds, new and saved together, before callers hear "mailbox full". */
  maxMessages: number;
  keep: KeepRules;
}

export const DEFAULT_VOICEMAIL_LIMITS: VoicemailLimits = { maxMessageMs: 180_000, maxMessages: 100, keep: DEFAULT_KEEP_RULES };

/** A recording that ended: how long, how much of it was sound, and its file's bytes (coded when asked). */
interface Recording {
  durationMs: number;
  voicedMs: number;
  wideband: boolean;
  finish(): Buffer;
}

export interface DepositOptions {
  db: Kysely<Database>;
  mailboxes: Mailboxes;
  player: MediaPlayer;
  /** Ogg Opus (encoding.ts) when left out. */
  encode?: MessageEncoder;
  /** The shipped recorded prompts (prompts.ts) when left out. */
  prompts?: VoicemailPrompts;
  /** The owner's active greeting (features/greetings) when left out. */
  greetings?: GreetingSource;
  transcription?: TranscriptionHook;
  limits?: Partial<VoicemailLimits>;
  clock?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  now?: () => Date;
}

/** Why a deposit ended, for logs and tests. */
export type DepositOutcome =
  | { kind: 'stored'; voicemailId: number; durationMs: number }
  | { kind: 'dropped'; why: 'too-short' | 'silent' }
  | { kind: 'hung-up-before-tone' }
  | { kind: 'mailbox-full' }
  | { kind: 'failed'; error: unknown };

export class VoicemailDeposits {
  private readonly limits: VoicemailLimits;
  private readonly now: () => Date;
  private readonly encode: MessageEncoder;
  private readonly greetings: GreetingSource;
  private readonly running = new Set<Promise<DepositOutcome>>();
  /** Per mailbox (user id), the last message being stored: the next waits for it, so each counts the one before. */
  private readonly storing = new Map<number, Promise<unknown>>();

  constructor(private readonly options: DepositOptions) {
    this.limits = { ...DEFAULT_VOICEMAIL_LIMITS, ...options.limits };
    this.now = options.now ?? (() => new Date());
    this.encode = options.encode ?? oggOpusEncoder;
    this.greetings = options.greetings ?? greetingSource(options.db, options.mailboxes.dataDir);
  }

  private get prompts(): VoicemailPrompts {
    return this.options.prompts ?? prompts();
  }

  /** Deposits under way. */
  get active(): number {
    return this.running.size;
  }

  /** Takes a message from `call` for `mailbox`; the outcome once the call is over and the message stored or not. */
  take(call: ServiceCall, mailbox: ServiceUser, reason: VoicemailReason): Promise<DepositOutcome> {
    const work = this.deposit(call, mailbox, reason).catch((error: unknown): DepositOutcome => {
      log.error('voicemail deposit failed', { call: call.id, userId: mailbox.userId, error });
      call.hangUp('voicemail failed');
      return { kind: 'failed', error };
    });
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
    return work;
  }

  /** Waits for the deposits under way (shutdown: their calls are being hung up, their messages stored). */
  async settled(): Promise<void> {
    await Promise.all([...this.running]);
  }

  private async deposit(call: ServiceCall, mailbox: ServiceUser, reason: VoicemailReason): Promise<DepositOutcome> {
    const receivedAt = this.now();
    log.debug('taking a message', { call: call.id, userId: mailbox.userId, reason });
    const counts = await countVoicemails(this.options.db, mailbox.userId);
    if (counts.new + counts.saved >= this.limits.maxMessages) {
      await this.play(call, [this.prompts.mailboxFull]);
      call.hangUp('mailbox full');
      return { kind: 'mailbox-full' };
    }
    const own = await this.ownGreeting(mailbox);
    const greeting = own ? [own] : this.prompts.defaultGreeting(mailbox.extension, reason === 'busy');
    const heard = await this.play(call, [...greeting, recordTone()]);
    if (!heard) return { kind: 'hung-up-before-tone' };

    const recording = await this.record(call);
    const dropped = dropReason(recording.durationMs, recording.voicedMs, this.limits.keep);
    if (dropped) {
      log.debug('message not kept', { call: call.id, why: dropped, durationMs: recording.durationMs });
      return { kind: 'dropped', why: dropped };
    }
    const voicemailId = await this.inTurn(mailbox.userId, () => this.store(call, mailbox, reason, recording, receivedAt));
    if (voicemailId === undefined) return { kind: 'mailbox-full' };
    return { kind: 'stored', voicemailId, durationMs: recording.durationMs };
  }

  /** Runs `work` once the mailbox's earlier stores are done, whether they worked or not. */
  private inTurn<T>(userId: number, work: () => Promise<T>): Promise<T> {
    const turn = (this.storing.get(userId) ?? Promise.resolve()).then(work, work);
    const settled = turn.catch(() => undefined);
    this.storing.set(userId, settled);
    void settled.then(() => {
      if (this.storing.get(userId) === settled) this.storing.delete(userId);
    });
    return turn;
  }

  /** The owner's greeting; a greeting that cannot be read leaves the default to play, never the caller unanswered. */
  private async ownGreeting(mailbox: ServiceUser): Promise<Sound | undefined> {
    try {
      return await this.greetings.activeGreeting(mailbox);
    } catch (error) {
      log.warn('the active greeting cannot be played; the default plays', { userId: mailbox.userId, error });
      return undefined;
    }
  }

  /** Plays `sounds` one after the other; true when they all played, false when the call ended first. */
  private play(call: ServiceCall, sounds: readonly Sound[]): Promise<boolean> {
    return new Promise((resolve) => {
      if (call.ended) {
        resolve(false);
        return;
      }
      const offEnded = call.onEnded(() => phrase.stop());
      const phrase = playSequence(this.options.player, call.leg, sounds, (why) => {
        offEnded();
        resolve(why === 'finished' && !call.ended);
      });
    });
  }

  /**
   * Records until #, the maximum length, or the caller hangs up; hangs up itself in the first two cases. The audio
   * is coded as it comes and measured for sound on the way.
   */
  private record(call: ServiceCall): Promise<Recording> {
    return new Promise((resolve) => {
      let encoding: MessageEncoding | undefined;
      let meter: VoiceMeter | undefined;
      const recorder = new MessageRecorder(call.leg, {
        maxMs: this.limits.maxMessageMs,
        clock: this.options.clock,
        open: (rate) => {
          const started = this.encode(rate);
          const level = new VoiceMeter(rate);
          encoding = started;
          meter = level;
          return {
            write: (samples) => {
              level.add(samples);
              started.write(samples);
            },
          };
        },
      });
      const offEnded = call.onEnded(() => recorder.stop());
      recorder.onEnded((why) => {
        offEnded();
        if (why !== 'stopped') call.hangUp(why === 'hash' ? 'message left (#)' : 'message at its maximum length');
        resolve({ durationMs: recorder.durationMs, voicedMs: meter?.voicedMs ?? 0, wideband: recorder.wideband, finish: () => encoding!.finish() });
      });
      if (call.ended) recorder.stop();
    });
  }

  /** Stores the message; undefined, with nothing written, when the mailbox filled up while the caller spoke. */
  private async store(call: ServiceCall, mailbox: ServiceUser, reason: VoicemailReason, recording: Recording, receivedAt: Date): Promise<number | undefined> {
    const { db, mailboxes } = this.options;
    // Counted again: the count at the call's start does not see the messages other callers left meanwhile.
    const counts = await countVoicemails(db, mailbox.userId);
    if (counts.new + counts.saved >= this.limits.maxMessages) {
      log.warn('message dropped: the mailbox filled up while it was being left', { call: call.id, userId: mailbox.userId, durationMs: recording.durationMs });
      return undefined;
    }
    const bytes = recording.finish();
    const file = await writeMessageFile(mailboxes.dataDir, mailbox.userId, receivedAt, bytes);
    const voicemailId = await insertVoicemail(db, {
      organizationId: mailbox.organizationId,
      userId: mailbox.userId,
      callerName: call.caller.displayName,
      callerNumber: call.caller.number ?? null,
      callerExtension: call.caller.extension ?? null,
      receivedAt: receivedAt.toISOString(),
      durationMs: recording.durationMs,
      file: file.relative,
      sizeBytes: bytes.length,
      wideband: recording.wideband,
      reason,
    });
    // On disk before anyone is told: a row a power cut undid would leave an announced message missing.
    await syncCommitted(db);
    log.info('message stored', { call: call.id, userId: mailbox.userId, voicemailId, durationMs: recording.durationMs });
    // The transcript's first state is written before anyone is told, so the first read of the list shows it.
    await this.startTranscription({ voicemailId, organizationId: mailbox.organizationId, userId: mailbox.userId, file: file.relative, wideband: recording.wideband });
    await mailboxes.announce(mailbox, 'added', voicemailId);
    return voicemailId;
  }

  private async startTranscription(message: StoredMessage): Promise<void> {
    const hook = this.options.transcription;
    if (!hook) return;
    try {
      await hook.transcribe(message);
    } catch (error) {
      log.warn('transcription could not be started', { voicemailId: message.voicemailId, error });
    }
  }
}
