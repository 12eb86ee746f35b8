// Registers the offline service worker (www/sw.js) and hands it the URLs this page has already
// loaded, so that they are cached although they were fetched before the worker was in control.
//   import { registerServiceWorker } from './www/sw-register.js';
//   registerServiceWorker();                       // www/sw.js, scope www/
//   registerServiceWorker({ url: './sw.js' });     // a copy at the site root controls the whole site
// Resolves to the registration, or null where service workers are unavailable (http: other than
// localhost, some private modes): the lab then simply works online only.

export async function registerServiceWorker({ url = new URL('./sw.js', import.meta.url), scope } = {}) {
  if (!('serviceWorker' in navigator)) return null;
  try {
    const reg = await navigator.serviceWorker.register(url, scope ? { scope } : {});
    const ready = await navigator.serviceWorker.ready;
    const urls = [
      location.href,
      ...performance.getEntriesByType('resource').map((e) => e.name),
    ].filter((u) => new URL(u).origin === location.origin);
    ready.active?.postMessage({ type: 'cache-urls', urls });
    return reg;
  } catch (e) {
    console.warn(`cnn-lab: offline support unavailable: ${e.message}`);
    return null;
  }
}
