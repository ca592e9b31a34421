/**
 * The sections of the navigation pane, in the order the product lists them. Sections that are not built yet say so plainly rather than show made-up data.
 */
export interface Section {
  /** Route name, path segment and key. */
  id: string;
  /** The link's text, which is also its accessible name. */
  title: string;
  /** Shown on a section that is not built yet. */
  comingSoon?: string;
}

export const SECTIONS: readonly Section[] = [
  { id: 'phone', title: 'Phone' },
  { id: 'contacts', title: 'Contacts', comingSoon: 'Contacts are coming in a later version of Offhook.' },
  { id: 'history', title: 'Call History' },
  { id: 'voicemail', title: 'Voicemail' },
  { id: 'chat', title: 'Chat and SMS', comingSoon: 'Chat and SMS are coming in a later version of Offhook.' },
  { id: 'answering-rules', title: 'Answering Rules' },
  { id: 'greetings', title: 'Greetings' },
  { id: 'park', title: 'Call Park', comingSoon: 'Call park is coming in a later version of Offhook.' },
  { id: 'call-center', title: 'Call Center', comingSoon: 'Call center is coming in a later version of Offhook.' },
  { id: 'settings', title: 'Settings' },
];
