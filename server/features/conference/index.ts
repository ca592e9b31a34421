/** Conference: merging calls into one mixed at the PBX, and removing a party from it. */
export { ConferenceService, MAX_CONFERENCE_PARTIES } from './conference-service';
export type { ConferenceCommands, ConferenceOutcome, ConferencingUser } from './conference-service';
