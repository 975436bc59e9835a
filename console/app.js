// The console shell: the <agp-console> element shows the login form until a token is stored, then the
// navigation and one view at a time (prompt versions, training jobs, experiments, API keys).
import { api, clearToken, getToken, setToken } from './api.js';
import { h, replace, statusLine } from './dom.js';
import './prompts-view.js';
import './jobs-view.js';
import './experiments-view.js';
import './api-keys-view.js';

const VIEWS = [
  ['prompts', 'Prompt versions', 'agp-prompts'],
  ['jobs', 'Training jobs', 'agp-jobs'],
  ['experiments', 'Experiments', 'agp-experiments'],
  ['api-keys', 'API keys', 'agp-api-keys'],
];

class AgpConsole extends HTMLElement {
  connectedCallback() {
    this.view = 'prompts';
    this.onLogout = (e) => this.renderLogin(e.detail);
    window.addEventListener('agp-logout', this.onLogout);
    // Views ask the shell to switch (a trained version → its prompt view) with this event.
    this.addEventListener('agp-navigate', (e) => this.show(e.detail.view, e.detail));
    if (getToken()) this.renderShell();
    else this.renderLogin();
  }

  disconnectedCallback() {
    window.removeEventListener('agp-logout', this.onLogout);
  }

  renderLogin(message) {
    const status = statusLine();
    if (message) status.error(message);
    const input = h('input', { type: 'password', name: 'token', id: 'token', autocomplete: 'off', required: true, 'data-testid': 'token' });
    const form = h('form', { class: 'login', 'data-testid': 'login-form' },
      h('h1', {}, 'agp-rerank admin'),
      h('label', { for: 'token' }, 'Admin token (ADMIN_TOKEN)'),
      input,
      h('button', { type: 'submit' }, 'Log in'),
      status.el,
      h('p', { class: 'hint' }, 'The token is kept in this tab only (sessionStorage) and sent as a Bearer header.'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      setToken(input.value.trim());
      try {
        await api('GET', '/admin/v1/prompts');
        this.renderShell();
      } catch (err) {
        clearToken();
        status.error(err);
      }
    });
    replace(this, form);
    input.focus();
  }

  renderShell() {
    this.nav = h('nav', {}, VIEWS.map(([id, label]) =>
      h('button', { type: 'button', 'data-view': id, onclick: () => this.show(id) }, label)));
    const logout = h('button', { type: 'button', class: 'secondary', 'data-testid': 'logout', onclick: () => {
      clearToken();
      this.renderLogin();
    } }, 'Log out');
    this.main = h('main');
    replace(this, h('header', {}, h('span', { class: 'brand' }, 'agp-rerank admin'), this.nav, logout), this.main);
    this.show(this.view);
  }

  show(view, detail) {
    this.view = view;
    const tag = VIEWS.find(([id]) => id === view)?.[2] ?? 'agp-prompts';
    for (const b of this.nav.querySelectorAll('button')) b.className = b.dataset.view === view ? 'current' : '';
    const el = document.createElement(tag);
    if (detail?.domain) el.initial = detail;
    replace(this.main, el);
  }
}

customElements.define('agp-console', AgpConsole);
