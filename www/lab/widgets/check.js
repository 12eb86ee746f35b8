// A graded question. kind: 'number' | 'text' (typed) or 'choice' | 'multi' (clicked).
// answer: the right value (number, string, array of accepted strings, or for 'multi' the array of
// right choice values), or a function value -> boolean. Graded when the student presses Check (or
// Enter). Emits 'graded' with detail { id, right, value }, and a bubbling DOM event 'lab-check' with
// the same detail from its element, so a host page can collect results when exercises are embedded.

import { h, uniqueId } from './dom.js';

export function gradeValue(kind, answer, value, tolerance = 0) {
  if (typeof answer === 'function') return !!answer(value);
  if (kind === 'number') {
    const v = Number(String(value).trim().replace(',', '.'));
    return String(value).trim() !== '' && Number.isFinite(v) && Math.abs(v - answer) <= tolerance;
  }
  if (kind === 'text') {
    const norm = (s) => String(s).trim().toLowerCase().replace(/\s+/g, ' ');
    return (Array.isArray(answer) ? answer : [answer]).some((a) => norm(a) === norm(value));
  }
  if (kind === 'multi') {
    const want = new Set(answer.map(String));
    return value.length === want.size && value.every((v) => want.has(String(v)));
  }
  return String(value) === String(answer);
}

export class Check extends EventTarget {
  constructor({ id, question, kind = 'number', choices = [], answer, tolerance = 0, hint, solution, inputLabel = 'Your answer' }) {
    super();
    Object.assign(this, { id: id || uniqueId('check'), kind, answer, tolerance });
    this.result = null;
    this.feedback = h('p', { class: 'feedback', role: 'status', 'aria-live': 'polite' });
    const form = h('form', { class: 'check', 'data-check': this.id, on: { submit: (e) => this.submit(e) } });
    const button = h('button', { type: 'submit', class: 'primary', text: 'Check' });

    if (kind === 'choice' || kind === 'multi') {
      const fs = h('fieldset', {}, h('legend', { text: question }));
      this.options = choices.map((c) => {
        const inp = h('input', { type: kind === 'choice' ? 'radio' : 'checkbox', name: this.id, value: String(c.value), id: uniqueId('opt') });
        fs.append(h('div', { class: 'choice' }, inp, h('label', { for: inp.id, text: c.text })));
        return inp;
      });
      form.append(fs, button);
    } else {
      const qid = uniqueId('q');
      this.input = h('input', {
        type: 'text',
        inputmode: kind === 'number' ? 'decimal' : 'text',
        autocomplete: 'off',
        id: uniqueId('ans'),
        'aria-describedby': qid,
      });
      form.append(
        h('p', { class: 'question', id: qid, text: question }),
        h('div', { class: 'row' }, h('label', { for: this.input.id, text: inputLabel }), this.input, button),
      );
    }
    form.append(this.feedback);
    if (hint) form.append(h('details', { class: 'hint' }, h('summary', { text: 'Hint' }), h('p', { text: hint })));
    if (solution) form.append(h('details', { class: 'solution' }, h('summary', { text: 'Show solution' }), h('p', { text: solution })));
    this.el = form;
  }

  value() {
    if (this.kind === 'choice') return this.options.find((o) => o.checked)?.value ?? '';
    if (this.kind === 'multi') return this.options.filter((o) => o.checked).map((o) => o.value);
    return this.input.value;
  }

  submit(e) {
    e?.preventDefault();
    const value = this.value();
    const empty = Array.isArray(value) ? false : String(value).trim() === '';
    if (empty) {
      this.show(null, 'Enter an answer first.');
      return;
    }
    const right = gradeValue(this.kind, this.answer, value, this.tolerance);
    this.show(right, right ? '✓ Right.' : '✗ Not quite. Try again, or open the hint.');
    const detail = { id: this.id, right, value };
    this.dispatchEvent(new CustomEvent('graded', { detail }));
    this.el.dispatchEvent(new CustomEvent('lab-check', { detail, bubbles: true }));
  }

  show(right, text) {
    this.result = right;
    this.el.dataset.result = right == null ? '' : right ? 'right' : 'wrong';
    this.feedback.textContent = text;
    if (this.input) this.input.setAttribute('aria-invalid', right === false ? 'true' : 'false');
  }
}
