/**
 * The phone engine over JsSIP, the one entry to `phone/jssip/`: the only folder of Offhook that imports JsSIP
 * (a lint rule keeps it so). The rest of the renderer knows the engine by the `PhoneEngine` port in
 * `../engine.ts` alone.
 */
export { createJsSipEngine } from './phone-engine';
export type { JsSipEngineOptions } from './phone-engine';
