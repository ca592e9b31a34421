/** Registration of this device with the PBX, as every part of the app shows it. */
export const REGISTRATION_STATES = ['unregistered', 'registering', 'registered', 'failed'] as const;
export type RegistrationState = (typeof REGISTRATION_STATES)[number];

export const REGISTRATION_LABELS: Record<RegistrationState, string> = {
  unregistered: 'Not registered',
  registering: 'Registering…',
  registered: 'Registered',
  failed: 'Registration failed',
};
