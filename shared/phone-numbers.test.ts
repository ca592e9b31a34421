import { describe, expect, it } from 'vitest';
import { DEFAULT_REGION, displayNumber, formatAsTyped, isRegion, readDialNumber, regionChoices, regionFromLocale } from './phone-numbers';

describe('readDialNumber', () => {
  it('keeps extensions and feature codes as typed', () => {
    expect(readDialNumber('102', 'US')).toEqual({ ok: true, kind: 'extension', dial: '102', display: '102' });
    expect(readDialNumber(' 2015550123 ', 'US')).toEqual({ ok: true, kind: 'extension', dial: '2015550123', display: '2015550123' });
    expect(readDialNumber('*97', 'US')).toEqual({ ok: true, kind: 'feature-code', dial: '*97', display: '*97' });
    expect(readDialNumber('#1', 'GB')).toMatchObject({ ok: true, kind: 'feature-code', dial: '#1' });
  });

  it('dials outside numbers in E.164 and shows them in the national form of their own region', () => {
    expect(readDialNumber('(212) 555-0123', 'US')).toEqual({ ok: true, kind: 'outside', dial: '+12125550123', display: '(212) 555-0123' });
    expect(readDialNumber('+1 212 555 0123', 'US')).toMatchObject({ dial: '+12125550123', display: '(212) 555-0123' });
    expect(readDialNumber('12125550123', 'US')).toMatchObject({ kind: 'outside', dial: '+12125550123' });
    expect(readDialNumber('020 7946 0958', 'GB')).toMatchObject({ dial: '+442079460958', display: '020 7946 0958' });
  });

  it('shows numbers of other regions in the international form', () => {
    expect(readDialNumber('+44 20 7946 0958', 'US')).toMatchObject({ dial: '+442079460958', display: '+44 20 7946 0958' });
    expect(readDialNumber('+12125550123', 'DE')).toMatchObject({ dial: '+12125550123', display: '+1 212 555 0123' });
  });

  it('says in a sentence why a number cannot be dialled', () => {
    expect(readDialNumber('', 'US')).toEqual({ ok: false, message: 'Enter a number to call.' });
    expect(readDialNumber('  - ', 'US')).toEqual({ ok: false, message: 'Enter a number to call.' });
    expect(readDialNumber('(212) 555-012', 'US')).toEqual({ ok: false, message: 'That number looks incomplete.' });
    expect(readDialNumber('5', 'US')).toEqual({ ok: false, message: 'That number looks incomplete.' });
    expect(readDialNumber('+1', 'US')).toEqual({ ok: false, message: 'That number looks incomplete.' });
    expect(readDialNumber('+1 212 555 0123 4567', 'US')).toEqual({ ok: false, message: 'That number has too many digits.' });
    expect(readDialNumber('+999 123 456', 'US')).toMatchObject({ ok: false, message: expect.stringContaining('country code') });
    expect(readDialNumber('bob', 'US')).toEqual({ ok: false, message: 'A number can hold only digits, *, # and a leading +.' });
    expect(readDialNumber('12+34567890123', 'US')).toEqual({ ok: false, message: 'A + can only start a number.' });
    expect(readDialNumber('+1 212 555 0123#', 'US')).toMatchObject({ ok: false, message: expect.stringContaining('feature codes') });
  });
});

describe('displayNumber', () => {
  it('formats outside numbers for the region and leaves the rest as they came', () => {
    expect(displayNumber('+12125550123', 'US')).toBe('(212) 555-0123');
    expect(displayNumber('+12125550123', 'GB')).toBe('+1 212 555 0123');
    expect(displayNumber('102', 'US')).toBe('102');
    expect(displayNumber('anonymous', 'US')).toBe('anonymous');
  });
});

describe('formatAsTyped', () => {
  it('groups an outside number as its digits arrive', () => {
    expect(formatAsTyped('+4420794', 'US')).toBe('+44 20 794');
    expect(formatAsTyped('+12125550123', 'US')).toBe('+1 212 555 0123');
    expect(formatAsTyped('12125550123', 'US')).toBe('1 (212) 555-0123');
    expect(formatAsTyped('(212) 5550', 'US')).toBe('(212) 555-0');
  });

  it('leaves what may still be an extension, feature codes and anything else exactly as typed', () => {
    expect(formatAsTyped('2125550123', 'US')).toBe('2125550123');
    expect(formatAsTyped('10', 'US')).toBe('10');
    expect(formatAsTyped('*72', 'US')).toBe('*72');
    expect(formatAsTyped('bo', 'US')).toBe('bo');
    expect(formatAsTyped('', 'US')).toBe('');
  });
});

describe('regions', () => {
  it("takes the region from the browser's locale, the likeliest one for a bare language, and US otherwise", () => {
    expect(regionFromLocale('en-GB')).toBe('GB');
    expect(regionFromLocale('de')).toBe('DE');
    expect(regionFromLocale('en')).toBe('US');
    expect(regionFromLocale(undefined)).toBe(DEFAULT_REGION);
    expect(regionFromLocale('not a locale!')).toBe('US');
    expect(regionFromLocale('en-001')).toBe('US');
  });

  it('names every region in the user language, with its calling code, sorted by name', () => {
    const choices = regionChoices('en');
    expect(choices.find((c) => c.region === 'GB')?.label).toBe('United Kingdom (+44)');
    expect(regionChoices('de').find((c) => c.region === 'DE')?.label).toBe('Deutschland (+49)');
    const labels = choices.map((c) => c.label);
    expect(labels).toEqual([...labels].sort((a, b) => a.localeCompare(b, 'en')));
    expect(choices.every((c) => isRegion(c.region))).toBe(true);
  });

  it('knows the regions libphonenumber has numbering plans for', () => {
    expect(isRegion('GB')).toBe(true);
    expect(isRegion('XX')).toBe(false);
    expect(isRegion('gb')).toBe(false);
  });
});
