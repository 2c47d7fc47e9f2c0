// The app shell, kept on the device so Vereda opens with no connection. Hashed assets never
// change, so they are served from the cache; the page itself is fetched fresh when possible
// and from the cache otherwise. The API (/v1) is never cached here: the app keeps its own
// data in IndexedDB.
const VERSION = '__VERSION__';
const SHELL = __SHELL__;
const CACHE = `vereda-shell-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('vereda-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/v1/') || url.pathname.startsWith('/docs') || url.pathname === '/openapi.json') return;
  // The public verification page and the privacy notice are pages of their own, never the
  // app's shell (caching them as '/' would replace the app offline).
  if (url.pathname === '/verificar' || url.pathname.startsWith('/verificar/')) return;
  if (url.pathname === '/privacidad') return;
  if (req.mode === 'navigate' || url.pathname === '/') {
    event.respondWith(
      fetch(req)
        .then((resp) => {
          if (resp.ok) {
            const copy = resp.clone();
            caches.open(CACHE).then((c) => c.put('/', copy));
          }
          return resp;
        })
        .catch(() => caches.match('/', { cacheName: CACHE }).then((r) => r || caches.match('/'))),
    );
    return;
  }
  event.respondWith(caches.match(req).then((hit) => hit || fetch(req)));
});
