/**
 * Phone numbers as people type, read and dial them, with libphonenumber-js. Three kinds of thing go in the
 * number field:
 *
 * - an extension: 2 to 10 digits and nothing else, the range the PBX routes to its users. It stays as typed.
 * - a feature code: starts with * or #, served by the PBX itself. It stays as typed.
 * - an outside number: anything with a leading +, punctuation people copy along ("(212) 555-0123"), or more
 *   digits than an extension has. It is shown formatted for the user's region (national form for numbers of
 *   that region, international form for the rest) and dialled in E.164.
 *
 * What cannot be dialled comes back as a sentence to show, never as a code.
 */
import { AsYouType, getCountries, getCountryCallingCode, isSupportedCountry, parsePhoneNumberFromString, validatePhoneNumberLength } from 'libphonenumber-js';
import type { CountryCode } from 'libphonenumber-js';
import { isExtension } from './extensions';

/** ISO 3166-1 alpha-2 region whose numbering plan national numbers are read in ("US", "GB", "DE"). */
export type Region = CountryCode;

export const DEFAULT_REGION: Region = 'US';

export type NumberKind = 'extension' | 'feature-code' | 'outside';

export type DialNumber =
  | {
      ok: true;
      kind: NumberKind;
      /** What to dial: the extension or feature code as typed, an outside number in E.164. */
      dial: string;
      /** How to show it: as typed for extensions and feature codes, formatted for the region otherwise. */
      display: string;
    }
  | { ok: false; message: string };

const FEATURE_CODE = /^[*#][0-9*#]{0,31}$/;
/** Characters people copy along with a number; they never change what is dialled. */
const FORMATTING = /[\s().\-/]/g;
const HAS_FORMATTING = /[\s().\-/]/;
const DIALABLE = /^[0-9*#+]+$/;

export function isRegion(code: string): code is Region {
  return /^[A-Z]{2}$/.test(code) && isSupportedCountry(code);
}

/** The region of a BCP 47 locale ("en-GB" → GB; "de" → DE, its likeliest region), or the default. */
export function regionFromLocale(locale: string | undefined): Region {
  if (!locale) return DEFAULT_REGION;
  try {
    const region = new Intl.Locale(locale).maximize().region;
    return region && isRegion(region) ? region : DEFAULT_REGION;
  } catch {
    return DEFAULT_REGION;
  }
}

export interface RegionChoice {
  region: Region;
  /** "United Kingdom (+44)", in the language of `locale`. */
  label: string;
}

/** Every region with a numbering plan, named in the user's language and sorted by name, for a settings list. */
export function regionChoices(locale?: string): RegionChoice[] {
  const names = new Intl.DisplayNames(locale ? [locale] : undefined, { type: 'region', fallback: 'code' });
  return getCountries()
    .map((region) => ({ region, name: names.of(region) ?? region, code: getCountryCallingCode(region) }))
    .sort((a, b) => a.name.localeCompare(b.name, locale))
    .map(({ region, name, code }) => ({ region, label: `${name} (+${code})` }));
}

function kindOf(compact: string): NumberKind | undefined {
  if (isExtension(compact)) return 'extension';
  if (FEATURE_CODE.test(compact)) return 'feature-code';
  return undefined;
}

/** Reads what is in the number field: what to dial and how to show it, or why it cannot be dialled. */
export function readDialNumber(input: string, region: Region = DEFAULT_REGION): DialNumber {
  const trimmed = input.trim();
  const compact = trimmed.replace(FORMATTING, '');
  if (compact === '') return { ok: false, message: 'Enter a number to call.' };
  // Only a bare run of digits is an extension: "212 555" was typed as a phone number, not as extension 212555.
  const kind = kindOf(compact);
  if (kind === 'feature-code' || (kind === 'extension' && compact === trimmed)) return { ok: true, kind, dial: compact, display: compact };
  if (!DIALABLE.test(compact)) return { ok: false, message: 'A number can hold only digits, *, # and a leading +.' };
  if (compact.slice(1).includes('+')) return { ok: false, message: 'A + can only start a number.' };
  if (/[*#]/.test(compact)) return { ok: false, message: 'Only feature codes, which start with * or #, can hold * or #.' };

  switch (validatePhoneNumberLength(compact, region)) {
    case 'TOO_SHORT':
    case 'NOT_A_NUMBER':
      return { ok: false, message: 'That number looks incomplete.' };
    case 'TOO_LONG':
      return { ok: false, message: 'That number has too many digits.' };
    case 'INVALID_COUNTRY':
      return { ok: false, message: 'That country code is not one we know. Check the digits after the +.' };
    case 'INVALID_LENGTH':
      return { ok: false, message: "That number doesn't have the right number of digits." };
    default:
      break;
  }
  const parsed = parsePhoneNumberFromString(compact, region);
  if (!parsed?.isValid()) return { ok: false, message: "That doesn't look like a phone number. Check the digits, or start with + and the country code." };
  return { ok: true, kind: 'outside', dial: parsed.number, display: parsed.country === region ? parsed.formatNational() : parsed.formatInternational() };
}

/**
 * A number from elsewhere (the directory, the call history, a link) as the user reads it: extensions and
 * feature codes as they are, outside numbers formatted for the region, anything unreadable as it came.
 */
export function displayNumber(number: string, region: Region = DEFAULT_REGION): string {
  const read = readDialNumber(number, region);
  return read.ok ? read.display : number;
}

/**
 * The number field's text reformatted while it is typed: outside numbers take their region's grouping as the
 * digits arrive ("+44 20 7946…"), while extensions and feature codes, and anything that is not a number, are
 * left exactly as typed.
 */
export function formatAsTyped(input: string, region: Region = DEFAULT_REGION): string {
  const compact = input.trim().replace(FORMATTING, '');
  if (compact === '' || !/^\+?[0-9]+$/.test(compact)) return input;
  if (!compact.startsWith('+') && compact.length <= 10 && !HAS_FORMATTING.test(input.trim())) return input;
  return new AsYouType(region).input(compact);
}

/** The digits a number is compared by when matching what was typed: no formatting, no leading +. */
export function numberDigits(text: string): string {
  return text.replace(/[^0-9]/g, '');
}
