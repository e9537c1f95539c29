/**
 * Offline use: a service worker (public/sw.js) keeps the app, its engines and the bundled model in
 * the Cache API once the page has loaded; models loaded from other URLs are cached as they are
 * fetched. Registration failing (e.g. a plain-file page) only costs the offline mode.
 */
export function registerOfflineCache(): void {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  navigator.serviceWorker.register(new URL('sw.js', document.baseURI).href).catch((err: Error) => console.warn(`offline cache unavailable: ${err.message}`));
}
