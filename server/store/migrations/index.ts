/**
 * Every migration, in the order they run. Imported statically rather than read from a folder, because
 * the server ships as one bundle. Names sort in order (Kysely's Migrator sorts them) and never change once
 * released: a database records the names it has run.
 */
import type { Migration } from 'kysely';
import { initial } from './001_initial';
import { deviceCredentials } from './002_device_credentials';
import { durableState } from './003_durable_state';
import { eventStream } from './004_event_stream';
import { answeringRules } from './005_answering_rules';
import { voicemail } from './006_voicemail';
import { transcripts } from './007_transcripts';
import { greetings } from './008_greetings';
import { doNotDisturb } from './009_do_not_disturb';

export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '001_initial': initial,
  '002_device_credentials': deviceCredentials,
  '003_durable_state': durableState,
  '004_event_stream': eventStream,
  '005_answering_rules': answeringRules,
  '006_voicemail': voicemail,
  '007_transcripts': transcripts,
  '008_greetings': greetings,
  '009_do_not_disturb': doNotDisturb,
};
