// <agp-experiments>: the experiments: a create form, the list, and one experiment's results: per-arm
// metrics with their 95% confidence intervals drawn as inline SVG bars, the always-valid decision, the
// guardrails and any breach or stop reason, and the stop and promote buttons.
import { api, seg } from './api.js';
import { confirmAction, fmt, h, replace, statusLine, svg, when } from './dom.js';

const METRICS = ['ctr', 'mrr', 'ndcg@10'];
const DEFAULT_ARMS = '[\n  {"name": "control", "method": "baseline"},\n  {"name": "treatment", "method": "agp"}\n]';

/**
 * A horizontal CI bar: the interval [lo, hi] as a line with end ticks and the estimate as a dot, on the
 * scale [min, max]; `zero` draws a reference line (for differences).
 */
export function ciBar(value, [lo, hi], [min, max], zero) {
  const W = 100;
  const H = 16;
  const x = (v) => Math.max(0, Math.min(W, ((v - min) / (max - min || 1)) * W));
  const g = svg('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'ci', role: 'img', 'aria-label': `${fmt(value)} (95% CI ${fmt(lo)} to ${fmt(hi)})` },
    svg('line', { x1: 0, x2: W, y1: H / 2, y2: H / 2, class: 'axis' }));
  if (zero !== undefined) g.append(svg('line', { x1: x(zero), x2: x(zero), y1: 0, y2: H, class: 'zero' }));
  g.append(
    svg('line', { x1: x(lo), x2: x(hi), y1: H / 2, y2: H / 2, class: 'interval' }),
    svg('line', { x1: x(lo), x2: x(lo), y1: 4, y2: H - 4, class: 'interval' }),
    svg('line', { x1: x(hi), x2: x(hi), y1: 4, y2: H - 4, class: 'interval' }),
    svg('circle', { cx: x(value), cy: H / 2, r: 3.5, class: 'estimate' }));
  return g;
}

class AgpExperiments extends HTMLElement {
  connectedCallback() {
    this.status = statusLine();
    this.list = h('div', { class: 'table-wrap', 'data-testid': 'experiments' });
    this.detail = h('section', { class: 'detail', 'data-testid': 'experiment-detail' });
    replace(this, h('h2', {}, 'Experiments'), this.form(), this.status.el, this.list, this.detail);
    this.load();
  }

  form() {
    const domain = h('input', { name: 'domain', required: true, placeholder: 'movies', 'data-testid': 'exp-domain' });
    const mode = h('select', { name: 'mode', 'data-testid': 'exp-mode' }, h('option', { value: 'ab' }, 'A/B (users split between arms)'), h('option', { value: 'interleave' }, 'interleaving (two arms)'));
    const arms = h('textarea', { name: 'arms', rows: 4, spellcheck: 'false', 'data-testid': 'exp-arms' });
    arms.value = DEFAULT_ARMS;
    const share = h('input', { name: 'trafficShare', type: 'number', min: 0, max: 1, step: 0.01, value: 1, 'data-testid': 'exp-share' });
    const form = h('form', { class: 'card form', 'data-testid': 'exp-form' },
      h('h3', {}, 'Start an experiment'),
      h('label', {}, 'Domain', domain), h('label', {}, 'Mode', mode),
      h('label', {}, 'Arms (JSON; the first is the control; method agp, direct, cot or baseline; optional promptVersion, weight)', arms),
      h('label', {}, 'Traffic share', share),
      h('button', { type: 'submit', 'data-testid': 'exp-submit' }, 'Start'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      let body;
      try {
        body = { domain: domain.value.trim(), mode: mode.value, arms: JSON.parse(arms.value), trafficShare: Number(share.value) };
      } catch (err) {
        this.status.error(`Arms are not valid JSON: ${err.message}`);
        return;
      }
      try {
        const created = await api('POST', '/admin/v1/experiments', body);
        this.status.info(`Started experiment ${created.id}.`);
        await this.load();
        await this.open(created.id);
      } catch (err) {
        this.status.error(err);
      }
    });
    return form;
  }

  async load() {
    try {
      const { experiments } = await api('GET', '/admin/v1/experiments');
      replace(this.list, experiments.length === 0 ? h('p', { class: 'hint' }, 'No experiments.') : h('table', {},
        h('thead', {}, h('tr', {}, ['experiment', 'domain', 'mode', 'arms', 'state', 'created', 'stop reason'].map((c) => h('th', {}, c)))),
        h('tbody', {}, experiments.map((x) => h('tr', { 'data-state': x.state },
          h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => this.open(x.id) }, x.id)),
          h('td', {}, x.domain), h('td', {}, x.mode), h('td', {}, x.arms.map((a) => a.name).join(', ')),
          h('td', {}, h('span', { class: `badge ${x.state}` }, x.state)), h('td', {}, when(x.createdAt)),
          h('td', {}, x.stopReason ? `${x.stopReason.kind}: ${x.stopReason.message}` : ''))))));
    } catch (err) {
      this.status.error(err);
    }
  }

  async open(id) {
    let r;
    try {
      r = await api('GET', `/admin/v1/experiments/${seg(id)}`);
    } catch (err) {
      this.status.error(err);
      return;
    }
    const running = r.state === 'running';
    const armRows = r.arms.map((a) => h('tr', { 'data-testid': `arm-${a.name}` },
      h('th', {}, a.name), h('td', {}, a.method), h('td', {}, a.promptVersion === null ? 'active' : String(a.promptVersion)),
      h('td', { class: 'num' }, fmt(a.users)), h('td', { class: 'num' }, fmt(a.exposures)),
      METRICS.map((m) => h('td', { class: 'metric' }, h('span', { class: 'num' }, fmt(a.metrics[m].value)), ciBar(a.metrics[m].value, a.metrics[m].ci95, [0, 1]))),
      h('td', { class: 'num' }, fmt(a.fallbackRate)), h('td', { class: 'num' }, a.latencyP99Ms === null ? '—' : `${fmt(a.latencyP99Ms)} ms`),
      h('td', { class: 'num' }, fmt(a.llmCallsPerExposure)),
      h('td', {}, running ? h('button', { type: 'button', 'data-testid': `promote-${a.name}`, onclick: () => this.promote(r, a) }, 'Promote') : '')));
    replace(this.detail,
      h('h3', {}, `Experiment ${r.id}`, ' ', h('span', { class: `badge ${r.state}`, 'data-testid': 'exp-state' }, r.state)),
      h('p', {}, `${r.domain} · ${r.mode} · traffic share ${fmt(r.trafficShare)} · started ${when(r.createdAt)}${r.stoppedAt ? ` · stopped ${when(r.stoppedAt)}` : ''}`),
      r.stopReason ? h('p', { class: 'stop-reason', 'data-testid': 'stop-reason' }, `Stopped (${r.stopReason.kind}${r.stopReason.arm ? `, arm ${r.stopReason.arm}` : ''}): ${r.stopReason.message}`) : '',
      h('div', { class: 'table-wrap' }, h('table', { class: 'arms' },
        h('thead', {}, h('tr', {}, ['arm', 'method', 'prompt', 'users', 'exposures', ...METRICS.map((m) => `${m} (95% CI)`), 'fallback rate', 'p99', 'LLM calls/exposure', ''].map((c) => h('th', {}, c)))),
        h('tbody', {}, armRows))),
      h('p', { class: 'hint' }, 'CI bars span 0 to 1; the dot is the estimate. Intervals are always-valid, so reading them often is safe.'),
      this.comparison(r),
      h('h4', {}, 'Guardrails'),
      h('table', { class: 'kv' }, Object.entries(r.guardrails).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, fmt(v))))),
      r.guardrailBreaches.length === 0 ? h('p', {}, 'No guardrail breached.') :
        h('ul', { class: 'breaches' }, r.guardrailBreaches.map((b) => h('li', {}, `${b.arm}: ${b.guardrail} ${fmt(b.value)} over ${fmt(b.limit)}: ${b.reason}`))),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => this.open(r.id) }, 'Refresh'),
        running ? h('button', { type: 'button', class: 'danger', 'data-testid': 'exp-stop', onclick: () => this.stop(r) }, 'Stop') : ''));
  }

  comparison(r) {
    const list = r.comparisons ?? (r.comparison ? [r.comparison] : []);
    if (list.length === 0) return h('p', { 'data-testid': 'decision' }, 'Decision: not enough data yet.');
    return h('div', { 'data-testid': 'decision' }, h('h4', {}, 'Decision'), list.map((c) => {
      const isAb = 'diff' in c;
      const est = isAb ? c.diff : c.preference;
      const span = Math.max(Math.abs(c.ci95[0]), Math.abs(c.ci95[1]), Math.abs(est), 1e-9) * 1.1;
      const label = isAb ? `${c.treatment.arm} vs ${c.control.arm}: NDCG@10 difference ${fmt(c.diff)}` : `${c.treatment} vs ${c.control}: preference ${fmt(c.preference)} (${c.wins} wins, ${c.losses} losses, ${c.ties} ties)`;
      return h('p', { class: 'comparison' }, h('span', { class: `badge decision-${c.decision}` }, c.decision), ' ', label,
        ` · 95% CI [${fmt(c.ci95[0])}, ${fmt(c.ci95[1])}] · p = ${fmt(c.pValue, 4)} `, ciBar(est, c.ci95, [-span, span], 0));
    }));
  }

  async stop(r) {
    if (!(await confirmAction(`Stop experiment ${r.id}? Its users return to normal serving.`, 'Stop'))) return;
    try {
      await api('POST', `/admin/v1/experiments/${seg(r.id)}/stop`);
      await this.load();
      await this.open(r.id);
    } catch (err) {
      this.status.error(err);
    }
  }

  async promote(r, arm) {
    const what = arm.promptVersion ? `activate prompt version ${arm.promptVersion}` : 'activate nothing (the arm pins no version)';
    if (!(await confirmAction(`Promote arm ${arm.name} of ${r.id}: ${what} for ${r.domain} and stop the experiment?`, 'Promote'))) return;
    try {
      const res = await api('POST', `/admin/v1/experiments/${seg(r.id)}/promote`, { arm: arm.name });
      this.status.info(`Promoted ${arm.name}${res.activated ? `: ${res.activated} is active` : ''}.`);
      await this.load();
      await this.open(r.id);
    } catch (err) {
      this.status.error(err);
    }
  }
}

customElements.define('agp-experiments', AgpExperiments);
