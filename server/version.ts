/** Injected by the build from package.json; tests run from source see the development marker. */
declare const __OFFHOOK_VERSION__: string | undefined;
export const PBX_VERSION: string = typeof __OFFHOOK_VERSION__ === 'string' ? __OFFHOOK_VERSION__ : '0.0.0-dev';
