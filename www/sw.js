// Offline support: every same-origin GET is fetched from the network first (so an online student
// always gets the current site) and stored in the cache; when the network fails, the cached copy
// answers. The page (www/sw-register.js) also sends the URLs it loaded before this worker took
// control, and at install the worker caches precache.json's list where the build provides one.
// Nothing is ever sent anywhere: the worker only reads from this site.

const CACHE = 'cnn-lab-v1';

async function cacheAll(urls) {
  const cache = await caches.open(CACHE);
  await Promise.all(
    [...new Set(urls)].map(async (u) => {
      const url = new URL(u, self.location.href);
      if (url.origin !== self.location.origin) return;
      try {
        const res = await fetch(url, { cache: 'no-cache' });
        if (res.ok) await cache.put(url, res);
      } catch {
        // offline while caching: the next online visit fills it in
      }
    }),
  );
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      try {
        const res = await fetch(new URL('./precache.json', self.location.href), { cache: 'no-cache' });
        if (res.ok) {
          const list = await res.json();
          if (Array.isArray(list)) await cacheAll(list.filter((u) => typeof u === 'string'));
        }
      } catch {
        // no precache list: runtime caching only
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key.startsWith('cnn-lab-') && key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  const m = event.data;
  if (m && m.type === 'cache-urls' && Array.isArray(m.urls)) {
    event.waitUntil(cacheAll(m.urls.filter((u) => typeof u === 'string').slice(0, 2000)));
  }
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const res = await fetch(req);
        if (res.status === 200 && res.type === 'basic') await cache.put(req, res.clone()).catch(() => {});
        return res;
      } catch (err) {
        const hit = await cache.match(req, { ignoreVary: true });
        if (hit) return hit;
        throw err;
      }
    })(),
  );
});
