/**
 * Hash history, because the same build is loaded from file:// by the desktop app and served at / by the PBX;
 * neither needs the server to know the app's paths.
 */
import { createRouter, createWebHashHistory } from 'vue-router';
import type { RouteRecordRaw } from 'vue-router';
import type { Component } from 'vue';
import { PhoneView } from './features/dialer';
import { CallHistoryView } from './features/history';
import { SettingsView } from './features/settings';
import { SignInView, useSessionStore } from './features/sign-in';
import { SECTIONS } from './sections';
import ComingSoonView from './ui/ComingSoonView.vue';

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean;
    title?: string;
  }
}

/** The view of each built section; the others show their "coming soon" sentence. */
const VIEWS: Record<string, Component> = {
  phone: PhoneView,
  history: CallHistoryView,
  settings: SettingsView,
};

const sectionRoutes: RouteRecordRaw[] = SECTIONS.map((section) =>
  section.comingSoon === undefined
    ? { path: `/${section.id}`, name: section.id, component: VIEWS[section.id] ?? PhoneView, meta: { title: section.title } }
    : {
        path: `/${section.id}`,
        name: section.id,
        component: ComingSoonView,
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

  router.beforeEach((to) => {
    const session = useSessionStore();
    if (!to.meta.public && !session.signedIn) return { name: 'sign-in' };
    if (to.name === 'sign-in' && session.signedIn) return { name: 'phone' };
    return true;
  });

  return router;
}
