/**
 * A real Prometheus server scrapes the real service, and loads the chart's alert rules
 * (helm/agp-rerank/files/agp-rerank.rules.yml): the target is up, `agp_rerank_total` arrives with its
 * method/outcome labels, every metric the alerts use is exported, and all seven alert rules evaluate cleanly.
 *
 * Needs `prometheus` on PATH (Debian/Ubuntu: apt-get install prometheus; .ci/run installs it). Missing, the
 * suite fails under CI and is skipped locally. Everything is time-bound (well under 40 s).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import createClient from 'openapi-fetch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { paths } from './api-types.js';
import { ROOT, startService, type ServiceHandle } from './service.js';
import { startLlmDouble, type LlmDouble } from '../../testkit/llm-double.js';
import { freePort } from '../../testkit/redis-server.js';
import { eventually } from '../../testkit/wait.js';

const RULES_FILE = join(ROOT, 'helm/agp-rerank/files/agp-rerank.rules.yml');
const EXPECTED_ALERTS = [
  'AgpRerankFallbackRatioHigh',
  'AgpRerankLLMErrorRateHigh',
  'AgpRerankLatencyP99High',
  'AgpRerankProfileCacheHitRatioCollapse',
  'AgpRerankPromptRegistryLost',
  'AgpRerankTrainingJobFailed',
  'AgpRerankUnparseableRising',
];

const hasPrometheus = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}
interface AlertRule {
  name: string;
  type: string;
  health: string;
  lastError?: string;
  query: string;
}

let double: LlmDouble | undefined;
let service: ServiceHandle | undefined;
let prometheus: ChildProcess | undefined;
let promOutput = '';
let promUrl = '';
let dir: string | undefined;

async function promGet<T>(path: string): Promise<T> {
  const res = await fetch(`${promUrl}${path}`, { signal: AbortSignal.timeout(2_000) });
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
  return body.data;
}
const query = async (q: string) => (await promGet<{ result: Sample[] }>(`/api/v1/query?query=${encodeURIComponent(q)}`)).result;

describe.runIf(hasPrometheus || Boolean(process.env.CI))('Prometheus scrapes the real service', () => {
  beforeAll(async () => {
    expect(hasPrometheus, 'prometheus is not on PATH (apt-get install prometheus)').toBe(true);
    double = await startLlmDouble();
    service = await startService({
      LLM_BASE_URL: double.url,
      LLM_API_KEY: 'sk-prom',
      LLM_MODEL: 'double-model',
      LLM_MAX_RETRIES: '0',
      DEFAULT_DEADLINE_MS: '8000',
      MAX_EVENT_LOOP_DELAY_MS: '0',
    });

    // Traffic before the first scrape: three LLM reranks and one that falls back.
    const api = createClient<paths>({ baseUrl: service.url });
    const body = {
      userId: 'prom-u',
      history: [{ id: 'h1', title: 'Alien' }],
      candidates: [
        { id: 'a', title: 'Dune' },
        { id: 'b', title: 'Arrival' },
      ],
    };
    for (let i = 0; i < 3; i++) expect((await api.POST('/v1/rerank', { body: { ...body, userId: `prom-u${i}` } })).data?.fallback).toBeNull();
    double.setMode('error500');
    const fb = await api.POST('/v1/rerank', { body: { ...body, method: 'direct' } });
    expect(fb.data?.fallback?.reason).toBe('llm_error');
    double.setMode('ok');

    dir = await mkdtemp(join(tmpdir(), 'agp-prometheus-'));
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'rule_files:',
      `  - ${JSON.stringify(RULES_FILE)}`,
      'scrape_configs:',
      '  - job_name: agp-rerank',
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: ["127.0.0.1:${service.port}"]`,
      '',
    ].join('\n');
    await writeFile(join(dir, 'prometheus.yml'), config);
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const collect = (d: Buffer) => {
      promOutput = (promOutput + d.toString('utf8')).slice(-8_000);
    };
    prometheus.stdout?.on('data', collect);
    prometheus.stderr?.on('data', collect);
    const child = prometheus;
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`prometheus exited with ${child.exitCode}`);
        return (await fetch(`${promUrl}/-/ready`, { signal: AbortSignal.timeout(1_000) })).status;
      },
      (s) => s === 200,
      { what: 'Prometheus /-/ready', timeoutMs: 15_000, intervalMs: 250, detail: () => promOutput.slice(-2_000) },
    );
  }, 30_000);

  afterAll(async () => {
    const p = prometheus;
    if (p && p.exitCode === null && p.signalCode === null) {
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await service?.stop();
    await double?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 20_000);

  it('scrapes the service: up{job="agp-rerank"} is 1', async () => {
    const up = await eventually(() => query('up{job="agp-rerank"}'), (r) => r[0]?.value[1] === '1', { what: 'up == 1', intervalMs: 250, detail: () => promOutput.slice(-2_000) });
    expect(up).toHaveLength(1);
    expect(up[0]?.metric.instance).toBe(`127.0.0.1:${service?.port}`);
  }, 12_000);

  it('stores agp_rerank_total with its method/outcome labels and the driven counts', async () => {
    const series = await eventually(
      () => query('agp_rerank_total{job="agp-rerank"}'),
      (r) => r.some((s) => s.metric.outcome === 'fallback'),
      { what: 'agp_rerank_total', intervalMs: 250, detail: () => promOutput.slice(-2_000) },
    );
    const byLabels = Object.fromEntries(series.map((s) => [`${s.metric.method}/${s.metric.outcome}`, Number(s.value[1])]));
    expect(byLabels['agp/ok']).toBe(3);
    expect(byLabels['direct/fallback']).toBe(1);
    for (const s of series) {
      expect(Object.keys(s.metric).sort()).toEqual(['__name__', 'instance', 'job', 'method', 'outcome']);
    }
  }, 12_000);

  it('exports every metric the alert rules query', async () => {
    const rules = await readFile(RULES_FILE, 'utf8');
    const used = [...new Set(rules.match(/\bagp_[a-z_]+/g) ?? [])].map((m) => m.replace(/_(bucket|count|sum)$/, ''));
    expect(used.length).toBeGreaterThanOrEqual(5);
    const names = await eventually(
      () => promGet<string[]>('/api/v1/label/__name__/values'),
      (n) => n.includes('agp_rerank_total'),
      { what: 'metric names', intervalMs: 250, detail: () => promOutput.slice(-2_000) },
    );
    const missing = [...new Set(used)].filter((m) => !names.includes(m) && !names.includes(`${m}_bucket`));
    expect(missing).toEqual([]);
  }, 12_000);

  it('loads the seven alert rules and evaluates each without error', async () => {
    const groups = await eventually(
      async () => (await promGet<{ groups: Array<{ name: string; file: string; rules: AlertRule[] }> }>('/api/v1/rules')).groups,
      (g) => g.flatMap((x) => x.rules).length === EXPECTED_ALERTS.length && g.flatMap((x) => x.rules).every((r) => r.health !== 'unknown'),
      { what: 'evaluated alert rules', intervalMs: 250, detail: () => promOutput.slice(-2_000) },
    );
    expect(groups.map((g) => g.file)).toEqual([RULES_FILE]);
    const rules = groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.name).sort()).toEqual(EXPECTED_ALERTS);
    for (const r of rules) {
      expect(r.type).toBe('alerting');
      expect(r.health, `${r.name}: ${r.lastError ?? ''}`).toBe('ok');
    }
  }, 12_000);
});
