// <agp-api-keys>: API keys for /v1 with their usage: a create form, the list (prefix and last 4 characters,
// limits, usage), and revoke and rotate with a confirmation. A new key is shown once, as text, in this view
// only: it is never stored by the console and is gone when the view is left or the next action runs.
import { api, seg } from './api.js';
import { confirmAction, fmt, h, replace, statusLine, when } from './dom.js';

const optionalInt = (input) => (input.value.trim() === '' ? undefined : Number(input.value));

class AgpApiKeys extends HTMLElement {
  connectedCallback() {
    this.status = statusLine();
    this.secret = h('div', { 'data-testid': 'api-key-secret' });
    this.list = h('div', { class: 'table-wrap', 'data-testid': 'api-keys' });
    replace(this, h('h2', {}, 'API keys'), this.form(), this.status.el, this.secret, this.list);
    this.load();
  }

  form() {
    const name = h('input', { name: 'name', required: true, placeholder: 'team-search', 'data-testid': 'key-name' });
    const rate = h('input', { name: 'rateLimit', type: 'number', min: 0, step: 1, placeholder: 'RATE_LIMIT_MAX', 'data-testid': 'key-rate' });
    const quota = h('input', { name: 'dailyLlmCallQuota', type: 'number', min: 0, step: 1, placeholder: 'unlimited', 'data-testid': 'key-quota' });
    const form = h('form', { class: 'card form', 'data-testid': 'key-form' },
      h('h3', {}, 'Create a key'),
      h('label', {}, 'Name (a-z, 0-9, _ and -)', name),
      h('label', {}, 'Rate limit (requests per window)', rate),
      h('label', {}, 'Daily LLM-call quota', quota),
      h('button', { type: 'submit', 'data-testid': 'key-submit' }, 'Create'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        const created = await api('POST', '/admin/v1/api-keys', { name: name.value.trim(), rateLimit: optionalInt(rate), dailyLlmCallQuota: optionalInt(quota) });
        this.showSecret(created, 'Created');
        form.reset();
        await this.load();
      } catch (err) {
        this.status.error(err);
      }
    });
    return form;
  }

  /** Shows a new key once, as text (never stored by the console). */
  showSecret({ key, apiKey }, verb) {
    replace(this.secret, h('div', { class: 'card' },
      h('p', {}, `${verb} key "${apiKey.name}". Copy it now: it is shown only this once.`),
      h('input', { type: 'text', value: key, 'aria-label': 'New API key', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'api-key-value' }),
      h('button', { type: 'button', class: 'secondary', onclick: () => replace(this.secret) }, 'Done')));
  }

  async load() {
    try {
      const { apiKeys } = await api('GET', '/admin/v1/api-keys');
      replace(this.list, apiKeys.length === 0 ? h('p', { class: 'hint' }, 'No API keys.') : h('table', {},
        h('thead', {}, h('tr', {}, ['name', 'key', 'created', 'state', 'rate limit', 'daily quota', 'reranks', 'LLM calls (today)', 'tokens in / out', ''].map((c) => h('th', {}, c)))),
        h('tbody', {}, apiKeys.map((k) => this.row(k)))));
    } catch (err) {
      if (err.status === 404) replace(this.list, h('p', { class: 'hint' }, 'API keys are off (set API_KEYS=redis or API_KEYS_FILE).'));
      else this.status.error(err);
    }
  }

  row(k) {
    const state = k.revokedAt ? 'revoked' : k.previousKeyExpiresAt ? `rotating until ${when(k.previousKeyExpiresAt)}` : 'active';
    const u = k.usage;
    return h('tr', { 'data-state': k.revokedAt ? 'revoked' : 'active' },
      h('td', {}, k.name),
      h('td', {}, k.prefix ? `${k.prefix}…${k.last4}` : '(from file)'),
      h('td', {}, k.prefix ? when(k.createdAt) : '—'),
      h('td', {}, h('span', { class: `badge ${k.revokedAt ? 'stopped' : 'running'}` }, state)),
      h('td', {}, fmt(k.rateLimit)), h('td', {}, fmt(k.dailyLlmCallQuota)),
      h('td', {}, fmt(u.reranks)), h('td', {}, `${fmt(u.llmCalls)} (${fmt(u.llmCallsToday)})`),
      h('td', {}, `${fmt(u.promptTokens)} / ${fmt(u.completionTokens)}`),
      h('td', {}, k.revokedAt ? '' : [
        h('button', { type: 'button', class: 'secondary', 'data-testid': 'key-rotate', onclick: () => this.rotate(k.name) }, 'Rotate'),
        h('button', { type: 'button', class: 'danger', 'data-testid': 'key-revoke', onclick: () => this.revoke(k.name) }, 'Revoke'),
      ]));
  }

  async rotate(name) {
    if (!(await confirmAction(`Rotate "${name}"? A new key is issued; the current one stops working at once.`, 'Rotate'))) return;
    try {
      this.showSecret(await api('POST', `/admin/v1/api-keys/${seg(name)}/rotate`, { graceSeconds: 0 }), 'Rotated');
      await this.load();
    } catch (err) {
      this.status.error(err);
    }
  }

  async revoke(name) {
    if (!(await confirmAction(`Revoke "${name}"? Callers using it get 401 within a second.`, 'Revoke'))) return;
    try {
      await api('DELETE', `/admin/v1/api-keys/${seg(name)}`);
      replace(this.secret);
      this.status.info(`Revoked ${name}.`);
      await this.load();
    } catch (err) {
      this.status.error(err);
    }
  }
}

customElements.define('agp-api-keys', AgpApiKeys);
