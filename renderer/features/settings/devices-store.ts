/**
 * The audio devices: what the system has, what the person chose (remembered by device id in the app settings),
 * and what is used now. A chosen device that is unplugged gives way to the system default until it comes back,
 * which `navigator.mediaDevices`' devicechange event tells us; whoever watches (the phone store) then moves calls
 * in progress over.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { AppSettings } from '../../../shared/bridge';
import { createLogger } from '../../log';
import type { CallDevices } from '../../phone/engine';
import { playRingtone, playTestTone } from '../../phone/tones';
import type { PlayingSound } from '../../phone/tones';
import { useSettingsStore } from './settings-store';

const log = createLogger('devices');

export type DeviceRole = 'microphone' | 'speaker' | 'ringer';

/** A MediaDeviceInfo reduced to plain data, safe to keep in a store. */
export interface AudioDevice {
  deviceId: string;
  kind: 'audioinput' | 'audiooutput';
  label: string;
}

/** In use: the call devices and the ringer, each undefined for the system default. */
export interface DeviceChoice extends CallDevices {
  ringerId?: string;
}

const SETTING_FOR: Record<DeviceRole, 'microphoneId' | 'speakerId' | 'ringerId'> = {
  microphone: 'microphoneId',
  speaker: 'speakerId',
  ringer: 'ringerId',
};

/** The system's devices, for tests to replace. */
export interface MediaDevicesPort {
  enumerateDevices(): Promise<Array<Pick<MediaDeviceInfo, 'deviceId' | 'kind' | 'label'>>>;
  addEventListener(type: 'devicechange', listener: () => void): void;
  removeEventListener(type: 'devicechange', listener: () => void): void;
}

function systemMediaDevices(): MediaDevicesPort | undefined {
  return globalThis.navigator?.mediaDevices;
}

export const useDevicesStore = defineStore('devices', () => {
  const devices = ref<AudioDevice[]>([]);
  /** True once the system has listed its devices at least once. */
  const listed = ref(false);
  let port: MediaDevicesPort | undefined;
  let listeners: Array<(choice: DeviceChoice) => void> = [];
  let last: DeviceChoice | undefined;

  const microphones = computed(() => devices.value.filter((device) => device.kind === 'audioinput'));
  const outputs = computed(() => devices.value.filter((device) => device.kind === 'audiooutput'));
  /** Browsers list outputs only where they can route to them (setSinkId); elsewhere only the default plays. */
  const canChooseOutput = computed(() => outputs.value.length > 0);
  /** Browsers hide device names until the page may use the microphone. */
  const hasLabels = computed(() => devices.value.some((device) => device.label !== ''));

  function chosen(role: DeviceRole): string | undefined {
    return useSettingsStore().settings[SETTING_FOR[role]];
  }

  /** The chosen device while it is plugged in, else the system default (undefined). */
  function inUse(role: DeviceRole): string | undefined {
    const id = chosen(role);
    if (!id || id === 'default') return undefined;
    const kind = role === 'microphone' ? 'audioinput' : 'audiooutput';
    return devices.value.some((device) => device.kind === kind && device.deviceId === id) ? id : undefined;
  }

  const choice = computed<DeviceChoice>(() => ({
    microphoneId: inUse('microphone'),
    speakerId: inUse('speaker'),
    ringerId: inUse('ringer'),
  }));

  /** Asks the system for its devices again, and tells the watchers when what is in use has changed. */
  async function refresh(): Promise<void> {
    const source = port ?? systemMediaDevices();
    if (!source) return;
    try {
      const found = await source.enumerateDevices();
      devices.value = found
        .filter((device) => device.kind === 'audioinput' || device.kind === 'audiooutput')
        .map((device) => ({ deviceId: device.deviceId, kind: device.kind as AudioDevice['kind'], label: device.label }));
      listed.value = true;
    } catch (error) {
      log.warn('could not list the audio devices', { error: error instanceof Error ? error.message : String(error) });
    }
    announce();
  }

  function announce(): void {
    const now = choice.value;
    if (
      last &&
      last.microphoneId === now.microphoneId &&
      last.speakerId === now.speakerId &&
      last.ringerId === now.ringerId
    ) {
      return;
    }
    log.debug('in use', { microphone: now.microphoneId ?? 'default', speaker: now.speakerId ?? 'default', ringer: now.ringerId ?? 'default' });
    last = { ...now };
    for (const listener of listeners) listener({ ...now });
  }

  /** Remembers the person's choice (undefined: the system default) and applies it at once. */
  async function choose(role: DeviceRole, deviceId: string | undefined): Promise<void> {
    const patch: AppSettings = { [SETTING_FOR[role]]: deviceId ?? 'default' };
    await useSettingsStore().save(patch);
    announce();
  }

  let testSound: PlayingSound | undefined;

  /** A test tone on the speaker, or the chosen ringtone at the chosen volume on the ringer. */
  function playTest(role: 'speaker' | 'ringer'): void {
    testSound?.stop();
    if (role === 'speaker') {
      testSound = playTestTone(choice.value.speakerId);
    } else {
      const settings = useSettingsStore().settings;
      testSound = playRingtone({
        ringtone: settings.ringtone ?? 'classic',
        volume: settings.ringVolume ?? 0.8,
        deviceId: choice.value.ringerId,
      });
    }
  }

  /**
   * Follows the system's devices from now on and calls `listener` with the devices to use, now and whenever they
   * change. Returns the function that stops following.
   */
  function watch(listener: (choice: DeviceChoice) => void, source?: MediaDevicesPort): () => void {
    if (source) port = source;
    listeners.push(listener);
    const target = port ?? systemMediaDevices();
    const onChange = () => void refresh();
    target?.addEventListener('devicechange', onChange);
    last = { ...choice.value };
    listener({ ...last });
    void refresh();
    return () => {
      target?.removeEventListener('devicechange', onChange);
      listeners = listeners.filter((other) => other !== listener);
      if (listeners.length === 0) last = undefined;
    };
  }

  return {
    devices,
    listed,
    microphones,
    outputs,
    canChooseOutput,
    hasLabels,
    choice,
    chosen,
    refresh,
    choose,
    playTest,
    watch,
  };
});
