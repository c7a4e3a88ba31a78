// The app's IndexedDB (idb-keyval): one store for everything kept on the
// phone — the outbox, synced cases, the sync cursor, drafts.
import { createStore, get, set, del, keys, getMany } from 'idb-keyval';

const store = createStore('minsheng-m', 'kv');

export const db = {
  get: (k) => get(k, store),
  set: (k, v) => set(k, v, store),
  del: (k) => del(k, store),
  keys: () => keys(store),
  getMany: (ks) => getMany(ks, store),
  /** prefixed returns [key, value] pairs whose key starts with p, sorted by key. */
  async prefixed(p) {
    const ks = (await keys(store)).filter((k) => typeof k === 'string' && k.startsWith(p)).sort();
    const vs = await getMany(ks, store);
    return ks.map((k, i) => [k, vs[i]]);
  },
};
