/**
 * Hash history, because the same build is loaded from file:// by the desktop app and served at / by the PBX;
 * neither needs the server to know the app's paths.
 */
import { watch } from 'vue';
import { createRouter, createWebHashHistory } from 'vue-router';
import type { RouteComponent, RouteRecordRaw } from 'vue-router';
import { loadAnsweringRulesView } from './features/answering-rules';
import { PhoneView } from './features/dialer';
import { loadGreetingsView } from './features/greetings';
import { loadCallHistoryView } from './features/history';
import { loadSettingsView } from './features/settings';
import { SignInView, useSessionStore } from './features/sign-in';
import { loadVoicemailView } from './features/voicemail';
import { SECTIONS } from './sections';

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean;
    title?: string;
  }
}

/**
 * The view of each built section; the others show their "coming soon" sentence. Sign-in and Phone are the first
 * screen and load with the app; every other pane is fetched when first opened, so that the first screen does not
 * wait for them (its size is printed by `BENCH_ONLY=webphone npm run bench`).
 */
const VIEWS: Record<string, RouteComponent | (() => Promise<{ default: RouteComponent }>)> = {
  phone: PhoneView,
  history: loadCallHistoryView,
  voicemail: loadVoicemailView,
  greetings: loadGreetingsView,
  settings: loadSettingsView,
  'answering-rules': loadAnsweringRulesView,
};
const loadComingSoonView = () => import('./ui/ComingSoonView.vue');

const sectionRoutes: RouteRecordRaw[] = SECTIONS.map((section) =>
  section.comingSoon === undefined
    ? { path: `/${section.id}`, name: section.id, component: VIEWS[section.id] ?? PhoneView, meta: { title: section.title } }
    : {
        path: `/${section.id}`,
        name: section.id,
        component: loadComingSoonView,
        props: { title: section.title, message: section.comingSoon },
        meta: { title: section.title },
      },
);

export function createAppRouter() {
  const router = createRouter({
    history: createWebHashHistory(),
    routes: [
      { path: '/', redirect: { name: 'phone' } },
      { path: '/sign-in', name: 'sign-in', component: SignInView, meta: { public: true, title: 'Sign in' } },
      ...sectionRoutes,
      { path: '/:unknown(.*)*', redirect: { name: 'phone' } },
    ],
  });

  router.beforeEach(async (to) => {
    const session = useSessionStore();
    // At start, a kept session being renewed decides where the first route goes (resume.ts); later this is settled.
    await session.untilResumed();
    if (!to.meta.public && !session.signedIn) return { name: 'sign-in' };
    if (to.name === 'sign-in' && session.signedIn) return { name: 'phone' };
    return true;
  });

  // A session that ends while the app is open (signed out elsewhere, expired) shows the sign-in form, with the
  // store's sentence, wherever the person was.
  watch(
    () => useSessionStore().signedIn,
    (signedIn) => {
      if (!signedIn && !router.currentRoute.value.meta.public) void router.push({ name: 'sign-in' });
    },
  );

  return router;
}
