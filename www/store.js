// Saved work in IndexedDB (database "cnn-lab"), one record per exercise, nothing ever sent anywhere.
//   progress: { exercise, answers: { fieldKey: value }, checks: { checkId: { right, value } },
//               completed, updated }
//   models:   { key: "exercise/slot", exercise, slot, bytes: Blob (safetensors), meta, updated }
//             (the lab's per-epoch checkpoints and their meta: www/lab/saved-models.js)
//   data:     { key: "idx", files: { trainImages, trainLabels, testImages, testLabels } (the Files the
//             student picked, www/lab/widgets/idx-loader.js), sizes: { train, test }, updated }
// trackProgress(root, exercise) saves what the student types and every graded check inside `root`
// (an exercise's element), and restore() puts it back after a reload. Fields are keyed by their
// check, label and rank (keyed() below), which is stable because an exercise mounts the same DOM
// every time. Without IndexedDB (some private modes) everything still works, unsaved.

const DB = 'cnn-lab';
const VERSION = 2; // 2: the store "data"
let opening = null;

function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      if (!globalThis.indexedDB) return reject(new Error('IndexedDB is not available'));
      const req = indexedDB.open(DB, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('progress')) db.createObjectStore('progress', { keyPath: 'exercise' });
        if (!db.objectStoreNames.contains('models')) db.createObjectStore('models', { keyPath: 'key' });
        if (!db.objectStoreNames.contains('data')) db.createObjectStore('data', { keyPath: 'key' });
      };
      req.onsuccess = () => {
        // a later version of the lab opened in another tab: let it upgrade, open again on next use
        req.result.onversionchange = () => {
          req.result.close();
          opening = null;
        };
        resolve(req.result);
      };
      req.onerror = () => reject(req.error);
      req.onblocked = () => reject(new Error('IndexedDB upgrade blocked by another tab'));
    });
    opening.catch(() => { opening = null; });
  }
  return opening;
}

async function tx(storeName, mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const t = db.transaction(storeName, mode);
    const req = fn(t.objectStore(storeName));
    t.oncomplete = () => resolve(req?.result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new Error('transaction aborted'));
  });
}

export const loadProgress = (exercise) => tx('progress', 'readonly', (s) => s.get(exercise)).then((r) => r ?? null);
export const saveProgress = (record) => tx('progress', 'readwrite', (s) => s.put({ ...record, updated: Date.now() }));
export const clearProgress = (exercise) => tx('progress', 'readwrite', (s) => s.delete(exercise));

// Trained models as safetensors files (what the worker's exportModel returns), per exercise and slot.
// The file is stored as a Blob: IndexedDB then keeps a reference instead of serialising megabytes
// on the main thread (a deep VAE's checkpoint with Adam's moments is ~13 MB: 30 ms per put as a
// Uint8Array, a long task during training). Pass the worker's Blob (its epoch events' checkpoints,
// exportModel { blob: true }): making one here from a Uint8Array copies it, 10-20 ms for 13 MB.
// loadModel gives a Uint8Array back, read asynchronously; records saved as a Uint8Array by an
// earlier version are returned as they are.
export const saveModel = (exercise, slot, file, meta = {}) => {
  const bytes = file instanceof Blob ? file : new Blob([file]);
  return tx('models', 'readwrite', (s) => s.put({ key: `${exercise}/${slot}`, exercise, slot, bytes, meta, updated: Date.now() }));
};
export const loadModel = async (exercise, slot) => {
  const r = await tx('models', 'readonly', (s) => s.get(`${exercise}/${slot}`));
  if (r?.bytes instanceof Blob) r.bytes = new Uint8Array(await r.bytes.arrayBuffer());
  return r ?? null;
};
export const clearModel = (exercise, slot) => tx('models', 'readwrite', (s) => s.delete(`${exercise}/${slot}`));
// Every slot of the exercise (its keys are "exercise/slot").
export const clearModels = (exercise) =>
  tx('models', 'readwrite', (s) => s.delete(IDBKeyRange.bound(`${exercise}/`, `${exercise}/\uffff`)));

// The student's own MNIST: the four IDX files as picked (Files: IndexedDB keeps them by reference
// and copies them off the main thread), used again after a reload (www/lab/engine-client.js data()).
export const saveDigits = (files, sizes) => tx('data', 'readwrite', (s) => s.put({ key: 'idx', files, sizes, updated: Date.now() }));
export const loadDigits = () => tx('data', 'readonly', (s) => s.get('idx')).then((r) => r ?? null);
export const clearDigits = () => tx('data', 'readwrite', (s) => s.delete('idx'));

const FIELD_TYPES = new Set(['text', 'number', 'radio', 'checkbox', 'search', '']);

function fields(root) {
  return [...root.querySelectorAll('input, select, textarea')].filter(
    (el) => !el.closest('[data-no-persist]') && (el.tagName !== 'INPUT' || FIELD_TYPES.has(el.getAttribute('type') ?? '')),
  );
}

// A field's stable name: the graded check it belongs to (if any), its label, and its rank among the
// fields with the same two. Unlike a position among all fields it survives the form changing shape
// elsewhere (exercise 5's layer list grows and shrinks with its preset).
function keyed(root) {
  const seen = new Map();
  return fields(root).map((el) => {
    const check = el.closest('form[data-check]')?.dataset.check ?? '';
    const label = (el.labels?.[0]?.textContent || el.getAttribute('aria-label') || el.name || el.type || el.tagName).trim();
    const base = `${check}|${label}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return [`${base}|${n}`, el];
  });
}

const fieldValue = (el) => (el.type === 'radio' || el.type === 'checkbox' ? el.checked : el.value);

function setField(el, v) {
  if (el.type === 'radio' || el.type === 'checkbox') {
    if (el.checked === !!v) return false;
    el.checked = !!v;
  } else {
    if (el.value === String(v)) return false;
    // a menu whose options changed since (or a field moved): never select what it does not offer
    if (el.tagName === 'SELECT' && ![...el.options].some((o) => o.value === String(v))) return false;
    el.value = String(v);
  }
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
  return true;
}

// The graded questions of an exercise: all of them right means the exercise is completed.
export const checkIds = (root) => [...root.querySelectorAll('form[data-check]')].map((f) => f.dataset.check);

// Starts saving; returns { restore(), record(), restoring(), stop() }. onCheck(detail, record) is called
// for checks the student answers (not for the ones restore() re-grades).
export function trackProgress(root, exercise, { onCheck, delayMs = 150 } = {}) {
  let record = { exercise, answers: {}, checks: {}, completed: false };
  let restoring = false;
  let timer = null;
  const persist = () => saveProgress(record).catch((e) => console.warn(`cnn-lab: progress not saved: ${e.message}`));
  const onField = (e) => {
    if (restoring) return;
    const list = keyed(root);
    const at = list.find(([, el]) => el === e.target);
    if (!at) return;
    if (e.target.type === 'radio') list.forEach(([k, el]) => { if (el.type === 'radio' && el.name === e.target.name) record.answers[k] = el.checked; });
    else record.answers[at[0]] = fieldValue(e.target);
    clearTimeout(timer);
    timer = setTimeout(persist, delayMs);
  };
  const onGraded = (e) => {
    if (restoring || !e.detail || typeof e.detail.id !== 'string') return;
    const { id, right, value } = e.detail;
    record.checks[id] = { right: !!right, value };
    const ids = checkIds(root);
    const justCompleted = !record.completed && ids.length > 0 && ids.every((c) => record.checks[c]?.right);
    if (justCompleted) record.completed = true;
    clearTimeout(timer);
    persist();
    onCheck?.(e.detail, record, justCompleted);
  };
  root.addEventListener('input', onField, true);
  root.addEventListener('change', onField, true);
  root.addEventListener('lab-check', onGraded);

  return {
    record: () => record,
    restoring: () => restoring,
    async restore() {
      let saved = null;
      try {
        saved = await loadProgress(exercise);
      } catch (e) {
        console.warn(`cnn-lab: saved progress unavailable: ${e.message}`);
      }
      if (!saved) return false;
      record = { exercise, answers: saved.answers || {}, checks: saved.checks || {}, completed: !!saved.completed };
      restoring = true;
      try {
        // In page order, and listed again after every change: a field may rebuild part of the form
        // (exercise 5's preset menu replaces the layer list) before the fields after it are set.
        const left = new Map(Object.entries(record.answers));
        for (let changed = true; changed && left.size; ) {
          changed = false;
          for (const [k, el] of keyed(root)) {
            if (!left.has(k)) continue;
            const v = left.get(k);
            left.delete(k);
            if (setField(el, v)) {
              changed = true;
              break;
            }
          }
        }
        for (const id of Object.keys(record.checks)) {
          const form = root.querySelector(`form[data-check="${CSS.escape(id)}"]`);
          if (form) form.requestSubmit();
        }
      } finally {
        restoring = false;
      }
      return true;
    },
    stop() {
      clearTimeout(timer);
      root.removeEventListener('input', onField, true);
      root.removeEventListener('change', onField, true);
      root.removeEventListener('lab-check', onGraded);
    },
  };
}
