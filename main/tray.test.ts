import { describe, expect, it, vi } from 'vitest';
import { REGISTRATION_LABELS, REGISTRATION_STATES } from '../shared/registration';
import type { RegistrationState } from '../shared/registration';
import { TrayController } from './tray';
import type { TrayMenuItem } from './tray';

class FakeTray {
  image: string;
  toolTip = '';
  menu: TrayMenuItem[] | null = null;
  destroyed = false;
  readonly clickListeners: (() => void)[] = [];
  constructor(image: string) {
    this.image = image;
  }
  setImage(image: string) {
    this.image = image;
  }
  setToolTip(toolTip: string) {
    this.toolTip = toolTip;
  }
  setContextMenu(menu: TrayMenuItem[] | null) {
    this.menu = menu;
  }
  on(_event: 'click', listener: () => void) {
    this.clickListeners.push(listener);
  }
  destroy() {
    this.destroyed = true;
  }
}

function setUp(initial?: RegistrationState) {
  let tray: FakeTray | undefined;
  const onShow = vi.fn();
  const onQuit = vi.fn();
  const onAnswer = vi.fn();
  const onDecline = vi.fn();
  const controller = new TrayController<string, TrayMenuItem[]>(
    {
      createTray: (icon) => (tray = new FakeTray(icon)),
      buildMenu: (template) => template,
      iconFor: (state) => `resources/tray-${state}.png`,
      onShow,
      onQuit,
      onAnswer,
      onDecline,
    },
    initial,
  );
  if (!tray) throw new Error('no tray was created');
  return { controller, tray, onShow, onQuit, onAnswer, onDecline };
}

function menuItem(tray: FakeTray, label: string) {
  const item = tray.menu?.find((entry) => 'label' in entry && entry.label === label);
  if (!item || !('label' in item)) throw new Error(`no menu item ${label}`);
  return item;
}

describe('TrayController', () => {
  it('starts unregistered: icon, tooltip and the first menu line say so', () => {
    const { tray, controller } = setUp();
    expect(controller.state).toBe('unregistered');
    expect(tray.image).toBe('resources/tray-unregistered.png');
    expect(tray.toolTip).toBe(`Offhook — ${REGISTRATION_LABELS.unregistered}`);
    expect(tray.menu?.[0]).toEqual({ label: REGISTRATION_LABELS.unregistered, enabled: false });
  });

  it.each(REGISTRATION_STATES)('shows the %s state', (state) => {
    const { tray, controller } = setUp(state === 'unregistered' ? 'registered' : 'unregistered');
    controller.setRegistrationState(state);
    expect(controller.state).toBe(state);
    expect(tray.image).toBe(`resources/tray-${state}.png`);
    expect(tray.toolTip).toContain(REGISTRATION_LABELS[state]);
    expect(tray.menu?.[0]).toEqual({ label: REGISTRATION_LABELS[state], enabled: false });
  });

  it('follows a registration from start to failure', () => {
    const { tray, controller } = setUp();
    const images: string[] = [];
    for (const state of ['registering', 'registered', 'failed'] as const) {
      controller.setRegistrationState(state);
      images.push(tray.image);
    }
    expect(images).toEqual(['resources/tray-registering.png', 'resources/tray-registered.png', 'resources/tray-failed.png']);
  });

  it('offers Show and Quit, which call their callbacks', () => {
    const { tray, onShow, onQuit } = setUp();
    expect(tray.menu?.map((item) => ('label' in item ? item.label : item.type))).toEqual([
      REGISTRATION_LABELS.unregistered,
      'separator',
      'Show Offhook',
      'Quit',
    ]);
    menuItem(tray, 'Show Offhook').click?.();
    expect(onShow).toHaveBeenCalledTimes(1);
    expect(onQuit).not.toHaveBeenCalled();
    menuItem(tray, 'Quit').click?.();
    expect(onQuit).toHaveBeenCalledTimes(1);
  });

  it('shows the window when the icon is clicked', () => {
    const { tray, onShow } = setUp();
    for (const listener of tray.clickListeners) listener();
    expect(onShow).toHaveBeenCalledTimes(1);
  });

  it('removes the icon when destroyed', () => {
    const { tray, controller } = setUp();
    controller.destroy();
    expect(tray.destroyed).toBe(true);
  });

  it('shows a ringing call, answers it on a click of the icon, and offers Answer and Decline', () => {
    const { controller, tray, onShow, onAnswer, onDecline } = setUp('registered');
    controller.setRingingCall({ id: 'call-1', caller: 'Bob Brown' });
    expect(tray.toolTip).toBe('Offhook — Incoming call from Bob Brown');
    const items = (tray.menu ?? []).filter((item): item is Extract<TrayMenuItem, { label: string }> => 'label' in item);
    expect(items.map((item) => item.label).slice(0, 3)).toEqual(['Incoming call from Bob Brown', 'Answer', 'Decline']);
    items.find((item) => item.label === 'Decline')?.click?.();
    expect(onDecline).toHaveBeenCalledWith('call-1');

    for (const click of tray.clickListeners) click();
    expect(onAnswer).toHaveBeenCalledWith('call-1');
    expect(onShow).not.toHaveBeenCalled();

    controller.setRingingCall(undefined);
    expect(tray.toolTip).toBe(`Offhook — ${REGISTRATION_LABELS.registered}`);
    for (const click of tray.clickListeners) click();
    expect(onShow).toHaveBeenCalledTimes(1);
  });
});
