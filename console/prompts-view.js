// <agp-prompts>: prompt versions per domain: the versions with their lineage and metrics, one version's
// text and training chart, a line diff between any two versions, and activate / roll back with a confirm.
import { api, apiText, seg } from './api.js';
import { append, confirmAction, fmt, h, replace, statusLine, when } from './dom.js';
import { lineDiff } from './line-diff.js';

/** Metrics shown in the versions table (the rest are in the detail). */
const TABLE_METRICS = [['bestValNdcg', 'best val NDCG@10'], ['baselineNdcg', 'baseline'], ['llmCalls', 'LLM calls']];

/** A data: URL for an SVG string (img-src allows data:; an SVG in <img> never runs script). */
function svgDataUrl(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:image/svg+xml;base64,${btoa(bin)}`;
}

class AgpPrompts extends HTMLElement {
  connectedCallback() {
    this.status = statusLine();
    this.domainSelect = h('select', { 'aria-label': 'domain', 'data-testid': 'domain', onchange: () => this.renderDomain() });
    this.table = h('div', { class: 'table-wrap' });
    this.detail = h('section', { class: 'detail', 'data-testid': 'prompt-detail' });
    this.diffA = h('select', { 'aria-label': 'diff from', 'data-testid': 'diff-a' });
    this.diffB = h('select', { 'aria-label': 'diff to', 'data-testid': 'diff-b' });
    this.diffOut = h('div', { class: 'diff', 'data-testid': 'diff' });
    replace(this,
      h('div', { class: 'toolbar' }, h('h2', {}, 'Prompt versions'), h('label', {}, 'Domain ', this.domainSelect),
        h('button', { type: 'button', class: 'secondary', onclick: () => this.load() }, 'Refresh')),
      this.status.el, this.table, this.detail,
      h('section', { class: 'diff-panel' }, h('h3', {}, 'Diff between two versions'),
        h('div', { class: 'toolbar' }, this.diffA, h('span', {}, '→'), this.diffB,
          h('button', { type: 'button', 'data-testid': 'diff-run', onclick: () => this.diff() }, 'Show diff')),
        this.diffOut));
    this.load();
  }

  async load() {
    try {
      this.prompts = (await api('GET', '/admin/v1/prompts')).prompts;
    } catch (err) {
      this.status.error(err);
      return;
    }
    const domains = [...new Set(this.prompts.map((p) => p.domain))].sort();
    const keep = this.domainSelect.value || this.initial?.domain;
    replace(this.domainSelect, domains.map((d) => h('option', { value: d, selected: d === keep }, d)));
    if (domains.length === 0) this.status.info('No prompt versions yet: train one or import one (POST /admin/v1/prompts).');
    this.renderDomain();
    if (this.initial?.version) this.open(this.initial.domain, this.initial.version);
    this.initial = undefined;
  }

  versions() {
    const d = this.domainSelect.value;
    return (this.prompts ?? []).filter((p) => p.domain === d).sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
  }

  renderDomain() {
    const vs = this.versions();
    const active = vs.find((v) => v.active);
    const rows = vs.map((v) => {
      // Activating a version older than the active one is a rollback; say so on the button.
      const label = v.active ? 'active' : active && v.createdAt < active.createdAt ? 'Roll back' : 'Activate';
      return h('tr', { 'data-version': v.version, class: v.active ? 'active' : '' },
        h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => this.open(v.domain, v.version) }, v.version)),
        h('td', {}, v.active ? h('span', { class: 'badge ok' }, 'active') : ''),
        h('td', {}, v.parentVersion ?? '—'),
        h('td', {}, when(v.createdAt)),
        TABLE_METRICS.map(([k]) => h('td', { class: 'num' }, fmt(v.metrics?.[k]))),
        h('td', {}, v.active ? '' : h('button', { type: 'button', 'data-testid': 'activate', onclick: () => this.activate(v, label) }, label)));
    });
    replace(this.table, h('table', {},
      h('thead', {}, h('tr', {}, ['version', '', 'parent', 'created'].map((c) => h('th', {}, c)), TABLE_METRICS.map(([, l]) => h('th', {}, l)), h('th', {}, ''))),
      h('tbody', {}, rows)));
    const opts = (sel) => vs.map((v, i) => h('option', { value: v.version, selected: i === (sel === 'a' ? Math.max(0, vs.length - 2) : vs.length - 1) }, v.version));
    replace(this.diffA, opts('a'));
    replace(this.diffB, opts('b'));
  }

  /** The parent chain of a version, as far as the registry knows it. */
  lineage(v) {
    const byVersion = new Map(this.versions().map((p) => [p.version, p]));
    const chain = [v.version];
    let parent = v.parentVersion;
    while (parent && !chain.includes(parent) && chain.length < 50) {
      chain.push(parent);
      parent = byVersion.get(parent)?.parentVersion;
    }
    return chain;
  }

  async open(domain, version) {
    let v;
    try {
      v = await api('GET', `/admin/v1/prompts/${seg(domain)}/${seg(version)}`);
    } catch (err) {
      this.status.error(err);
      return;
    }
    const scalar = Object.entries(v.metrics ?? {}).filter(([, x]) => typeof x !== 'object' || Array.isArray(x));
    const chart = h('div', { class: 'chart' });
    replace(this.detail,
      h('h3', {}, `${v.domain} / ${v.version}`, v.active ? h('span', { class: 'badge ok' }, 'active') : ''),
      h('p', { class: 'lineage', 'data-testid': 'lineage' }, 'Lineage: ',
        this.lineage(v).map((name, i) => [i > 0 ? ' ← ' : '', h('code', {}, name)])),
      h('div', { class: 'cols' },
        h('div', {}, h('h4', {}, 'Prompt text'), h('pre', { class: 'prompt-text', 'data-testid': 'prompt-text' }, v.text)),
        h('div', {}, h('h4', {}, 'Metrics'),
          scalar.length === 0 ? h('p', {}, 'none') : h('table', { class: 'kv' }, scalar.map(([k, x]) =>
            h('tr', {}, h('th', {}, k), h('td', {}, Array.isArray(x) ? x.map((e) => fmt(e)).join(', ') : typeof x === 'number' ? fmt(x) : String(x))))),
          chart)));
    const jobId = v.metrics?.jobId;
    if (typeof jobId === 'string') {
      try {
        const img = h('img', { class: 'ndcg', 'aria-label': 'NDCG@10 per epoch', 'data-testid': 'ndcg-chart' });
        // A data: URL built here from the server's SVG, never a URL taken from data.
        img.src = svgDataUrl(await apiText(`/admin/v1/training-jobs/${seg(jobId)}/report/ndcg.svg`));
        append(chart, [h('h4', {}, 'Training report: NDCG@10 per epoch'), img]);
      } catch {
        append(chart, [h('p', { class: 'hint' }, `The report of training job ${jobId} is no longer available.`)]);
      }
    }
  }

  async activate(v, label) {
    const active = this.versions().find((p) => p.active);
    const ok = await confirmAction(`${label} ${v.domain}: serve ${v.version}${active ? ` instead of ${active.version}` : ''}?`, label);
    if (!ok) return;
    try {
      await api('POST', `/admin/v1/prompts/${seg(v.domain)}/${seg(v.version)}/activate`);
      this.status.info(`${v.domain}: ${v.version} is now active.`);
      await this.load();
    } catch (err) {
      this.status.error(err);
    }
  }

  async diff() {
    const d = this.domainSelect.value;
    const [a, b] = [this.diffA.value, this.diffB.value];
    if (!a || !b) return;
    try {
      const [va, vb] = await Promise.all([a, b].map((x) => api('GET', `/admin/v1/prompts/${seg(d)}/${seg(x)}`)));
      const lines = lineDiff(va.text, vb.text);
      const changed = lines.filter((l) => l.op !== ' ').length;
      replace(this.diffOut,
        h('p', { class: 'hint' }, `${a} → ${b}: ${changed === 0 ? 'identical' : `${lines.filter((l) => l.op === '-').length} line(s) removed, ${lines.filter((l) => l.op === '+').length} added`}`),
        h('pre', {}, lines.map((l) => h('div', { class: l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'same' }, `${l.op} ${l.text}`))));
    } catch (err) {
      this.status.error(err);
    }
  }
}

customElements.define('agp-prompts', AgpPrompts);
