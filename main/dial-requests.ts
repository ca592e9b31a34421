/**
 * Links the OS hands the app (tel:, sip:, callto:) on the command line of the first or a second launch, or
 * through macOS's open-url, go to the renderer as dial requests. A link that arrives before the renderer
 * has loaded waits for it; a link that is not one we can dial is logged and dropped.
 */
import type { DialLink } from '../shared/dial-links';
import { findDialLink, parseDialLink } from '../shared/dial-links';
import { createLogger } from './log';

const log = createLogger('dial-requests');

export class DialRequestRouter {
  private ready = false;
  private pending: DialLink | undefined;

  /** @param send delivers one request to the renderer (webContents.send on the event channel). */
  constructor(private readonly send: (link: DialLink) => void) {}

  /** A command line, e.g. `offhook tel:+15551234567`. */
  fromArgv(argv: readonly string[]): void {
    const link = findDialLink(argv);
    if (link) this.deliver(link);
  }

  /** One link, e.g. from macOS's open-url. */
  fromUrl(url: string): void {
    const link = parseDialLink(url);
    if (link) this.deliver(link);
    else log.warn('ignored a link that cannot be dialled');
  }

  /** The renderer has loaded (or reloaded) and listens now. */
  rendererReady(): void {
    this.ready = true;
    const waiting = this.pending;
    this.pending = undefined;
    if (waiting) this.send(waiting);
  }

  /** The renderer is reloading: hold requests until it is ready again. */
  rendererGone(): void {
    this.ready = false;
  }

  private deliver(link: DialLink): void {
    log.debug('dial request', { scheme: link.scheme });
    // Only the newest link matters: a person who clicked two links wants the second.
    if (this.ready) this.send(link);
    else this.pending = link;
  }
}
