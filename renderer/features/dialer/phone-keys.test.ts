import { describe, expect, it } from 'vitest';
import { phoneKeyIntent } from './phone-keys';
import type { KeyPress } from './phone-keys';

const press = (key: string, more: Partial<KeyPress> = {}): KeyPress => ({
  key,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  targetTag: 'BODY',
  targetEditable: false,
  ...more,
});

describe('phoneKeyIntent', () => {
  it('takes digits, * and # typed anywhere but a text field', () => {
    expect(phoneKeyIntent(press('5'))).toEqual({ kind: 'key', key: '5' });
    expect(phoneKeyIntent(press('#', { targetTag: 'BUTTON' }))).toEqual({ kind: 'key', key: '#' });
    expect(phoneKeyIntent(press('5', { targetTag: 'INPUT' }))).toBeUndefined();
    expect(phoneKeyIntent(press('5', { targetTag: 'DIV', targetEditable: true }))).toBeUndefined();
    expect(phoneKeyIntent(press('a'))).toBeUndefined();
  });

  it('calls on Enter, except where Enter presses a control', () => {
    expect(phoneKeyIntent(press('Enter'))).toEqual({ kind: 'call' });
    expect(phoneKeyIntent(press('Enter', { targetTag: 'SECTION' }))).toEqual({ kind: 'call' });
    expect(phoneKeyIntent(press('Enter', { targetTag: 'BUTTON' }))).toBeUndefined();
    expect(phoneKeyIntent(press('Enter', { targetTag: 'INPUT' }))).toBeUndefined();
  });

  it('closes the dial pad on Escape from anywhere', () => {
    expect(phoneKeyIntent(press('Escape', { targetTag: 'INPUT' }))).toEqual({ kind: 'close-keypad' });
  });

  it('leaves shortcuts alone', () => {
    expect(phoneKeyIntent(press('1', { ctrlKey: true }))).toBeUndefined();
    expect(phoneKeyIntent(press('Enter', { metaKey: true }))).toBeUndefined();
    expect(phoneKeyIntent(press('2', { altKey: true }))).toBeUndefined();
  });
});
