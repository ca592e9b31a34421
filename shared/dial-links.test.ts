import { describe, expect, it } from 'vitest';
import { findDialLink, parseDialLink } from './dial-links';

describe('parseDialLink', () => {
  it.each([
    ['tel:+1-555-123-4567', '+15551234567', 'tel'],
    ['tel:+1%20(555)%20123-4567', '+15551234567', 'tel'],
    ['TEL:101', '101', 'tel'],
    ['tel:7042;phone-context=example.com', '7042', 'tel'],
    ['callto:+15551234567', '+15551234567', 'callto'],
    ['callto://+15551234567', '+15551234567', 'callto'],
    ['sip:102@demo.offhook.test', '102', 'sip'],
    ['sip:102@demo.offhook.test;transport=tcp?subject=hi', '102', 'sip'],
    ['sips:alice@example.com', 'alice@example.com', 'sips'],
    ['sip:alice@[2001:db8::1]:5061', 'alice@[2001:db8::1]:5061', 'sip'],
  ])('%s → %s', (link, target, scheme) => {
    expect(parseDialLink(link)).toEqual({ target, scheme });
  });

  it.each([
    'http://example.com',
    'tel:',
    'tel:abc',
    'tel:1',
    'sip:@example.com',
    'sip:bob@exa mple.com',
    'sip:bob"@example.com',
    'tel:%E0%A4%A',
    `tel:${'1'.repeat(600)}`,
    'javascript:alert(1)',
  ])('refuses %s', (link) => {
    expect(parseDialLink(link)).toBeUndefined();
  });
});

describe('findDialLink', () => {
  it('finds the link among the arguments of a launch', () => {
    expect(findDialLink(['/opt/Offhook/offhook', '--no-sandbox', 'tel:+15551234567'])).toEqual({ target: '+15551234567', scheme: 'tel' });
    expect(findDialLink(['/opt/Offhook/offhook', '.'])).toBeUndefined();
  });
});
