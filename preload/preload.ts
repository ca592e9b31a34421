/**
 * Runs before the renderer in its sandbox and gives it `window.offhook`, the bridge contract from
 * shared/bridge.ts. ipcRenderer itself stays here.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_GLOBAL } from '../shared/bridge';
import { createPreloadBridge } from './bridge';

contextBridge.exposeInMainWorld(
  BRIDGE_GLOBAL,
  createPreloadBridge((channel, ...args) => ipcRenderer.invoke(channel, ...args)),
);
