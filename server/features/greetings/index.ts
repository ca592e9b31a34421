/** Greetings (issue #17): a user's recorded or uploaded greetings, and the one callers hear before a voicemail. */
export { activeGreeting, GreetingError, GreetingLibrary, GREETINGS_FOLDER, greetingSource } from './greeting-library';
export type { GreetingErrorKind } from './greeting-library';
export { removeOrphanGreetingFiles } from './orphans';
export type { GreetingOwner } from '../../store/greetings';
