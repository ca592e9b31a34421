/**
 * One running app per user: a second launch (a click on a tel:/sip: link on Windows and Linux, or the app
 * started again) hands its command line to the first instance and exits.
 */
import { createLogger } from './log';

const log = createLogger('single-instance');

export interface SecondLaunch {
  argv: string[];
  workingDirectory: string;
}

export interface SingleInstanceApp {
  requestSingleInstanceLock(): boolean;
  on(event: 'second-instance', listener: (event: unknown, argv: string[], workingDirectory: string) => void): unknown;
}

/**
 * Returns true when this process is the app's only instance; false means another instance already runs,
 * has been told about this launch, and this process should quit.
 */
export function acquireSingleInstance(app: SingleInstanceApp, onSecondInstance: (launch: SecondLaunch) => void): boolean {
  if (!app.requestSingleInstanceLock()) {
    log.info('another instance is running; handing over to it');
    return false;
  }
  app.on('second-instance', (_event, argv, workingDirectory) => {
    log.debug('second launch', { argv });
    onSecondInstance({ argv: [...argv], workingDirectory });
  });
  return true;
}
