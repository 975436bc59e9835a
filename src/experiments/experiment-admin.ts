/**
 * The experiments admin service behind /admin/v1/experiments: create, list, read results, stop, promote,
 * and the periodic look that updates the always-valid p-values and stops an experiment whose arm breaches
 * a guardrail. Written against ports; the routes only map HTTP onto it.
 */
import type { Clock, PromptRegistry } from '../agp/ports.js';
import { ConflictError, ErrorCodes, InvalidInputError, NotFoundError } from '../errors.js';
import type { LookOptions } from './always-valid.js';
import { runningStatsFromSums } from './experiment-sums.js';
import type { ExperimentRecord, ExperimentStore, ExposureStore, StopReason } from './ports.js';
import type { ExperimentResults } from './results.js';
import { experimentResults } from './results.js';
import { readShadowResults, type ShadowResults } from './shadow-results.js';
import { emptyShadowCounters, SHADOW_DEFAULTS, SHADOW_MAX, type ShadowSettings, type ShadowStore } from './shadow-types.js';

/** The body of POST /admin/v1/experiments, already shape-checked by the route's schema. */
export interface ExperimentDraft {
  /**
   * A caller-chosen id (the loop's `canary-<runId>`): creating with an id that already exists returns that
   * experiment and creates nothing, so a caller that crashed after its create never starts a second one.
   * Not part of the HTTP API; without it the service picks one (`newId`).
   */
  id?: string | undefined;
  domain: string;
  mode: ExperimentRecord['mode'];
  arms: ExperimentRecord['arms'];
  trafficShare?: number | undefined;
  guardrails?: ExperimentRecord['guardrails'] | undefined;
  /** Mode `shadow` only; defaults SHADOW_DEFAULTS. */
  shadow?: Partial<ShadowSettings> | undefined;
}

/**
 * An experiment with its results (GET /admin/v1/experiments/{id}). A shadow experiment served nobody: its
 * `arms` are empty, `comparison` null, and `shadow` holds its settings and scores.
 */
export type ExperimentWithResults = Omit<ExperimentRecord, 'arms' | 'pValues' | 'shadow'> & ExperimentResults & { shadow?: ShadowResults };

/** What the service is built from. */
export interface ExperimentAdminDeps {
  store: ExperimentStore;
  exposures: ExposureStore;
  registry: Pick<PromptRegistry, 'get' | 'activate'>;
  clock: Clock;
  newId(): string;
  /** Most experiments running at once (bounds the Prometheus label values). */
  maxRunning: number;
  /** Guardrail limits an experiment gets unless its body sets its own. */
  defaultGuardrails: ExperimentRecord['guardrails'];
  /** Mixture tuning and minimum sample of the always-valid tests. */
  statistics?: LookOptions | undefined;
  /** After a running experiment was created, stopped or promoted (refresh the serving snapshot). */
  onChange?: () => Promise<void>;
  /** After an experiment was stopped, by why (Prometheus). */
  onStopped?: (kind: StopReason['kind']) => void;
  /** After every results computation (Prometheus estimates). */
  onResults?: (record: ExperimentRecord, results: ExperimentResults) => void;
  /** Shadow scoring's records and counters (results of `shadow` experiments; none: they read as empty). */
  shadowStore?: ShadowStore | undefined;
}

/** The service. */
export interface ExperimentAdmin {
  create(draft: ExperimentDraft): Promise<ExperimentRecord>;
  list(domain?: string): Promise<ExperimentRecord[]>;
  results(id: string): Promise<ExperimentWithResults>;
  /** Stops a running experiment; `message` says who stopped it and why (default: the admin API). */
  stop(id: string, opts?: { message?: string | undefined }): Promise<ExperimentRecord>;
  promote(id: string, arm: string): Promise<{ experiment: ExperimentRecord; activated: string | null }>;
  /** Reads every running experiment's results, lowering p-values and stopping guardrail breaches. */
  look(): Promise<void>;
}

/** The shadow settings of a draft with the defaults filled in; InvalidInputError out of range. */
function shadowSettings(draft: ExperimentDraft): ShadowSettings {
  const settings = { ...SHADOW_DEFAULTS, ...draft.shadow };
  for (const key of ['maxConcurrency', 'llmCallsPerHour'] as const) {
    const v = settings[key];
    if (!(Number.isInteger(v) && v >= 1 && v <= SHADOW_MAX[key])) throw new InvalidInputError(`shadow.${key} must be an integer in [1, ${SHADOW_MAX[key]}], got ${v}`);
  }
  return { maxConcurrency: settings.maxConcurrency, llmCallsPerHour: settings.llmCallsPerHour };
}

function checkArms(draft: ExperimentDraft): void {
  const names = draft.arms.map((a) => a.name);
  if (new Set(names).size !== names.length) throw new InvalidInputError(`arm names must be unique, got ${names.join(', ')}`);
  if (draft.mode === 'shadow') {
    if (draft.arms.length !== 1) throw new InvalidInputError(`shadow scoring takes exactly one (candidate) arm, got ${draft.arms.length}`);
    const share = draft.trafficShare ?? 1;
    if (!(share > 0 && share <= 1)) throw new InvalidInputError(`a shadow experiment's trafficShare must be in (0, 1], got ${share}`);
  } else if (draft.shadow !== undefined) {
    throw new InvalidInputError('`shadow` settings are for mode "shadow" only');
  }
  if (draft.mode === 'interleave' && draft.arms.length !== 2) {
    throw new InvalidInputError(`interleaving needs exactly two arms (control, then treatment), got ${draft.arms.length}`);
  }
  if (draft.mode === 'ab' && !draft.arms.some((a) => (a.weight ?? 1) > 0)) throw new InvalidInputError('at least one arm needs a positive weight');
}

/** What a shadow experiment reads as without a shadow store. */
const EMPTY_SHADOW_STORE: ShadowStore = {
  callsThisHour: () => Promise.resolve(0),
  add: () => Promise.resolve(),
  read: () => Promise.resolve({ counters: emptyShadowCounters(), records: [] }),
  delete: () => Promise.resolve(),
};

/**
 * The stored experiment of a create repeated with its id: it must be the same experiment (domain), else
 * the id is taken by another one.
 */
function sameDraft(existing: ExperimentRecord, draft: ExperimentDraft): ExperimentRecord {
  if (existing.domain !== draft.domain) {
    throw new ConflictError(`experiment id ${JSON.stringify(existing.id)} is taken by an experiment of domain ${JSON.stringify(existing.domain)}`);
  }
  return existing;
}

/** Builds the admin service. */
export function createExperimentAdmin(deps: ExperimentAdminDeps): ExperimentAdmin {
  const { store } = deps;

  async function mustGet(id: string): Promise<ExperimentRecord> {
    const rec = await store.get(id);
    if (!rec) throw new NotFoundError(`experiment ${JSON.stringify(id)} not found`);
    return rec;
  }

  async function compute(rec: ExperimentRecord): Promise<ExperimentWithResults> {
    const sums = await deps.exposures.readSums(rec.id);
    const stats = runningStatsFromSums(rec, sums);
    const results = experimentResults({
      mode: rec.mode,
      arms: stats.arms,
      interleaving: stats.interleaving,
      previousPValues: rec.pValues,
      guardrails: rec.guardrails,
      // EXPERIMENT_MIN_EFFECT is an NDCG@10 lift: it tunes the A/B test. The interleaving preference lives on
      // another scale and keeps its own τ (0.05, the one its figures in docs/experiments.md were measured with).
      statistics: rec.mode === 'interleave' ? { ...deps.statistics, tau: undefined } : deps.statistics,
    });
    const pValues: Record<string, number> = {};
    for (const c of results.comparisons ?? (results.comparison ? [results.comparison] : [])) {
      pValues[typeof c.treatment === 'string' ? c.treatment : c.treatment.arm] = c.pValue;
    }
    // The running minimum makes the p-value always valid across looks; a stopped experiment is frozen.
    if (rec.state === 'running' && Object.keys(pValues).length > 0) await store.lowerPValues(rec.id, pValues);
    deps.onResults?.(rec, results);
    const { arms: _definitions, pValues: _stored, shadow: _none, ...lifecycle } = rec;
    return { ...lifecycle, ...results };
  }

  async function shadowView(rec: ExperimentRecord): Promise<ExperimentWithResults> {
    const shadow = await readShadowResults({ store: deps.shadowStore ?? EMPTY_SHADOW_STORE, exposures: deps.exposures }, rec, deps.statistics);
    const { arms: _definitions, pValues: _stored, shadow: _settings, ...lifecycle } = rec;
    return { ...lifecycle, arms: [], comparison: null, guardrailBreaches: [], shadow };
  }

  async function stopWith(rec: ExperimentRecord, reason: StopReason): Promise<ExperimentRecord | null> {
    const stopped = await store.stop(rec.id, deps.clock.now(), reason);
    if (stopped) {
      deps.onStopped?.(reason.kind);
      await deps.onChange?.();
    }
    return stopped;
  }

  return {
    async create(draft) {
      if (draft.id !== undefined) {
        const existing = await store.get(draft.id);
        if (existing) return sameDraft(existing, draft);
      }
      checkArms(draft);
      for (const arm of draft.arms) {
        if (arm.promptVersion === undefined) continue;
        if (!(await deps.registry.get(draft.domain, arm.promptVersion))) {
          throw new InvalidInputError(
            `arm "${arm.name}": prompt version ${JSON.stringify(arm.promptVersion)} does not exist in domain ${JSON.stringify(draft.domain)}`,
            undefined,
            ErrorCodes.UNKNOWN_PROMPT_VERSION,
          );
        }
      }
      const record: ExperimentRecord = {
        id: draft.id ?? deps.newId(),
        domain: draft.domain,
        mode: draft.mode,
        arms: draft.arms.map((a) => ({ name: a.name, method: a.method, ...(a.promptVersion !== undefined ? { promptVersion: a.promptVersion } : {}), ...(a.weight !== undefined ? { weight: a.weight } : {}) })),
        trafficShare: draft.trafficShare ?? 1,
        // A shadow arm is never served: no guardrail can stop it (its budget and concurrency bound it instead).
        guardrails: draft.mode === 'shadow' ? {} : { ...deps.defaultGuardrails, ...draft.guardrails },
        state: 'running',
        createdAt: deps.clock.now(),
        stoppedAt: null,
        stopReason: null,
        pValues: {},
        ...(draft.mode === 'shadow' ? { shadow: shadowSettings(draft) } : {}),
      };
      const refused = await store.create(record, deps.maxRunning);
      // Two creates of one given id racing: the loser finds the winner's experiment running on the domain.
      if (refused?.reason === 'domain_busy' && draft.id !== undefined && refused.runningId === draft.id) {
        const existing = await store.get(draft.id);
        if (existing) return sameDraft(existing, draft);
      }
      if (refused?.reason === 'domain_busy') {
        throw new ConflictError(`domain ${JSON.stringify(draft.domain)} already has a running experiment (${refused.runningId}); stop it first`, ErrorCodes.EXPERIMENT_RUNNING);
      }
      if (refused) throw new ConflictError(`${refused.max} experiments are running, the most allowed (EXPERIMENTS_MAX_RUNNING)`, ErrorCodes.TOO_MANY_EXPERIMENTS);
      await deps.onChange?.();
      return record;
    },

    list: (domain) => store.list(domain),

    async results(id) {
      const rec = await mustGet(id);
      return rec.mode === 'shadow' ? shadowView(rec) : compute(rec);
    },

    async stop(id, opts) {
      const rec = await mustGet(id);
      const stopped = rec.state === 'running' ? await stopWith(rec, { kind: 'manual', message: opts?.message ?? 'stopped through the admin API' }) : null;
      if (!stopped) throw new ConflictError(`experiment ${id} is not running`, ErrorCodes.EXPERIMENT_NOT_RUNNING);
      return stopped;
    },

    async promote(id, armName) {
      const rec = await mustGet(id);
      const arm = rec.arms.find((a) => a.name === armName);
      if (!arm) throw new InvalidInputError(`experiment ${id} has no arm ${JSON.stringify(armName)} (arms: ${rec.arms.map((a) => a.name).join(', ')})`);
      if (rec.mode === 'shadow') {
        throw new InvalidInputError(`experiment ${id} is a shadow experiment: its arm was never served, so it has no result to promote on; run an ab canary, or activate the version`);
      }
      if (rec.state !== 'running') throw new ConflictError(`experiment ${id} is not running`, ErrorCodes.EXPERIMENT_NOT_RUNNING);
      // Activate first: if that fails the experiment keeps running and nothing changed.
      if (arm.promptVersion !== undefined) await deps.registry.activate(rec.domain, arm.promptVersion);
      const message =
        arm.promptVersion !== undefined
          ? `arm "${arm.name}" promoted: version ${arm.promptVersion} activated for ${rec.domain}`
          : `arm "${arm.name}" promoted: it pins no prompt version, so the active one stays`;
      const stopped = await stopWith(rec, { kind: 'promoted', arm: arm.name, message });
      return { experiment: stopped ?? (await mustGet(id)), activated: arm.promptVersion ?? null };
    },

    async look() {
      for (const rec of await store.running()) {
        // Shadow scoring has no p-value or guardrail, and its results read one exposure per record: not every look.
        if (rec.mode === 'shadow') continue;
        const results = await compute(rec);
        const breach = results.guardrailBreaches[0];
        if (breach) await stopWith(rec, { kind: 'guardrail', arm: breach.arm, message: breach.reason });
      }
    },
  };
}
