// <agp-jobs>: training jobs: start one (a small form with JSON for the dataset and parameters), the list
// with live progress (polled every second while the view is open), cancel, and the report and LLM call
// trace of a finished job.
import { api, apiText, seg } from './api.js';
import { confirmAction, fmt, h, replace, statusLine, when } from './dom.js';

const POLL_MS = 1000;
const LIVE = new Set(['queued', 'running']);
/** Trace lines shown in the page; the whole trace can be saved as a file. */
const TRACE_LINES = 200;

class AgpJobs extends HTMLElement {
  connectedCallback() {
    this.status = statusLine();
    this.list = h('div', { class: 'table-wrap', 'data-testid': 'jobs' });
    this.artifact = h('section', { class: 'artifact', 'data-testid': 'job-artifact' });
    replace(this, h('h2', {}, 'Training jobs'), this.form(), this.status.el, this.list, this.artifact);
    this.refresh();
    this.timer = setInterval(() => this.refresh(), POLL_MS);
  }

  disconnectedCallback() {
    clearInterval(this.timer);
  }

  form() {
    const domain = h('input', { name: 'domain', required: true, placeholder: 'movies', 'data-testid': 'job-domain' });
    const dataset = h('textarea', { name: 'dataset', rows: 3, spellcheck: 'false', 'data-testid': 'job-dataset', placeholder: '{"path": "movies/train.jsonl"}  or  {"users": [...]}' });
    const params = h('textarea', { name: 'params', rows: 2, spellcheck: 'false', 'data-testid': 'job-params' });
    params.value = '{"epochs": 1}';
    const activate = h('select', { name: 'activate', 'data-testid': 'job-activate' },
      h('option', { value: 'never' }, 'never (review, then activate here)'), h('option', { value: 'if-better' }, 'if better than the current version'));
    const form = h('form', { class: 'card form', 'data-testid': 'job-form' },
      h('h3', {}, 'Start a training job'),
      h('label', {}, 'Domain', domain),
      h('label', {}, 'Dataset (JSON: a path under TRAINING_DATA_DIR, or inline users)', dataset),
      h('label', {}, 'Parameters (JSON, optional)', params),
      h('label', {}, 'Activate the result', activate),
      h('button', { type: 'submit', 'data-testid': 'job-submit' }, 'Start'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      let body;
      try {
        body = { domain: domain.value.trim(), dataset: JSON.parse(dataset.value), activate: activate.value };
        if (params.value.trim()) body.params = JSON.parse(params.value);
      } catch (err) {
        this.status.error(`Not valid JSON: ${err.message}`);
        return;
      }
      try {
        const { jobId } = await api('POST', '/admin/v1/training-jobs', body);
        this.status.info(`Started training job ${jobId}.`);
        await this.refresh();
      } catch (err) {
        this.status.error(err);
      }
    });
    return form;
  }

  async refresh() {
    if (this.busy) return;
    this.busy = true;
    try {
      const { jobs } = await api('GET', '/admin/v1/training-jobs');
      // Re-render only on change, so a poll does not replace a button under the pointer for nothing.
      const snapshot = JSON.stringify(jobs);
      if (snapshot !== this.last) this.render(jobs);
      this.last = snapshot;
    } catch (err) {
      this.status.error(err);
    } finally {
      this.busy = false;
    }
  }

  render(jobs) {
    const sorted = [...jobs].sort((a, b) => String(b.createdAt).localeCompare(String(a.createdAt)));
    replace(this.list, sorted.length === 0 ? h('p', { class: 'hint' }, 'No training jobs.') : h('table', {},
      h('thead', {}, h('tr', {}, ['job', 'domain', 'state', 'progress', 'LLM calls', 'tokens', 'ETA', 'created', 'result', ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, sorted.map((j) => this.row(j)))));
  }

  row(j) {
    const p = j.progress ?? {};
    const total = p.totalBatches;
    const bar = h('progress', { max: total || 1, value: j.state === 'completed' ? total || 1 : Math.min(p.batch ?? 0, total || 1) });
    const progress = h('td', {}, bar, ` epoch ${p.epoch ?? 0}, batch ${p.batch ?? 0}${total ? `/${total}` : ''}${p.phase ? ` (${p.phase})` : ''}`);
    const result = j.result
      ? h('button', { type: 'button', class: 'link', onclick: () => this.closest('agp-console')?.dispatchEvent(new CustomEvent('agp-navigate', { detail: { view: 'prompts', domain: j.domain, version: j.result.promptVersion } })) },
        `${j.result.promptVersion}${j.result.activated ? ' (activated)' : ''}`)
      : j.error ?? '';
    const actions = LIVE.has(j.state)
      ? h('button', { type: 'button', class: 'danger', 'data-testid': 'job-cancel', onclick: () => this.cancel(j) }, 'Cancel')
      : [h('button', { type: 'button', class: 'secondary', 'data-testid': 'job-report', onclick: () => this.report(j) }, 'Report'), ' ',
        h('button', { type: 'button', class: 'secondary', 'data-testid': 'job-trace', onclick: () => this.trace(j) }, 'Trace')];
    return h('tr', { 'data-state': j.state, 'data-testid': `job-${j.jobId}` },
      h('td', {}, h('code', {}, j.jobId)), h('td', {}, j.domain),
      h('td', {}, h('span', { class: `badge ${j.state}`, 'data-testid': 'job-state' }, j.state)),
      progress, h('td', { class: 'num' }, fmt(p.llmCalls)), h('td', { class: 'num' }, fmt(p.tokens)),
      h('td', { class: 'num' }, typeof p.etaSeconds === 'number' ? `${Math.round(p.etaSeconds)} s` : '—'),
      h('td', {}, when(j.createdAt)), h('td', {}, result), h('td', {}, actions));
  }

  async cancel(j) {
    if (!(await confirmAction(`Cancel training job ${j.jobId} (${j.domain})?`, 'Cancel job'))) return;
    try {
      await api('DELETE', `/admin/v1/training-jobs/${seg(j.jobId)}`);
      await this.refresh();
    } catch (err) {
      this.status.error(err);
    }
  }

  async report(j) {
    try {
      const md = await apiText(`/admin/v1/training-jobs/${seg(j.jobId)}/report`);
      // The report quotes prompt text: shown as text, not rendered Markdown.
      replace(this.artifact, h('h3', {}, `Report of ${j.jobId}`), h('pre', { class: 'report', 'data-testid': 'report-text' }, md));
    } catch (err) {
      this.status.error(err);
    }
  }

  async trace(j) {
    try {
      const text = await apiText(`/admin/v1/training-jobs/${seg(j.jobId)}/trace`);
      const lines = text.split('\n').filter(Boolean);
      const save = h('button', { type: 'button', class: 'secondary', onclick: () => {
        // A blob: URL made here from the fetched trace, for the browser's download (no token in any URL).
        const a = document.createElement('a');
        a.href = URL.createObjectURL(new Blob([text], { type: 'application/x-ndjson' }));
        a.download = `trace-${j.jobId}.jsonl`;
        a.click();
        setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      } }, 'Save as file');
      replace(this.artifact, h('h3', {}, `LLM call trace of ${j.jobId} (${lines.length} calls)`), save,
        h('pre', { class: 'trace', 'data-testid': 'trace-text' }, lines.slice(0, TRACE_LINES).join('\n')),
        lines.length > TRACE_LINES ? h('p', { class: 'hint' }, `First ${TRACE_LINES} of ${lines.length} lines shown.`) : '');
    } catch (err) {
      this.status.error(err);
    }
  }
}

customElements.define('agp-jobs', AgpJobs);
