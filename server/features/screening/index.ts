/**
 * Call screening: callers asked their name before a user's phones ring, and the user who answers choosing to take
 * the call or send it on (screener.ts, the `screen` service of the calls layer's CallServices).
 */
export { CallScreener, DEFAULT_SCREENING_TIMING } from './screener';
export type { CallScreenerOptions, ScreeningTiming } from './screener';
