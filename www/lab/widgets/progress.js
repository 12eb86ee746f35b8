// Training progress: a bar, images/s, ETA, and pause/resume/stop buttons.
// Emits 'pause', 'resume' and 'stop' events; the owner forwards them to the engine.

import { h } from './dom.js';

export function formatEta(s) {
  if (!Number.isFinite(s) || s < 0) return '–';
  s = Math.round(s);
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}

export class ProgressBar extends EventTarget {
  constructor({ label = 'Training progress' } = {}) {
    super();
    this.bar = h('progress', { max: 1, value: 0, 'aria-label': label });
    this.text = h('span', { class: 'progress-text', text: 'not started' });
    this.pauseBtn = h('button', { type: 'button', text: 'Pause', disabled: true, on: { click: () => this.togglePause() } });
    this.stopBtn = h('button', {
      type: 'button',
      text: 'Stop',
      disabled: true,
      on: { click: () => this.dispatchEvent(new Event('stop')) },
    });
    this.paused = false;
    this.el = h(
      'div',
      { class: 'progress' },
      this.bar,
      h('span', { class: 'progress-info', role: 'status', 'aria-live': 'polite' }, this.text),
      h('span', { class: 'row' }, this.pauseBtn, this.stopBtn),
    );
  }

  togglePause() {
    this.paused = !this.paused;
    this.pauseBtn.textContent = this.paused ? 'Resume' : 'Pause';
    this.pauseBtn.setAttribute('aria-pressed', String(this.paused));
    this.dispatchEvent(new Event(this.paused ? 'pause' : 'resume'));
  }

  start(text = 'starting…') {
    this.paused = false;
    this.pauseBtn.textContent = 'Pause';
    this.pauseBtn.setAttribute('aria-pressed', 'false');
    this.pauseBtn.disabled = false;
    this.stopBtn.disabled = false;
    this.bar.value = 0;
    this.text.textContent = text;
  }

  // fraction in [0,1] of the whole run.
  update({ fraction, epoch, epochs, imagesPerSec, etaS }) {
    this.bar.value = Math.max(0, Math.min(1, fraction));
    const ips = Number.isFinite(imagesPerSec) ? `${Math.round(imagesPerSec)} images/s` : '';
    const ep = epochs ? `epoch ${Math.min(epoch, epochs)}/${epochs}` : '';
    this.text.textContent = [ep, `${Math.round(this.bar.value * 100)}%`, ips, `ETA ${formatEta(etaS)}`, this.paused ? 'paused' : '']
      .filter(Boolean)
      .join(' · ');
  }

  finish(text) {
    this.pauseBtn.disabled = true;
    this.stopBtn.disabled = true;
    this.text.textContent = text;
  }
}
