/** The calls layer's public entry: the engine, the call and its parts, and what features may do with calls. */
export { CallEngine } from './call-engine';
export type { CallEngineDeps, ReplacingInviteHandler } from './call-engine';
export { Call, REJOIN_GRACE_MS, RING_TIMEOUT_MS } from './call';
export type {
  Attempt,
  AttemptHandlers,
  CallDisposition,
  ConferenceJoin,
  CallEngineEvents,
  CallState,
  CallStateChangedEvent,
  Codec,
  DialogEntry,
  Fork,
  Line,
  LineIdentity,
  LineState,
  Party,
  PendingTransfer,
} from './call';
export { ALLOW, isSdp, recordRoute, sameCodec, SUPPORTED } from './call-messages';
export type { CallControl } from './control';
export { hangUpCallsLeftByCrash } from './call-recovery';
export { CallFeed, callEventFor } from './call-feed';
export type {
  AnsweringPlan,
  AnsweringPlanner,
  CallServices,
  Destination,
  DialDecision,
  Dialplan,
  DialPolicy,
  Diversion,
  ScreenedCaller,
  ServiceCall,
  ServiceCaller,
  ServiceUser,
  VoicemailReason,
} from './ports';
export { VOICEMAIL_END_REASON } from './answering';
