// Sets the light or dark theme on <html> before the first paint, from the choice the app keeps in localStorage
// (renderer/ui/theme.ts writes it and keeps the theme in step afterwards). A plain script, so it runs before
// anything is drawn; the content security policy allows it as a file of the app's own.
/* global window, document */
(function () {
  var choice = null;
  try {
    choice = window.localStorage.getItem('offhook.theme');
  } catch {
    choice = null;
  }
  var systemDark = !!(window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches);
  var dark = choice === 'dark' || (choice !== 'light' && systemDark);
  document.documentElement.setAttribute('data-theme', dark ? 'dark' : 'light');
})();
