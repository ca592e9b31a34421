/**
 * Main's side of the bridge: one `ipcMain.handle` per function of the contract in shared/bridge.ts. Every
 * call is checked twice before it reaches the implementation: it must come from one of the app's own pages,
 * and its arguments must match the contract's schemas.
 */
import { z } from 'zod';
import { AppSettings, BadgeCount, BRIDGE_CHANNELS, CallShortcutActions, RingingCallSchema, CachedHistoryQuery, CacheHistoryRequest, KeptSession, NotificationRequest, RegistrationStateSchema } from '../shared/bridge';
import type { BridgeCalls } from '../shared/bridge';
import { createLogger } from './log';

const log = createLogger('ipc');

type BridgeFunction = keyof BridgeCalls;

/** The argument list of each bridge function; a change to the contract that is not made here fails to compile. */
const ARGUMENT_SCHEMAS = {
  getAppInfo: z.tuple([]),
  getSettings: z.tuple([]),
  saveSettings: z.tuple([AppSettings]),
  setRegistrationState: z.tuple([RegistrationStateSchema]),
  notify: z.tuple([NotificationRequest]),
  setBadgeCount: z.tuple([BadgeCount]),
  setRingingCall: z.tuple([RingingCallSchema]),
  getCachedCallHistory: z.tuple([CachedHistoryQuery]),
  cacheCallHistory: z.tuple([CacheHistoryRequest]),
  setCallShortcuts: z.tuple([CallShortcutActions]),
  getKeptSession: z.tuple([]),
  keepSession: z.tuple([KeptSession]),
  forgetSession: z.tuple([]),
} satisfies { [F in BridgeFunction]: z.ZodType<Parameters<BridgeCalls[F]>> };

export interface IpcInvokeEventLike {
  readonly senderFrame: { readonly url: string } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void;
}

/**
 * @param isAppPage whether a frame URL is one of the app's own pages (see app-origin.ts); calls from any
 *   other page (a frame that navigated elsewhere, an injected iframe) are rejected.
 */
export function registerBridgeHandlers(ipcMain: IpcMainLike, impl: BridgeCalls, isAppPage: (url: string) => boolean): void {
  for (const name of Object.keys(BRIDGE_CHANNELS) as BridgeFunction[]) {
    const channel = BRIDGE_CHANNELS[name];
    const schema: z.ZodType<unknown[]> = ARGUMENT_SCHEMAS[name];
    ipcMain.handle(channel, async (event, ...args) => {
      const senderUrl = event.senderFrame?.url;
      if (senderUrl === undefined || !isAppPage(senderUrl)) {
        log.warn('bridge call from outside the app rejected', { channel, senderUrl });
        throw new Error(`${name} rejected: the caller is not an Offhook page`);
      }
      const parsed = schema.safeParse(args);
      if (!parsed.success) {
        log.warn('bridge call with invalid arguments rejected', { channel });
        throw new Error(`${name} rejected: ${describeIssues(parsed.error)}`);
      }
      log.debug('bridge call', { channel });
      const method = impl[name] as (...values: unknown[]) => unknown;
      return await Reflect.apply(method, impl, parsed.data);
    });
  }
}

/** `serverUrl: Invalid input: expected string, received number`, naming the field at fault. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map(describeIssue).join('; ');
}

function describeIssue(issue: z.core.$ZodIssue): string {
  // Every bridge function takes a fixed argument list, so a length problem is a wrong argument count.
  if (issue.path.length === 0 && issue.code === 'too_small') return `arguments: expected ${count(issue.minimum)}`;
  if (issue.path.length === 0 && issue.code === 'too_big') return `arguments: expected ${count(issue.maximum)}`;
  return `${fieldName(issue.path)}: ${issue.message}`;
}

function count(arguments_: number | bigint): string {
  return Number(arguments_) === 1 ? '1 argument' : `${Number(arguments_)} arguments`;
}

function fieldName(path: readonly PropertyKey[]): string {
  // The path starts at the argument list: [] is the list itself, [0] the first argument, [0, 'title'] a field of it.
  if (path.length === 0) return 'arguments';
  const [position, ...field] = path;
  if (field.length === 0) return `argument ${Number(position) + 1}`;
  return field.map(String).join('.');
}
