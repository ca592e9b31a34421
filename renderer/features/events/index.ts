/**
 * Live events from the PBX: the store other features subscribe to (`useEventsStore().on('call', …)`). Other
 * features reach the stream only through this file.
 */
export { useEventsStore } from './events-store';
export type { EventsStartOptions } from './events-store';
export type { StreamStatus } from './event-stream';
