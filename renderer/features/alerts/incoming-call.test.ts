import { describe, expect, it } from 'vitest';
import { incomingAnnouncement, mayTakeFocusForRinging } from './incoming-call';

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

  it('takes the focus for Answer only when it rests on nothing in particular and no other call is under way', () => {
    expect(mayTakeFocusForRinging(element('body'), 0)).toBe(true);
    expect(mayTakeFocusForRinging(null, 0)).toBe(true);
    expect(mayTakeFocusForRinging(element('main', { id: 'main-content' }), 0)).toBe(true);
    expect(mayTakeFocusForRinging(element('div', { id: 'app' }), 0)).toBe(true);
    // On a control: Hang up, a dial pad key, a link in the navigation, a field.
    expect(mayTakeFocusForRinging(element('button'), 0)).toBe(false);
    expect(mayTakeFocusForRinging(element('a'), 0)).toBe(false);
    expect(mayTakeFocusForRinging(element('input'), 0)).toBe(false);
    // Another call is under way (one on the line, or a first one ringing): never, wherever the focus rests.
    expect(mayTakeFocusForRinging(element('body'), 1)).toBe(false);
    expect(mayTakeFocusForRinging(null, 2)).toBe(false);
  });
});
