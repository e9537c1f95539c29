// Offline cache of the srdiff web app: on install, everything the build lists in precache.json
// (the page, its scripts and engines, the bundled demo model and sample); afterwards every
// same-origin GET is answered from the cache first, and what the network brings (a model from a
// URL of this origin) is kept. Headers are kept too, so the page stays cross-origin isolated.
const PREFIX = 'srdiff-web-';

async function precacheList() {
  const response = await fetch('precache.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`precache.json: HTTP ${response.status}`);
  return response.json();
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const { version, files } = await precacheList();
      const cache = await caches.open(PREFIX + version);
      await cache.addAll(['./', ...files]);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const { version } = await precacheList().catch(() => ({ version: undefined }));
      if (version) for (const name of await caches.keys()) if (name.startsWith(PREFIX) && name !== PREFIX + version) await caches.delete(name);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    (async () => {
      const cached = await caches.match(request, { ignoreSearch: request.mode === 'navigate' });
      if (cached) return cached;
      const response = await fetch(request);
      if (response.ok && response.type === 'basic') {
        const names = (await caches.keys()).filter((n) => n.startsWith(PREFIX));
        if (names.length) (await caches.open(names[names.length - 1])).put(request, response.clone());
      }
      return response;
    })(),
  );
});
