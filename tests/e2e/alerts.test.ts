/**
 * Knowing that a call rings, and acting on it at once (issue #16's feedback and keyboard items): the tab's title and
 * icon while a call rings, the screen-reader announcement and the focus on Answer, the call shortcuts, the words a
 * refusal by the PBX is told in, a call answered on another device of the same person, and the web phone's
 * notifications (asked for when the person chooses, shown while the tab is out of sight).
 */
import type { Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { expectAccessible } from './support/axe';
import { alice, bob, carol, useStage } from './support/setup';
import { WebPhone } from './support/web-phone';

/** The icon the tab shows, as the page links it. */
function favicon(page: Page): Promise<string> {
  return page.evaluate(() => document.querySelector<HTMLLinkElement>('link[rel="icon"]')?.href ?? '');
}

describe('alerts, shortcuts and how calls end', () => {
  const stage = useStage('alerts', [440, 880, 660]);
  const phones: WebPhone[] = [];

  afterEach(async () => {
    for (const phone of phones.splice(0)) await phone.close();
  });

  async function signedIn(browserIndex: number, user: { extension: string; password: string }): Promise<WebPhone> {
    const phone = await WebPhone.open(stage.browsers[browserIndex]!, stage.pbx.url);
    phones.push(phone);
    await phone.signIn(user.extension, user.password);
    await phone.waitUntilRegistered();
    return phone;
  }

  it('shows a ringing call in the tab title and icon, announces it, and puts both back after', async () => {
    const a = await signedIn(0, alice);
    const b = await signedIn(1, bob);
    await expect.poll(() => b.page.title()).toBe('Offhook — Registered');
    expect(await favicon(b.page)).toMatch(/\/favicon\.svg$/);

    await a.call(bob.extension);
    await b.incomingCall().waitFor();
    await expect.poll(() => b.page.title()).toBe(`Ringing: ${alice.displayName}`);
    expect(await favicon(b.page)).toMatch(/\/favicon-ringing\.svg$/);
    // An assertive live region in the card says who calls.
    const announcement = b.incomingCall().locator('[aria-live="assertive"]');
    await expect.poll(() => announcement.textContent()).toBe(`Incoming call from ${alice.displayName}, ${alice.extension}`);

    await b.decline();
    await expect.poll(() => b.page.title()).toBe('Offhook — Registered');
    expect(await favicon(b.page)).toMatch(/\/favicon\.svg$/);
  });

  it('answers with the shortcut the Answer button announces while the focus is in the number field, then mutes and hangs up by keys', async () => {
    const a = await signedIn(0, alice);
    const b = await signedIn(1, bob);
    await b.numberField().focus();

    await a.call(bob.extension);
    const answer = b.incomingCall().getByRole('button', { name: 'Answer' });
    await answer.waitFor();
    expect(await answer.getAttribute('title')).toBe('Answer (Ctrl+Shift+Enter)');
    // Typing is not interrupted: the focus stays in the field.
    expect(await b.page.evaluate(() => document.activeElement?.id)).toBe('dial-number');
    await b.pressShortcutOf(answer);
    await b.activeCall().waitFor();

    await b.pressShortcutOf(b.activeCall().getByRole('button', { name: 'Mute', exact: true }));
    await b.activeCall().getByRole('button', { name: 'Unmute', exact: true }).waitFor();
    await b.pressShortcutOf(b.activeCall().getByRole('button', { name: 'Hang up' }));
    await expect.poll(() => a.callCards().count(), { timeout: 10_000 }).toBe(0);
  });

  it('moves the focus to Answer when it rests on no control, so Enter answers', async () => {
    const a = await signedIn(0, alice);
    const b = await signedIn(1, bob);
    await b.openSection('Settings');
    await b.page.getByRole('heading', { name: 'Keyboard shortcuts' }).waitFor();
    // The skip link puts the focus on the main region: on no control in particular.
    await b.page.getByRole('link', { name: 'Skip to main content' }).focus();
    await b.page.keyboard.press('Enter');
    expect(await b.page.evaluate(() => document.activeElement?.id)).toBe('main-content');

    await a.call(bob.extension);
    const answer = b.incomingCall().getByRole('button', { name: 'Answer' });
    await answer.waitFor();
    await expect.poll(() => answer.evaluate((button) => button === document.activeElement)).toBe(true);
    await b.page.keyboard.press('Enter');
    await b.activeCall().waitFor();
    await b.hangUp();
  });

  it('leaves the focus on the control the person is on, and on a call, when a call rings: Enter does not answer it', async () => {
    const a = await signedIn(0, alice);
    const b = await signedIn(1, bob);
    const c = await signedIn(2, carol);
    // On a control (a link in the navigation), no call yet.
    await b.openSection('Settings');
    await a.call(bob.extension);
    await b.incomingCall().getByRole('button', { name: 'Answer' }).waitFor();
    const settingsLink = b.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Settings', exact: true });
    expect(await settingsLink.evaluate((link) => link === document.activeElement)).toBe(true);
    await b.answer();
    await b.activeCall().waitFor();

    // On a call, the focus on Hang up: a second call rings (call waiting).
    const hangUp = b.activeCall().getByRole('button', { name: 'Hang up' });
    await hangUp.focus();
    await c.call(bob.extension);
    await b.incomingCall().getByRole('button', { name: 'Answer' }).waitFor();
    // Give the card the moment in which it would take the focus, then check it did not.
    await b.incomingCall().locator('[aria-live="assertive"]').getByText(/Incoming call from/).waitFor();
    expect(await hangUp.evaluate((button) => button === document.activeElement)).toBe(true);
    await b.decline();
    await b.hangUp();
  });

  it('lists the shortcuts in Settings, with the keys the buttons announce', async () => {
    const b = await signedIn(1, bob);
    await b.openSection('Settings');
    const list = b.page.getByRole('table');
    for (const [action, keys] of [
      ['Answer', 'Ctrl+Shift+Enter'],
      ['Decline', 'Ctrl+Shift+X'],
      ['Mute / Unmute', 'Ctrl+Shift+Space'],
      ['Hold / Resume', 'Ctrl+Shift+H'],
      ['Hang up', 'Ctrl+Shift+E'],
    ]) {
      await expect.poll(() => list.getByRole('row', { name: `${action} ${keys}` }).count()).toBe(1);
    }
    await expectAccessible(b.page, 'Settings with the keyboard shortcuts');
  });

  it('says in plain words that the PBX does not allow an outside call, not that someone declined it', async () => {
    const a = await signedIn(0, alice);
    await a.call('+1 212 555 0123');
    const said = a.page.getByText('Outside calls are not allowed for this extension.');
    await said.waitFor({ timeout: 10_000 });
    expect(await a.page.getByText('Call declined').count()).toBe(0);
  });

  it('names the person picked from the suggestions on the outgoing call, with the number', async () => {
    const a = await signedIn(0, alice);
    await signedIn(1, bob);
    await a.numberField().pressSequentially('bob');
    await a.suggestion(`${bob.displayName} ${bob.extension}`).click();
    await a.page.getByRole('button', { name: 'Call', exact: true }).click();
    const card = a.card('Outgoing call');
    await card.getByRole('heading', { name: `Calling ${bob.displayName}…` }).waitFor();
    await card.getByText(bob.extension, { exact: true }).waitFor();
    await a.hangUp();
  });

  it('shows a call answered on another of the person\'s devices as answered there, not missed', async () => {
    const a = await signedIn(0, alice);
    const desk = await signedIn(1, bob);
    const laptop = await signedIn(2, bob);

    await a.call(bob.extension);
    await desk.incomingCall().waitFor();
    await laptop.incomingCall().waitFor();
    await desk.answer();
    await desk.activeCall().waitFor();

    await laptop.page.getByText('Answered on another device').waitFor({ timeout: 10_000 });
    expect(await laptop.page.getByText('Missed call').count()).toBe(0);
    // No missed-call count on the navigation, and the title shows none either.
    expect(await laptop.page.getByRole('navigation', { name: 'Sections' }).getByText(/missed/).count()).toBe(0);
    await expect.poll(() => laptop.page.title()).toBe('Offhook — Registered');
    await desk.hangUp();
  });

  /**
   * Headless Chromium answers every permission question itself, so the browser's question is stood in for (in this
   * page and after reloads): it counts how often it is asked and says yes.
   */
  async function standInForPermissionQuestion(phone: WebPhone): Promise<() => Promise<number>> {
    await phone.page.addInitScript(() => {
      let permission: NotificationPermission = 'default';
      const asked = { count: 0 };
      (window as unknown as { permissionAsked: typeof asked }).permissionAsked = asked;
      Object.defineProperty(Notification, 'permission', { get: () => permission });
      Notification.requestPermission = async () => {
        asked.count += 1;
        permission = 'granted';
        return permission;
      };
    });
    await phone.page.reload();
    return () => phone.page.evaluate(() => (window as unknown as { permissionAsked: { count: number } }).permissionAsked.count);
  }

  /** After a reload: signed in again, by the kept session or by signing in. */
  async function registeredAgain(phone: WebPhone, user: { extension: string; password: string }): Promise<void> {
    const signIn = phone.page.getByRole('button', { name: 'Sign in' });
    const registration = phone.page.getByRole('status', { name: 'Registration' });
    await signIn.or(registration).first().waitFor();
    if (await signIn.isVisible()) await phone.signIn(user.extension, user.password);
    await phone.waitUntilRegistered();
  }

  it('offers to turn on notifications after sign-in, and asks the browser only when the person chooses it', async () => {
    const b = await WebPhone.open(stage.browsers[1]!, stage.pbx.url);
    phones.push(b);
    const asked = await standInForPermissionQuestion(b);
    expect(await asked()).toBe(0);
    await b.signIn(bob.extension, bob.password);
    await b.waitUntilRegistered();

    const offer = b.page.getByRole('button', { name: 'Turn on notifications' });
    await offer.waitFor();
    expect(await asked()).toBe(0);
    await expectAccessible(b.page, 'the offer to turn on notifications');
    await offer.click();
    await offer.waitFor({ state: 'detached' });
    expect(await asked()).toBe(1);
  });

  it('does not offer notifications again after Not now, also after a reload, but keeps the choice in Settings', async () => {
    const b = await WebPhone.open(stage.browsers[1]!, stage.pbx.url);
    phones.push(b);
    const asked = await standInForPermissionQuestion(b);
    await b.signIn(bob.extension, bob.password);
    await b.waitUntilRegistered();
    const notNow = b.page.getByRole('button', { name: 'Not now' });
    await notNow.click();
    await notNow.waitFor({ state: 'detached' });

    await b.page.reload();
    await registeredAgain(b, bob);
    await b.page.getByRole('button', { name: 'Call', exact: true }).waitFor();
    expect(await b.page.getByRole('button', { name: 'Turn on notifications' }).count()).toBe(0);
    expect(await asked()).toBe(0);

    // Settings still has the choice, for a person who changes their mind.
    await b.openSection('Settings');
    const notifications = b.page.getByRole('group', { name: 'Notifications' });
    await notifications.getByText('Off: an incoming call shows only in this tab.').waitFor();
    await expectAccessible(b.page, 'Settings with notifications off');
    await notifications.getByRole('button', { name: 'Turn on notifications' }).click();
    await notifications.getByText(/^On: /).waitFor();
    expect(await asked()).toBe(1);
  });

  it('notifies of an incoming call while the tab is out of sight, once notifications are on', async () => {
    const a = await signedIn(0, alice);
    const b = await WebPhone.open(stage.browsers[1]!, stage.pbx.url);
    phones.push(b);
    await b.context.grantPermissions(['notifications']);
    // The tab is out of sight (a background tab); the notifications shown are noted for the test to read.
    await b.page.addInitScript(() => {
      Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
      const shown: Array<{ title: string; body: string }> = [];
      const instances: Notification[] = [];
      const focused = { count: 0 };
      Object.assign(window, { shownNotifications: shown, notificationInstances: instances, focusCount: focused });
      const Real = window.Notification;
      class Noted extends Real {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          shown.push({ title, body: options?.body ?? '' });
          instances.push(this);
        }
      }
      window.Notification = Noted as typeof Notification;
      const focus = window.focus.bind(window);
      window.focus = () => {
        focused.count += 1;
        focus();
      };
    });
    await b.page.reload();
    await b.signIn(bob.extension, bob.password);
    await b.waitUntilRegistered();
    expect(await b.page.getByRole('button', { name: 'Turn on notifications' }).count()).toBe(0);

    await a.call(bob.extension);
    await b.incomingCall().waitFor();
    await expect
      .poll(() => b.page.evaluate(() => (window as unknown as { shownNotifications: unknown[] }).shownNotifications))
      .toEqual([{ title: 'Incoming call', body: `${alice.displayName} (${alice.extension})` }]);
    // A click on the notification brings the tab forward.
    const focusCount = await b.page.evaluate(() => {
      const page = window as unknown as { notificationInstances: Notification[]; focusCount: { count: number } };
      page.notificationInstances[0]?.onclick?.(new Event('click'));
      return page.focusCount.count;
    });
    expect(focusCount).toBe(1);
    await a.hangUp();
  });
});
