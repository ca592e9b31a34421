/**
 * The audio edge for unit tests: a ringer that records when it rings, and a system device list that tests plug
 * devices into and out of.
 */
import type { RingOptions, Ringer } from '../phone/tones';
import type { MediaDevicesPort } from '../features/settings';

export class FakeRinger implements Ringer {
  ringing = false;
  readonly log: string[] = [];
  lastOptions: RingOptions | undefined;

  start(options: RingOptions): void {
    if (this.ringing) return;
    this.ringing = true;
    this.lastOptions = options;
    this.log.push(`ring ${options.ringtone} on ${options.deviceId ?? 'default'}`);
  }

  stop(): void {
    if (!this.ringing) return;
    this.ringing = false;
    this.log.push('stop');
  }
}

type Device = { deviceId: string; kind: MediaDeviceKind; label: string };

export class FakeMediaDevices implements MediaDevicesPort {
  devices: Device[] = [
    { deviceId: 'default', kind: 'audioinput', label: 'Default' },
    { deviceId: 'default', kind: 'audiooutput', label: 'Default' },
  ];
  private listeners = new Set<() => void>();

  async enumerateDevices(): Promise<Device[]> {
    return this.devices.map((device) => ({ ...device }));
  }

  addEventListener(_type: 'devicechange', listener: () => void): void {
    this.listeners.add(listener);
  }

  removeEventListener(_type: 'devicechange', listener: () => void): void {
    this.listeners.delete(listener);
  }

  plugIn(device: Device): void {
    this.devices.push(device);
    for (const listener of this.listeners) listener();
  }

  unplug(deviceId: string): void {
    this.devices = this.devices.filter((device) => device.deviceId !== deviceId);
    for (const listener of this.listeners) listener();
  }
}
