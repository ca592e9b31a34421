import { describe, expect, it } from 'vitest';
import type { DialLink } from '../shared/dial-links';
import { DialRequestRouter } from './dial-requests';

describe('DialRequestRouter', () => {
  it('holds a link from the first launch until the renderer is ready, keeping the newest', () => {
    const sent: DialLink[] = [];
    const router = new DialRequestRouter((link) => sent.push(link));
    router.fromArgv(['/opt/Offhook/offhook', 'tel:+1 555 000 1111']);
    router.fromArgv(['/opt/Offhook/offhook', 'tel:+1 555 000 2222']);
    expect(sent).toEqual([]);
    router.rendererReady();
    expect(sent).toEqual([{ target: '+15550002222', scheme: 'tel' }]);
  });

  it('sends links at once while the renderer listens, and ignores what is not a dial link', () => {
    const sent: DialLink[] = [];
    const router = new DialRequestRouter((link) => sent.push(link));
    router.rendererReady();
    router.fromUrl('sip:102@demo.offhook.test');
    router.fromUrl('https://example.com');
    router.fromArgv(['/opt/Offhook/offhook', '--flag']);
    expect(sent).toEqual([{ target: '102', scheme: 'sip' }]);
  });

  it('waits again while the renderer reloads', () => {
    const sent: DialLink[] = [];
    const router = new DialRequestRouter((link) => sent.push(link));
    router.rendererReady();
    router.rendererGone();
    router.fromUrl('callto:+15551234567');
    expect(sent).toEqual([]);
    router.rendererReady();
    expect(sent).toEqual([{ target: '+15551234567', scheme: 'callto' }]);
  });
});
