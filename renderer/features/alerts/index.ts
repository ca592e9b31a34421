/**
 * Telling the person a call rings when they are not looking at it: the offer to turn on the web phone's
 * notifications (asked at a moment that makes sense, never at load), the screen-reader announcement of an incoming
 * call, and where the focus may go when one arrives. The tab's title and icon while ringing are the web bridge's
 * (renderer/bridge/web-bridge.ts), as the tray is the desktop app's. Other features reach these only through this file.
 */
export { useNotificationOfferStore, browserPermissionPort, OFFER_DISMISSED_KEY } from './notification-offer-store';
export type { NotificationPermissionPort, PermissionState } from './notification-offer-store';
export { incomingAnnouncement, mayTakeFocusForRinging } from './incoming-call';
export { default as NotificationOffer } from './NotificationOffer.vue';
export { default as NotificationsSetting } from './NotificationsSetting.vue';
