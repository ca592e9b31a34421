import { describe, expect, it } from 'vitest';
import { incomingAnnouncement, isTypingIn } from './incoming-call';

/** Just enough of an element for the focus rule. */
const element = (tagName: string, attributes: Record<string, string> = {}) =>
  ({ tagName: tagName.toUpperCase(), getAttribute: (name: string) => attributes[name] ?? null }) as unknown as Element;

describe('an incoming call', () => {
  it('is announced with the name and the number', () => {
    expect(incomingAnnouncement({ name: 'Alice Adams', number: '101' })).toBe('Incoming call from Alice Adams, 101');
    expect(incomingAnnouncement({ name: '', number: '+1 212-555-0123' })).toBe('Incoming call from +1 212-555-0123');
    expect(incomingAnnouncement({ name: '101', number: '101' })).toBe('Incoming call from 101');
    expect(incomingAnnouncement({ name: ' ', number: '' })).toBe('Incoming call from an unknown caller');
  });

  it('leaves the focus where the person is typing, and takes it from anywhere else', () => {
    expect(isTypingIn(element('input'))).toBe(true);
    expect(isTypingIn(element('input', { type: 'search' }))).toBe(true);
    expect(isTypingIn(element('textarea'))).toBe(true);
    expect(isTypingIn(element('div', { contenteditable: 'true' }))).toBe(true);
    expect(isTypingIn(element('input', { type: 'checkbox' }))).toBe(false);
    expect(isTypingIn(element('button'))).toBe(false);
    expect(isTypingIn(element('body'))).toBe(false);
    expect(isTypingIn(null)).toBe(false);
  });
});
