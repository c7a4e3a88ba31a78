// Drafts of 代居民登记: a cadre may keep several (interrupted in one
// courtyard, called to the next). Each is its own IndexedDB entry
// dr:<id> = {id, form, photos: [Blob, already compressed], savedAt}, so
// a draft and its photos survive closing the app, a reload and no signal;
// filing a draft removes it.
import { toRaw } from 'vue';
import { newKey } from 'minsheng/api';
import { db } from './db.js';

const listeners = new Set();
function changed() {
  for (const fn of listeners) fn();
}

/** hasContent: an untouched form is no draft. */
export function hasContent(form, photos = []) {
  return photos.length > 0 || ['area', 'title', 'description', 'address', 'contact_name', 'contact_phone'].some((k) => String(form[k] || '').trim());
}

export const drafts = {
  onChange(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
  newId: () => newKey(),
  /** list returns the drafts, the most recently saved first. */
  async list() {
    await migrate();
    const all = (await db.prefixed('dr:')).map(([, v]) => v).filter(Boolean);
    return all.sort((a, b) => (b.savedAt || '').localeCompare(a.savedAt || ''));
  },
  get: (id) => db.get(`dr:${id}`),
  async save(id, form, photos) {
    const d = { id, form: JSON.parse(JSON.stringify(toRaw(form))), photos: photos.map((b) => toRaw(b)), savedAt: new Date().toISOString() };
    await db.set(`dr:${id}`, d);
    changed();
    return d;
  },
  async remove(id) {
    await db.del(`dr:${id}`);
    changed();
  },
};

// The app kept one draft (draft:file, draft:file:photos) before it kept
// several: it becomes the first of the list.
let migrated = false;
async function migrate() {
  if (migrated) return;
  migrated = true;
  const old = await db.get('draft:file');
  if (old?.form) {
    const id = newKey();
    await db.set(`dr:${id}`, { id, form: old.form, photos: (await db.get('draft:file:photos')) || [], savedAt: old.savedAt || new Date().toISOString() });
  }
  await db.del('draft:file');
  await db.del('draft:file:photos');
}
