/**
 * WCAG 2.x contrast, and the colour pairs of styles/theme.css that are drawn one on the other, each with the ratio it
 * must reach: 4.5:1 for text, 3:1 for what outlines a control or shows focus (WCAG 1.4.3 and 1.4.11). A new
 * pairing in the styles belongs in this list, so that contrast.test.ts checks it in both themes.
 */

export interface ColourPair {
  /** Custom property names without the leading dashes. */
  fg: string;
  bg: string;
  min: 4.5 | 3;
  where: string;
}

export const THEME_PAIRS: readonly ColourPair[] = [
  { fg: 'text', bg: 'bg', min: 4.5, where: 'body text on the page' },
  { fg: 'text', bg: 'surface', min: 4.5, where: 'text on cards, panes and fields' },
  { fg: 'text', bg: 'surface-sunken', min: 4.5, where: 'text on hovered rows and the registration chip' },
  { fg: 'text-muted', bg: 'bg', min: 4.5, where: 'hints on the page' },
  { fg: 'text-muted', bg: 'surface', min: 4.5, where: 'hints, kickers, numbers and times on cards' },
  { fg: 'text-muted', bg: 'surface-sunken', min: 4.5, where: 'muted text on a hovered or selected row' },
  { fg: 'accent', bg: 'surface', min: 4.5, where: 'the brand and inbound calls in Call History' },
  { fg: 'accent', bg: 'bg', min: 4.5, where: 'the brand on the sign-in page' },
  { fg: 'accent-strong', bg: 'accent-soft', min: 4.5, where: 'the current section and pressed filters' },
  { fg: 'text', bg: 'accent-soft', min: 4.5, where: 'a highlighted suggestion' },
  { fg: 'on-accent', bg: 'accent', min: 4.5, where: 'filled buttons, the skip link, Auto-answer on' },
  { fg: 'on-accent', bg: 'accent-strong', min: 4.5, where: 'filled buttons, hovered' },
  { fg: 'on-accent', bg: 'answer', min: 4.5, where: 'Answer, Call, Resume' },
  { fg: 'on-accent', bg: 'answer-strong', min: 4.5, where: 'Answer, Call, Resume, hovered' },
  { fg: 'on-accent', bg: 'danger', min: 4.5, where: 'Hang up, Decline, Do not disturb on, the missed badge' },
  { fg: 'on-accent', bg: 'danger-strong', min: 4.5, where: 'Hang up and Decline, hovered' },
  { fg: 'answer', bg: 'surface', min: 4.5, where: 'outbound calls in Call History, good call quality' },
  { fg: 'danger', bg: 'surface', min: 4.5, where: 'missed calls and errors in Call History' },
  { fg: 'danger-strong', bg: 'error-bg', min: 4.5, where: 'form errors' },
  { fg: 'danger-strong', bg: 'surface-sunken', min: 4.5, where: 'the registration chip when it failed' },
  { fg: 'warning', bg: 'surface', min: 4.5, where: 'call flags (on hold, muted) and fair call quality' },
  { fg: 'control-border', bg: 'surface', min: 3, where: 'outlines of fields, keys and quiet buttons' },
  { fg: 'control-border', bg: 'bg', min: 3, where: 'outlines of quiet buttons on the page' },
  { fg: 'accent', bg: 'accent-soft', min: 3, where: 'the outline of a pressed in-call option' },
  { fg: 'focus', bg: 'bg', min: 3, where: 'the focus ring on the page' },
  { fg: 'focus', bg: 'surface', min: 3, where: 'the focus ring on cards and panes' },
];

/** Relative luminance of a #rrggbb colour (WCAG 2.x). */
export function luminance(hex: string): number {
  const match = /^#([0-9a-f]{6})$/i.exec(hex.trim());
  if (!match) throw new Error(`not a #rrggbb colour: ${hex}`);
  const [r, g, b] = [0, 2, 4].map((at) => {
    const channel = parseInt(match[1]!.slice(at, at + 2), 16) / 255;
    return channel <= 0.03928 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/**
 * The custom properties declared in the first rule of `css` whose selector list is exactly `selector`, as
 * name → value (names without the leading dashes).
 */
export function readTokens(css: string, selector: string): Record<string, string> {
  const withoutComments = css.replace(/\/\*[\s\S]*?\*\//g, '');
  for (const rule of withoutComments.matchAll(/([^{}]+)\{([^{}]*)\}/g)) {
    const selectors = rule[1]!.split(',').map((part) => part.trim());
    if (!selectors.includes(selector)) continue;
    const tokens: Record<string, string> = {};
    for (const declaration of rule[2]!.matchAll(/--([a-z0-9-]+)\s*:\s*([^;]+);/gi)) tokens[declaration[1]!] = declaration[2]!.trim();
    return tokens;
  }
  throw new Error(`no rule for ${selector}`);
}
