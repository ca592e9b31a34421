/**
 * The mailbox menu a user reaches by dialling *97: PIN, then each message with what to do about it, by key
 * presses (RFC 4733 events or SIP INFO, as the leg's `dtmf` event), in recorded prompts (prompts.ts).
 *
 *   opening ──no PIN set──────────────────────────────────────────────► goodbye ──► ended
 *      │ PIN set                                                          ▲
 *      ▼            # or a pause                 right                    │ 3rd wrong PIN, # key,
 *     pin ──────────────────────► checking ───────────► counts            │ no (more) messages,
 *      ▲                             │ wrong                │             │ no choice made thrice
 *      └─────────────────────────────┘                      ▼             │
 *                          loading ◄──── 6, or after 7 / 9 ─────── message/options
 *                             └──── its sound ────► message ──played──► options
 *   Hanging up anywhere: ended. A key pressed over a prompt stops it (barge-in).
 *
 * Keys, as the recorded prompts say them: 5 repeats the message, 6 goes to the next, 7 deletes it, 9 saves it,
 * * says the options again, # says goodbye. Messages play new first, then saved, each box oldest first.
 * A new message heard to its end is saved (heard), as playing it in the app does; one cut short by a key stays new.
 *
 * PIN guesses: three wrong tries end the call, and every check goes through the PBX's attempt limiter keyed by
 * mailbox (auth/attempt-limiter.ts), so after a few failures each further guess at that mailbox waits longer,
 * from whichever call it comes; a guess the limiter refuses is answered "incorrect" without being checked.
 * A change made by key press is one store call: hanging up while it runs leaves it done, never half done.
 */
import { AttemptLimiter } from '../../../auth/attempt-limiter';
import { verifyPassword } from '../../../auth/password';
import type { PasswordVerifier } from '../../../auth/password';
import type { ServiceCall, ServiceUser } from '../../../calls/ports';
import { createLogger } from '../../../log';
import { systemClock } from '../../../media/joins/mix-clock';
import type { Clock } from '../../../media/joins/mix-clock';
import type { MediaPlayer, Sound } from '../../../media/player';
import { playSequence, prompts as shippedPrompts } from '../prompts';
import type { PromptName, Prompts, SequencePlayback } from '../prompts';
import type { MenuMailbox, MenuMessage, MenuOwner } from './mailbox-port';

const log = createLogger('voicemail');

export type MenuState = 'opening' | 'pin' | 'checking' | 'counts' | 'loading' | 'message' | 'options' | 'acting' | 'goodbye' | 'ended';

const MOVES: Record<MenuState, readonly MenuState[]> = {
  opening: ['pin', 'goodbye'],
  pin: ['checking'],
  checking: ['pin', 'counts', 'goodbye'],
  counts: ['loading', 'goodbye'],
  loading: ['loading', 'message', 'goodbye'],
  message: ['message', 'options', 'loading', 'acting', 'goodbye'],
  options: ['message', 'options', 'loading', 'acting', 'goodbye'],
  acting: ['loading', 'goodbye'],
  goodbye: [],
  ended: [],
};

export interface MenuTiming {
  /** How long after the PIN prompt the first digit may take before the entry counts as a (wrong) try. */
  firstDigitMs: number;
  /** A pause this long after a digit ends the PIN, as # does. */
  digitPauseMs: number;
  /** How long after the options the menu waits for a key before saying them again. */
  choiceMs: number;
  /** Wrong PINs before goodbye. */
  pinTries: number;
  /** Times the options are said with no key pressed before goodbye. */
  unansweredOptions: number;
}

export const DEFAULT_MENU_TIMING: MenuTiming = {
  firstDigitMs: 10_000,
  digitPauseMs: 5_000,
  choiceMs: 10_000,
  pinTries: 3,
  unansweredOptions: 3,
};

/** The longest PIN is 10 digits (shared/voicemail.ts); more than this is not kept. */
const MAX_ENTRY = 20;

export interface MailboxMenuDeps {
  player: MediaPlayer;
  mailbox: MenuMailbox;
  prompts?: Prompts;
  clock?: Clock;
  /** The PBX's limiter (the one SIP and sign-in use); the menu's own when left out. */
  attempts?: AttemptLimiter;
  verify?: PasswordVerifier;
  timing?: Partial<MenuTiming>;
  /** Told of each change to the mailbox as it starts (the service waits for them at shutdown). */
  track?: (change: Promise<unknown>) => void;
}

/** The limiter's account for a mailbox's PIN: apart from the user's SIP and sign-in password. */
export function mailboxPinAccount(owner: Pick<MenuOwner, 'organizationId' | 'userId'>): string {
  return `voicemail-pin ${owner.organizationId} ${owner.userId}`;
}

/** Messages in the order heard: new before saved, each box oldest first. */
export function listeningOrder(messages: readonly MenuMessage[]): MenuMessage[] {
  const box = (message: MenuMessage): number => (message.status === 'new' ? 0 : 1);
  return [...messages].sort((a, b) => box(a) - box(b) || a.receivedAt.localeCompare(b.receivedAt) || a.id - b.id);
}

/** `work`'s promise; a throw before it returns one becomes a rejection, handled where the promise is. */
function later<T>(work: () => Promise<T>): Promise<T> {
  return new Promise<T>((resolve) => resolve(work()));
}

export class MailboxMenu {
  private current: MenuState = 'opening';
  private readonly owner: MenuOwner;
  private readonly timing: MenuTiming;
  private readonly prompts: Prompts;
  private readonly clock: Clock;
  private readonly offs: Array<() => void> = [];
  private phrase: SequencePlayback | undefined;
  private timer: unknown;
  private pinHash = '';
  private entry = '';
  private wrongPins = 0;
  private unanswered = 0;
  private messages: MenuMessage[] = [];
  private index = 0;
  private sound: Sound | undefined;

  constructor(
    private readonly call: ServiceCall,
    user: ServiceUser,
    private readonly deps: Required<Pick<MailboxMenuDeps, 'player' | 'mailbox' | 'attempts' | 'verify'>> & MailboxMenuDeps,
  ) {
    this.owner = { organizationId: user.organizationId, userId: user.userId, extension: user.extension };
    this.timing = { ...DEFAULT_MENU_TIMING, ...deps.timing };
    this.prompts = deps.prompts ?? shippedPrompts();
    this.clock = deps.clock ?? systemClock;
  }

  get state(): MenuState {
    return this.current;
  }

  /** The messages as heard this call (after the PIN), and which one is current. */
  get position(): { index: number; messages: readonly MenuMessage[] } {
    return { index: this.index, messages: this.messages };
  }

  start(): void {
    log.debug('mailbox menu', { call: this.call.id, userId: this.owner.userId });
    if (this.call.ended) {
      this.end();
      return;
    }
    this.offs.push(this.call.onEnded(() => this.end()));
    this.offs.push(this.call.leg.on('dtmf', (event) => this.safely(() => this.key(event.digit))));
    later(() => this.deps.mailbox.pinHash(this.owner)).then(
      (hash) =>
        this.safely(() => {
          if (this.current !== 'opening') return;
          if (hash === undefined) {
            // No PIN, no way in: the owner sets one in the app first.
            this.goodbye(['feature-not-avail-line']);
            return;
          }
          this.pinHash = hash;
          this.askPin('agent-pass');
        }),
      (error: unknown) => this.failed('reading the mailbox PIN', error),
    );
  }

  private key(digit: string): void {
    switch (this.current) {
      case 'pin':
        this.pinKey(digit);
        return;
      case 'counts':
        this.stopPhrase();
        if (digit === '#') this.goodbye();
        else this.playMessage(0);
        return;
      case 'message':
      case 'options':
        this.choose(digit);
        return;
      default:
        // Opening, checking, loading, acting, goodbye: nothing to choose now; the key is not kept.
        return;
    }
  }

  private askPin(prompt: PromptName): void {
    this.move('pin');
    this.entry = '';
    this.say([this.prompts.get(prompt)], () => this.wait(this.timing.firstDigitMs, () => this.submitPin()));
  }

  private pinKey(digit: string): void {
    this.stopPhrase();
    if (digit === '#') {
      this.submitPin();
      return;
    }
    if (digit === '*') this.entry = '';
    else if (/^\d$/.test(digit) && this.entry.length < MAX_ENTRY) this.entry += digit;
    this.wait(this.timing.digitPauseMs, () => this.submitPin());
  }

  private submitPin(): void {
    this.clearTimer();
    this.move('checking');
    const pin = this.entry;
    this.entry = '';
    if (pin === '') {
      this.wrongPin();
      return;
    }
    const attempts = this.deps.attempts;
    // Each call is its own source, so what limits guessing is the mailbox's own count, across calls.
    const admission = attempts.admit({ source: `mailbox-menu ${this.call.id}`, account: mailboxPinAccount(this.owner) });
    if (!admission.admitted) {
      log.info('mailbox PIN not checked: too many wrong PINs lately', { userId: this.owner.userId, retryAfterMs: admission.retryAfterMs });
      this.wrongPin();
      return;
    }
    const { ticket } = admission;
    later(() => this.deps.verify(pin, this.pinHash)).then(
      (right) => {
        // Settled even when the caller has hung up meanwhile: the guess was made, and a ticket left open
        // holds one of the mailbox's places for checks in progress until the PBX restarts.
        if (right) attempts.succeeded(ticket);
        else attempts.failed(ticket);
        this.safely(() => {
          if (this.current !== 'checking') return;
          if (right) this.open();
          else this.wrongPin();
        });
      },
      (error: unknown) => {
        attempts.abandoned(ticket);
        this.failed('checking the mailbox PIN', error);
      },
    );
  }

  private wrongPin(): void {
    this.wrongPins++;
    log.info('wrong mailbox PIN', { call: this.call.id, userId: this.owner.userId, tries: this.wrongPins });
    if (this.wrongPins >= this.timing.pinTries) this.goodbye(['confbridge-pin-bad']);
    else this.askPin('auth-incorrect');
  }

  private open(): void {
    later(() => this.deps.mailbox.messages(this.owner)).then(
      (messages) =>
        this.safely(() => {
          if (this.current !== 'checking') return;
          this.messages = listeningOrder(messages);
          const counts = { new: 0, saved: 0 };
          for (const message of this.messages) counts[message.status]++;
          this.move('counts');
          this.say(this.prompts.messageCounts(counts), () => {
            if (this.messages.length === 0) this.goodbye();
            else this.playMessage(0);
          });
        }),
      (error: unknown) => this.failed('listing the mailbox', error),
    );
  }

  private playMessage(index: number): void {
    this.clearTimer();
    this.stopPhrase();
    const message = this.messages[index];
    if (!message) {
      this.goodbye(['vm-nomore']);
      return;
    }
    this.move('loading');
    this.index = index;
    this.sound = undefined;
    later(() => this.deps.mailbox.sound(this.owner, message)).then(
      (sound) =>
        this.safely(() => {
          if (this.current !== 'loading' || this.index !== index) return;
          this.sound = sound;
          this.hearMessage();
        }),
      (error: unknown) =>
        this.safely(() => {
          // Deleted meanwhile from the app, or unreadable: the caller goes on to the next one.
          log.warn('a voicemail cannot be played in the mailbox menu; skipped', { id: message.id, error: error instanceof Error ? error.message : String(error) });
          if (this.current === 'loading' && this.index === index) this.playMessage(index + 1);
        }),
    );
  }

  private hearMessage(): void {
    this.clearTimer();
    this.stopPhrase();
    this.move('message');
    this.say([...this.prompts.messageNumber(this.index + 1), this.sound!], () => {
      this.markHeard(this.index);
      this.offerOptions();
    });
  }

  /**
   * A new message played to its end is saved, without a word said about it (the caller hears the options at
   * once); the owner's lamps and apps follow as for key 9. A failure is logged, not the caller's concern: the
   * message stays new.
   */
  private markHeard(index: number): void {
    const message = this.messages[index]!;
    if (message.status !== 'new') return;
    // Heard again (key 5) before the store answers, it is not saved twice.
    this.messages[index] = { ...message, status: 'saved' };
    const marking = later(() => this.deps.mailbox.markSaved(this.owner, message.id));
    this.deps.track?.(marking);
    marking.then(
      (changed) => log.info('voicemail heard to its end by phone: saved', { id: message.id, changed }),
      (error: unknown) => log.warn('a voicemail heard by phone could not be saved', { id: message.id, error: error instanceof Error ? error.message : String(error) }),
    );
  }

  private offerOptions(lead: Sound[] = []): void {
    this.clearTimer();
    this.stopPhrase();
    this.move('options');
    const help = (['vm-repeat', 'vm-next', 'vm-delete', 'vm-savemessage', 'vm-helpexit'] as const).map((name) => this.prompts.get(name));
    this.say([...lead, ...help], () =>
      this.wait(this.timing.choiceMs, () => {
        this.unanswered++;
        if (this.unanswered >= this.timing.unansweredOptions) this.goodbye();
        else this.offerOptions();
      }),
    );
  }

  private choose(digit: string): void {
    this.clearTimer();
    this.stopPhrase();
    this.unanswered = 0;
    switch (digit) {
      case '5':
        this.hearMessage();
        return;
      case '6':
        this.playMessage(this.index + 1);
        return;
      case '7':
        this.act('delete');
        return;
      case '9':
        this.act('save');
        return;
      case '*':
        this.offerOptions();
        return;
      case '#':
        this.goodbye();
        return;
      default:
        this.offerOptions([this.prompts.get('vm-sorry')]);
    }
  }

  private act(change: 'save' | 'delete'): void {
    this.move('acting');
    const message = this.messages[this.index]!;
    const { mailbox } = this.deps;
    const changing = later(() => (change === 'delete' ? mailbox.remove(this.owner, message.id) : mailbox.markSaved(this.owner, message.id)));
    this.deps.track?.(changing);
    changing.then(
      (changed) =>
        this.safely(() => {
          log.info(change === 'delete' ? 'voicemail deleted by phone' : 'voicemail saved by phone', { id: message.id, changed });
          if (this.current !== 'acting') return;
          const next = (): void => this.playMessage(this.index + 1);
          if (changed) this.say([this.prompts.get(change === 'delete' ? 'vm-deleted' : 'vm-msgsaved')], next);
          else next();
        }),
      (error: unknown) => this.failed(change === 'delete' ? 'deleting a voicemail' : 'saving a voicemail', error),
    );
  }

  /** Says `lead` (if any) then goodbye, then hangs up. */
  private goodbye(lead: PromptName[] = []): void {
    this.clearTimer();
    this.stopPhrase();
    this.move('goodbye');
    this.say([...lead, 'vm-goodbye'].map((name) => this.prompts.get(name as PromptName)), () => this.hangUp('mailbox menu ended'));
  }

  private hangUp(why: string): void {
    this.call.hangUp(why);
    this.end();
  }

  /** The caller hung up, or the menu did: nothing more plays or waits. */
  private end(): void {
    if (this.current === 'ended') return;
    this.current = 'ended';
    this.clearTimer();
    this.stopPhrase();
    for (const off of this.offs.splice(0)) off();
  }

  /** A store or file failure: the caller is told goodbye rather than left in silence. */
  private failed(what: string, error: unknown): void {
    log.warn(`mailbox menu failed ${what}`, { call: this.call.id, userId: this.owner.userId, error: error instanceof Error ? error.message : String(error) });
    this.safely(() => {
      if (this.current !== 'ended' && this.current !== 'goodbye') this.goodbye();
    });
  }

  private say(sounds: readonly Sound[], then: () => void): void {
    this.stopPhrase();
    const played = playSequence(this.deps.player, this.call.leg, sounds, (why) => {
      // A phrase may end inside playSequence (a closed leg); `then` may already have said the next one.
      if (why === 'finished') this.safely(then);
      else if (why !== 'stopped') this.end();
    });
    if (!played.ended) this.phrase = played;
  }

  private stopPhrase(): void {
    const phrase = this.phrase;
    this.phrase = undefined;
    phrase?.stop();
  }

  private wait(ms: number, then: () => void): void {
    this.clearTimer();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.safely(then);
    }, ms);
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private move(to: MenuState): void {
    if (!MOVES[this.current].includes(to)) throw new Error(`mailbox menu: no move from ${this.current} to ${to}`);
    this.current = to;
  }

  /** Runs a step; a step that throws ends the call (logged) instead of the process. */
  private safely(step: () => void): void {
    if (this.current === 'ended') return;
    try {
      step();
    } catch (error) {
      log.error('mailbox menu step failed; the call ends', { call: this.call.id, error });
      this.call.hangUp('mailbox menu failed');
      this.end();
    }
  }
}

/** The *97 service: one menu per call, sharing the player, the mailbox, the prompts and the PIN limiter. */
export class MailboxMenuService {
  private readonly deps: Required<Pick<MailboxMenuDeps, 'player' | 'mailbox' | 'attempts' | 'verify'>> & MailboxMenuDeps;
  /** Saves and deletes under way, whose calls may have ended already. */
  private readonly changing = new Set<Promise<unknown>>();

  constructor(deps: MailboxMenuDeps) {
    const track = (change: Promise<unknown>): void => {
      this.changing.add(change);
      const done = (): void => void this.changing.delete(change);
      change.then(done, done);
    };
    this.deps = { ...deps, attempts: deps.attempts ?? new AttemptLimiter(), verify: deps.verify ?? verifyPassword, track };
  }

  /** Resolves once every save and delete started by a key press is stored (or failed): before the store closes. */
  async settled(): Promise<void> {
    while (this.changing.size > 0) await Promise.allSettled([...this.changing]);
  }

  start(call: ServiceCall, user: ServiceUser): MailboxMenu {
    const menu = new MailboxMenu(call, user, this.deps);
    menu.start();
    return menu;
  }
}
