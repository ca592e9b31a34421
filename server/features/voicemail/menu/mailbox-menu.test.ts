import { describe, expect, it } from 'vitest';
import { AttemptLimiter } from '../../../auth/attempt-limiter';
import { hashPassword } from '../../../auth/password';
import type { ServiceUser } from '../../../calls/ports';
import { FakeServiceCall, KeyLeg } from '../../../calls/service-call.test-helper';
import { CODECS, FakeClock, toneFrame } from '../../../media/joins/mixer.test-helper';
import { Sound } from '../../../media/player';
import { RecordingPlayer } from '../../../media/player/player.test-helper';
import { prompts } from '../prompts';
import { listeningOrder, MailboxMenuService, mailboxPinAccount } from './mailbox-menu';
import type { MailboxMenu, MenuState, MenuTiming } from './mailbox-menu';
import type { MenuMailbox, MenuMessage, MenuOwner } from './mailbox-port';

const user: ServiceUser = { organizationId: 1, userId: 7, extension: '201', displayName: 'Alice' };

interface Stored extends MenuMessage {
  deleted?: boolean;
}

/** An in-memory mailbox: `hash:<pin>` is the PIN hash the fake verifier understands. */
class FakeMailbox implements MenuMailbox {
  pin: string | undefined = 'hash:1234';
  readonly rows: Stored[] = [];
  readonly unreadable = new Set<number>();
  readonly calls: string[] = [];
  /** When set, changes wait for the test to let them through. */
  hold: Array<() => void> | undefined;

  add(id: number, status: 'new' | 'saved', receivedAt: string): void {
    this.rows.push({ id, status, receivedAt });
  }

  async pinHash(owner: MenuOwner): Promise<string | undefined> {
    expect(owner).toEqual({ organizationId: 1, userId: 7, extension: '201' });
    return this.pin;
  }

  async messages(): Promise<MenuMessage[]> {
    return this.rows.filter((row) => !row.deleted).map(({ id, status, receivedAt }) => ({ id, status, receivedAt }));
  }

  async sound(_owner: MenuOwner, message: MenuMessage): Promise<Sound> {
    if (this.unreadable.has(message.id)) throw new Error('no such file');
    const samples = new Int16Array(8000);
    for (let i = 0; i < 50; i++) samples.set(toneFrame(600, 8000, i), i * 160);
    return new Sound(`message ${message.id}`, 8000, samples);
  }

  async markSaved(_owner: MenuOwner, id: number): Promise<boolean> {
    await this.wait();
    this.calls.push(`save ${id}`);
    const row = this.rows.find((each) => each.id === id && !each.deleted);
    if (row) row.status = 'saved';
    return row !== undefined;
  }

  async remove(_owner: MenuOwner, id: number): Promise<boolean> {
    await this.wait();
    this.calls.push(`delete ${id}`);
    const row = this.rows.find((each) => each.id === id && !each.deleted);
    if (row) row.deleted = true;
    return row !== undefined;
  }

  private wait(): Promise<void> {
    const hold = this.hold;
    return hold ? new Promise((resolve) => hold.push(resolve)) : Promise.resolve();
  }
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Setup {
  service: MailboxMenuService;
  clock: FakeClock;
  player: RecordingPlayer;
  mailbox: FakeMailbox;
  call: FakeServiceCall;
  menu: MailboxMenu;
  attempts: AttemptLimiter;
  /** Moves time on 20 ms at a time, letting promises settle, until `state` (or fails after `maxMs`). */
  until(state: MenuState, maxMs?: number): Promise<void>;
  /** Lets time pass. */
  pass(ms: number): Promise<void>;
  /** What has been said since the last call. */
  heard(): string[];
}

function setup(
  options: {
    mailbox?: FakeMailbox;
    attempts?: AttemptLimiter;
    clock?: FakeClock;
    timing?: Partial<MenuTiming>;
    realPins?: boolean;
    verify?: (pin: string, hash: string) => Promise<boolean>;
  } = {},
): Setup {
  const clock = options.clock ?? new FakeClock();
  const player = new RecordingPlayer({ clock });
  const mailbox = options.mailbox ?? new FakeMailbox();
  const attempts = options.attempts ?? new AttemptLimiter({ now: () => clock.now() });
  const service = new MailboxMenuService({
    player,
    mailbox,
    clock,
    attempts,
    prompts: prompts(),
    timing: options.timing,
    verify: options.realPins ? undefined : (options.verify ?? (async (pin, hash) => hash === `hash:${pin}`)),
  });
  const call = new FakeServiceCall(new KeyLeg('caller', CODECS.pcmu), { organizationId: 1, extension: '201', userId: 7, displayName: 'Alice', number: '201' }, 'call-97');
  const menu = service.start(call, user);
  let seen = 0;
  const pass = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 20) {
      await flush();
      clock.advance(20);
    }
    await flush();
  };
  const until = async (state: MenuState, maxMs = 120_000): Promise<void> => {
    for (let t = 0; t <= maxMs; t += 20) {
      await flush();
      if (menu.state === state) return;
      clock.advance(20);
    }
    throw new Error(`the menu stayed ${menu.state}, never ${state}; said ${player.said.join(' ')}`);
  };
  const heard = (): string[] => {
    const said = player.said;
    const since = said.slice(seen);
    seen = said.length;
    return since;
  };
  return { service, clock, player, mailbox, call, menu, attempts, until, pass, heard };
}

const OPTIONS = ['vm-repeat', 'vm-next', 'vm-delete', 'vm-savemessage', 'vm-helpexit'];

/** Enters the right PIN once the menu asks for it. */
async function signIn(s: Setup): Promise<void> {
  await s.until('pin');
  s.call.leg.press('1', '2', '3', '4', '#');
  await s.until('counts');
}

describe('the *97 mailbox menu', () => {
  it('without a PIN set, says the feature is not available, goodbye, and hangs up', async () => {
    const mailbox = new FakeMailbox();
    mailbox.pin = undefined;
    const s = setup({ mailbox });
    await s.until('ended');
    expect(s.heard()).toEqual(['feature-not-avail-line', 'vm-goodbye']);
    expect(s.call.hungUp).toEqual(['mailbox menu ended']);
    // The goodbye is heard: frames went to the caller before the hang-up.
    expect(s.call.leg.sent.length).toBeGreaterThan(150);
  });

  it('after three wrong PINs says so, goodbye, and hangs up; the limiter holds the mailbox for the next call', async () => {
    const clock = new FakeClock();
    const attempts = new AttemptLimiter({ now: () => clock.now(), accountFreeFailures: 3, accountDelayBaseMs: 10 * 60_000 });
    const s = setup({ clock, attempts });
    await s.until('pin');
    expect(s.heard()).toEqual(['agent-pass']);
    s.call.leg.press('0', '0', '0', '0', '#');
    expect(s.menu.state).toBe('checking');
    await s.until('pin');
    expect(s.heard()).toEqual(['auth-incorrect']);
    s.call.leg.press('9', '9', '9', '9', '#');
    await s.until('pin');
    s.call.leg.press('1', '2', '3', '#');
    await s.until('goodbye');
    await s.until('ended');
    expect(s.heard()).toEqual(['auth-incorrect', 'confbridge-pin-bad', 'vm-goodbye']);
    expect(s.call.hungUp).toHaveLength(1);
    expect(s.mailbox.calls).toEqual([]);

    // Three failures at this mailbox: the next call's guess, even the right PIN, is not checked for a while.
    const next = setup({ attempts, clock });
    await next.until('pin');
    next.call.leg.press('1', '2', '3', '4', '#');
    await next.until('pin');
    expect(next.heard()).toEqual(['agent-pass', 'auth-incorrect']);
    expect(attempts.admit({ source: 'elsewhere', account: mailboxPinAccount(user) }).admitted).toBe(false);
    // Another user's mailbox is not held.
    expect(attempts.admit({ source: 'elsewhere', account: mailboxPinAccount({ organizationId: 1, userId: 8 }) }).admitted).toBe(true);
  });

  it('settles the PIN check of a caller who hung up while it ran, so the mailbox is not held for good', async () => {
    const clock = new FakeClock();
    const attempts = new AttemptLimiter({ now: () => clock.now() });
    // A verifier that takes a while, as scrypt does: the test lets each check finish after the hang-up.
    const checks: Array<() => void> = [];
    const verify = (pin: string, hash: string): Promise<boolean> => new Promise((resolve) => checks.push(() => resolve(hash === `hash:${pin}`)));
    for (let i = 0; i < 6; i++) {
      const s = setup({ clock, attempts, verify });
      await s.until('pin');
      s.call.leg.press('0', '0', '0', '0', '#');
      s.call.finish('caller hung up');
      for (const check of checks.splice(0)) check();
      await s.pass(0);
    }
    // The wrong PINs count against the mailbox for a while, but none stays in progress for ever.
    expect(attempts.admit({ source: 'elsewhere', account: mailboxPinAccount(user) }).admitted).toBe(false);
    clock.advance(3 * 3_600_000);
    expect(attempts.admit({ source: 'elsewhere', account: mailboxPinAccount(user) }).admitted).toBe(true);
  });

  it('takes the PIN ended by a pause as by #, and a * starts the entry again', async () => {
    const s = setup({ timing: { digitPauseMs: 3000 } });
    await s.until('pin');
    s.call.leg.press('7', '7', '*', '1', '2', '3', '4');
    await s.pass(2900);
    expect(s.menu.state).toBe('pin');
    await s.until('counts', 200);
  });

  it('counts no PIN typed before the first-digit timeout as a wrong try', async () => {
    const s = setup({ timing: { firstDigitMs: 4000 } });
    await s.until('pin');
    s.heard();
    await s.pass(3300 + 4000 + 200);
    expect(s.menu.state).toBe('pin');
    expect(s.heard()).toEqual(['auth-incorrect']);
  });

  it('checks a real scrypt PIN hash', async () => {
    const mailbox = new FakeMailbox();
    mailbox.pin = await hashPassword('4321');
    const s = setup({ mailbox, realPins: true });
    await s.until('pin');
    s.call.leg.press('1', '2', '3', '4', '#');
    for (let i = 0; i < 200 && s.menu.state === 'checking'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await s.until('pin');
    s.call.leg.press('4', '3', '2', '1', '#');
    for (let i = 0; i < 200 && s.menu.state === 'checking'; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await s.until('counts');
    await s.until('ended');
    expect(s.heard()).toEqual(['agent-pass', 'auth-incorrect', 'vm-youhave', 'vm-no', 'vm-messages', 'vm-goodbye']);
  });

  it('with no messages says so, goodbye, and hangs up', async () => {
    const s = setup();
    await signIn(s);
    await s.until('ended');
    expect(s.heard()).toEqual(['agent-pass', 'vm-youhave', 'vm-no', 'vm-messages', 'vm-goodbye']);
    expect(s.call.hungUp).toHaveLength(1);
  });

  it('plays new then saved messages, oldest first; 9 saves, 7 deletes, 6 goes on, and the mailbox changes', async () => {
    const mailbox = new FakeMailbox();
    mailbox.add(1, 'saved', '2026-12-01T10:00:00Z');
    mailbox.add(2, 'new', '2026-12-07T09:00:00Z');
    mailbox.add(3, 'new', '2026-12-06T09:00:00Z');
    const s = setup({ mailbox });
    await signIn(s);
    await s.until('message');
    expect(s.heard()).toEqual([
      'agent-pass',
      'vm-youhave', 'digits/2', 'vm-INBOX', 'vm-messages', 'vm-and', 'digits/1', 'vm-saved', 'vm-message',
      'vm-message', 'digits/1', 'message 3',
    ]);
    await s.until('options');
    expect(s.heard()).toEqual(OPTIONS);
    // Heard to its end: saved already, as key 9 would.
    expect(mailbox.calls).toEqual(['save 3']);

    s.call.leg.press('9');
    expect(s.menu.state).toBe('acting');
    await s.until('message');
    expect(mailbox.calls).toEqual(['save 3', 'save 3']);
    expect(mailbox.rows.find((row) => row.id === 3)!.status).toBe('saved');
    expect(s.heard()).toEqual(['vm-msgsaved', 'vm-message', 'digits/2', 'message 2']);

    // Deleted over the message, without waiting for the options.
    s.call.leg.press('7');
    await s.until('message');
    expect(mailbox.calls).toEqual(['save 3', 'save 3', 'delete 2']);
    expect(mailbox.rows.find((row) => row.id === 2)!.deleted).toBe(true);
    expect(s.heard()).toEqual(['vm-deleted', 'vm-message', 'digits/3', 'message 1']);

    await s.until('options');
    s.call.leg.press('6');
    await s.until('ended');
    expect(s.heard()).toEqual([...OPTIONS, 'vm-nomore', 'vm-goodbye']);
    expect(mailbox.rows.find((row) => row.id === 1)).toEqual({ id: 1, status: 'saved', receivedAt: '2026-12-01T10:00:00Z' });
    expect(s.call.hungUp).toEqual(['mailbox menu ended']);
  });

  it('saves a new message heard to its end, once, saying nothing of it; one cut short by a key stays new', async () => {
    const mailbox = new FakeMailbox();
    mailbox.add(4, 'new', '2026-12-07T09:00:00Z');
    mailbox.add(5, 'new', '2026-12-07T10:00:00Z');
    mailbox.add(6, 'saved', '2026-12-01T10:00:00Z');
    const s = setup({ mailbox });
    await signIn(s);
    await s.until('message');
    // Cut short: the caller goes on to the next before the end.
    await s.pass(200);
    s.call.leg.press('6');
    await s.until('message');
    expect(s.menu.position.index).toBe(1);
    s.heard();
    await s.until('options');
    expect(s.heard()).toEqual(OPTIONS);
    expect(mailbox.calls).toEqual(['save 5']);
    expect(mailbox.rows.map((row) => row.status)).toEqual(['new', 'saved', 'saved']);

    // Heard again to its end (key 5): not saved a second time.
    s.call.leg.press('5');
    await s.until('options');
    // A saved message heard to its end is left as it is.
    s.call.leg.press('6');
    await s.until('message');
    expect(s.menu.position.index).toBe(2);
    await s.until('options');
    expect(mailbox.calls).toEqual(['save 5']);
    s.call.leg.press('#');
    await s.until('ended');
    expect(mailbox.rows.map((row) => row.status)).toEqual(['new', 'saved', 'saved']);
  });

  it('a save on hearing a message that fails leaves the caller in the menu, and a hang-up just after it leaves it made', async () => {
    const failing = new FakeMailbox();
    failing.add(4, 'new', '2026-12-07T09:00:00Z');
    failing.markSaved = () => Promise.reject(new Error('database is locked'));
    const s = setup({ mailbox: failing });
    await signIn(s);
    await s.until('options');
    await s.pass(500);
    expect(s.menu.state).toBe('options');
    expect(s.call.hungUp).toEqual([]);
    expect(failing.rows[0]!.status).toBe('new');

    const mailbox = new FakeMailbox();
    mailbox.add(4, 'new', '2026-12-07T09:00:00Z');
    const t = setup({ mailbox });
    await signIn(t);
    await t.until('message');
    mailbox.hold = [];
    await t.until('options');
    t.call.finish('caller hung up');
    let settled = false;
    void t.service.settled().then(() => (settled = true));
    await flush();
    expect(settled).toBe(false);
    for (const resume of mailbox.hold.splice(0)) resume();
    await flush();
    expect(settled).toBe(true);
    expect(mailbox.calls).toEqual(['save 4']);
    expect(mailbox.rows[0]!.status).toBe('saved');
  });

  it('5 repeats the message, * says the options, another key is not understood, # says goodbye', async () => {
    const mailbox = new FakeMailbox();
    mailbox.add(4, 'new', '2026-12-07T09:00:00Z');
    const s = setup({ mailbox });
    await signIn(s);
    await s.until('options');
    s.heard();
    s.call.leg.press('5');
    await s.until('options');
    expect(s.heard()).toEqual(['vm-message', 'digits/1', 'message 4', ...OPTIONS]);
    s.call.leg.press('*');
    await s.pass(100);
    s.call.leg.press('3');
    await s.pass(100);
    s.call.leg.press('#');
    await s.until('ended');
    expect(s.heard()).toEqual([...OPTIONS, 'vm-sorry', ...OPTIONS, 'vm-goodbye']);
    // Saved once, when first heard to its end.
    expect(mailbox.calls).toEqual(['save 4']);
  });

  it('a key over the message counts goes to the first message; # there says goodbye', async () => {
    const mailbox = new FakeMailbox();
    mailbox.add(4, 'new', '2026-12-07T09:00:00Z');
    const s = setup({ mailbox });
    await signIn(s);
    s.call.leg.press('1');
    expect(s.menu.state).toBe('loading');
    await s.until('message');
    const other = setup({ mailbox });
    await signIn(other);
    other.call.leg.press('#');
    expect(other.menu.state).toBe('goodbye');
    await other.until('ended');
    expect(other.player.phrases.at(-1)).toEqual(['vm-goodbye']);
  });

  it('a key over a message stops it at once (barge-in)', async () => {
    const mailbox = new FakeMailbox();
    mailbox.add(4, 'new', '2026-12-07T09:00:00Z');
    mailbox.add(5, 'new', '2026-12-07T10:00:00Z');
    const s = setup({ mailbox });
    await signIn(s);
    await s.until('message');
    await s.pass(200);
    s.call.leg.press('6');
    expect(s.menu.state).toBe('loading');
    expect(s.player.active).toBe(0);
    await s.until('message');
    expect(s.menu.position.index).toBe(1);
    expect(s.player.phrases.at(-1)).toEqual(['vm-message', 'digits/2', 'message 5']);
  });

  it('says goodbye when no key is pressed after the options three times', async () => {
    const mailbox = new FakeMailbox();
    mailbox.add(4, 'new', '2026-12-07T09:00:00Z');
    const s = setup({ mailbox, timing: { choiceMs: 2000 } });
    await signIn(s);
    await s.until('options');
    s.heard();
    await s.until('goodbye');
    expect(s.heard()).toEqual([...OPTIONS, ...OPTIONS, 'vm-goodbye']);
    await s.until('ended');
  });

  it('skips a message whose audio cannot be read', async () => {
    const mailbox = new FakeMailbox();
    mailbox.add(4, 'new', '2026-12-07T09:00:00Z');
    mailbox.add(5, 'new', '2026-12-07T10:00:00Z');
    mailbox.unreadable.add(4);
    const s = setup({ mailbox });
    await signIn(s);
    await s.until('options');
    expect(s.player.phrases.at(-2)).toEqual(['vm-message', 'digits/2', 'message 5']);
  });

  it('a hang-up while a change is made leaves it made, and nothing more plays', async () => {
    const mailbox = new FakeMailbox();
    mailbox.add(4, 'new', '2026-12-07T09:00:00Z');
    mailbox.add(5, 'new', '2026-12-07T10:00:00Z');
    mailbox.hold = [];
    const s = setup({ mailbox });
    await signIn(s);
    await s.until('options');
    s.call.leg.press('7');
    await s.pass(100);
    expect(s.menu.state).toBe('acting');
    s.call.finish('caller hung up');
    expect(s.menu.state).toBe('ended');
    const phrases = s.player.phrases.length;
    // The service waits for the change at shutdown, though its call is over.
    let settled = false;
    void s.service.settled().then(() => (settled = true));
    await flush();
    expect(settled).toBe(false);
    for (const resume of mailbox.hold.splice(0)) resume();
    await flush();
    expect(settled).toBe(true);
    await s.pass(5000);
    // Saved on being heard to its end, then deleted by key.
    expect(mailbox.calls).toEqual(['save 4', 'delete 4']);
    expect(mailbox.rows.find((row) => row.id === 4)!.deleted).toBe(true);
    expect(mailbox.rows.find((row) => row.id === 5)!.deleted).toBeUndefined();
    expect(s.player.phrases).toHaveLength(phrases);
    expect(s.player.active).toBe(0);
    expect(s.call.hungUp).toEqual([]);
  });

  it('a hang-up mid-message stops the playback and the timers; later keys do nothing', async () => {
    const mailbox = new FakeMailbox();
    mailbox.add(4, 'new', '2026-12-07T09:00:00Z');
    const s = setup({ mailbox });
    await signIn(s);
    await s.until('message');
    s.call.finish('caller hung up');
    s.call.leg.press('7');
    await s.pass(60_000);
    expect(s.menu.state).toBe('ended');
    expect(mailbox.calls).toEqual([]);
    expect(s.player.active).toBe(0);
    expect(s.clock.pending).toBe(0);
  });

  it('a mailbox that fails says goodbye and hangs up rather than leaving the caller in silence', async () => {
    const mailbox = new FakeMailbox();
    mailbox.messages = () => {
      throw new Error('database is locked');
    };
    const s = setup({ mailbox });
    await s.until('pin');
    s.call.leg.press('1', '2', '3', '4', '#');
    await s.until('ended');
    expect(s.heard()).toEqual(['agent-pass', 'vm-goodbye']);
    expect(s.call.hungUp).toEqual(['mailbox menu ended']);
  });

  it('orders messages new first, then saved, each oldest first', () => {
    const order = listeningOrder([
      { id: 1, status: 'saved', receivedAt: '2026-01-02T00:00:00Z' },
      { id: 2, status: 'new', receivedAt: '2026-01-03T00:00:00Z' },
      { id: 3, status: 'saved', receivedAt: '2026-01-01T00:00:00Z' },
      { id: 4, status: 'new', receivedAt: '2026-01-01T00:00:00Z' },
    ]);
    expect(order.map((message) => message.id)).toEqual([4, 2, 3, 1]);
  });
});
