// Tiny DOM builder: h('button', { class: 'x', on: { click: f }, 'aria-label': 'y' }, 'text', child).
// Never uses innerHTML, so nothing here needs an HTML sanitizer or inline handlers (strict CSP).

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === 'on') {
      for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    } else if (key === 'class') {
      el.className = value;
    } else if (key === 'style') {
      Object.assign(el.style, value);
    } else if (key === 'text') {
      el.textContent = value;
    } else if (key in el && !key.includes('-') && typeof value !== 'string') {
      el[key] = value;
    } else if (key === 'value' || key === 'checked') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let uid = 0;
export function uniqueId(prefix = 'lab') {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled form control: returns { wrap, input }. The label is a real <label for>.
export function field(labelText, input, hint) {
  if (!input.id) input.id = uniqueId('f');
  const wrap = h('div', { class: 'field' }, h('label', { for: input.id, text: labelText }), input);
  if (hint) {
    const hid = uniqueId('hint');
    wrap.append(h('span', { class: 'field-hint', id: hid, text: hint }));
    input.setAttribute('aria-describedby', hid);
  }
  return { wrap, input };
}

export function numberInput({ value, min, max, step = 1, label }) {
  return h('input', { type: 'number', value: String(value), min, max, step, inputmode: 'numeric', 'aria-label': label });
}

export function select(options, value) {
  const el = h('select', {});
  for (const o of options) {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    el.append(h('option', { value: String(v), text }));
  }
  if (value != null) el.value = String(value);
  return el;
}

export function clamp(x, lo, hi) {
  return Math.min(hi, Math.max(lo, x));
}

// Reads an integer from a number input, clamped to its min/max; falls back when empty.
export function intOf(input, fallback) {
  const v = parseInt(input.value, 10);
  if (!Number.isFinite(v)) return fallback;
  const lo = input.min === '' ? -Infinity : Number(input.min);
  const hi = input.max === '' ? Infinity : Number(input.max);
  return clamp(v, lo, hi);
}

// A polite live region line for status text.
export function statusLine(text = '') {
  return h('p', { class: 'status', role: 'status', 'aria-live': 'polite', text });
}

export function formatInt(n) {
  return Math.round(n).toLocaleString('en-US');
}

// A moment in the student's own words ("Dec 1, 2026, 7:08 AM"), for "saved" and "picked" lines.
export const whenText = (t) => new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
