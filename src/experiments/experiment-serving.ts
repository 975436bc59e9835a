/**
 * Serving under experiments: the one place a rerank learns whether its user is in an experiment, which arm
 * (or which interleaved mix of two arms) to serve, and where the exposure is handed to the recorder.
 *
 * - No running experiment for the domain, or the user outside its traffic share: the request is served as
 *   it asked (its `method`, the domain's active prompt) and recorded with `experiment: null`.
 * - `ab`: the arm's method and pinned prompt version replace the request's.
 * - `interleave`: both arms rank the candidates in parallel under the one deadline; the served list is their
 *   team-draft interleaving seeded by the requestId (interleaving.ts), each item credited to its arm. The
 *   response's method, prompt version and fallback are the control arm's unless only the treatment fell
 *   back; `usage` counts both arms' calls.
 *
 * - `shadow`: nobody is served differently: the request is served and recorded as normal serving
 *   (`experiment: null`); afterwards it is offered to the shadow scheduler, which may rerank it with the
 *   candidate arm off the request path (shadow-scheduler.ts).
 *
 * Recording is off the request path (exposure-recorder.ts): this module only builds the record and the
 * sums it adds once written.
 */
import type { ActivePrompt } from '../agp/ports.js';
import { selectHistory } from '../agp/history.js';
import type { RerankInput, RerankOutput, Reranker } from '../agp/reranker.js';
import type { Method, Usage } from '../agp/types.js';
import { assignUser } from './assignment.js';
import type { ArmServing } from './experiment-sums.js';
import { exposureSums } from './experiment-sums.js';
import type { ExposureRecorder } from './exposure-recorder.js';
import type { CatalogueRecorder } from './item-catalogue.js';
import { teamDraftInterleave } from './interleaving.js';
import type { ExperimentRecord, ExposureRecord } from './ports.js';
import type { ShadowScheduler } from './shadow-scheduler.js';

/** An arm ready to serve: its method and, when it pins one, its prompt (resolved when the experiment loads). */
export interface LoadedArm {
  name: string;
  method: Method;
  prompt?: ActivePrompt | undefined;
}

/** A running experiment as serving sees it. */
export interface LoadedExperiment {
  record: ExperimentRecord;
  arms: readonly LoadedArm[];
}

/** Where serving finds the running experiment of a domain (a local snapshot; never awaits storage). */
export interface RunningExperimentLookup {
  forDomain(domain: string): LoadedExperiment | undefined;
}

/** The served answer: the reranker's output plus the experiment and, under interleaving, each item's arm. */
export interface ServedRerank {
  out: RerankOutput;
  experiment: { id: string; arm: string | null } | null;
  /** Per position of `out.order`: the arm that contributed the item (interleaving only). */
  itemArms: readonly string[] | null;
}

/** Per-request facts serving needs beyond the rerank input. */
export interface ServeContext {
  requestId: string;
  /** How many items are returned (the exposure's served list), default all. */
  topN?: number | undefined;
  /** Epoch ms the request arrived. */
  at: number;
}

/** What experiment serving is built from. */
export interface ExperimentServingDeps {
  reranker: Reranker;
  experiments: RunningExperimentLookup;
  recorder: ExposureRecorder;
  /** The domain's active prompt (for the history length an exposure records). */
  activePrompt(domain: string): ActivePrompt;
  /**
   * Fed the history and candidates of every served rerank whose exposure is in the sample (off the request
   * path; item-catalogue.ts): only recorded exposures need titles, so the rest cost nothing.
   */
  catalogue?: CatalogueRecorder | undefined;
  /** Called once per exposure served under an experiment (Prometheus, bounded labels). */
  onExperimentExposure?: (experiment: ExperimentRecord, arms: readonly string[]) => void;
  /** Where requests of a domain with a running shadow experiment are offered after they were served. */
  shadow?: Pick<ShadowScheduler, 'offer'> | undefined;
}

/** Serves reranks, under an experiment when the user is in one. */
export interface ExperimentServing {
  serve(input: RerankInput, ctx: ServeContext): Promise<ServedRerank>;
}

const addUsage = (a: Usage, b: Usage): Usage => ({
  llmCalls: a.llmCalls + b.llmCalls,
  promptTokens: a.promptTokens + b.promptTokens,
  completionTokens: a.completionTokens + b.completionTokens,
});

const armServing = (arm: string, out: RerankOutput): ArmServing => ({
  arm,
  llmCalls: out.usage.llmCalls,
  fellBack: out.fallback !== null,
  latencyMs: out.timingsMs.total,
});

/** Builds experiment-aware serving over the plain reranker. */
export function createExperimentServing(deps: ExperimentServingDeps): ExperimentServing {
  const armInput = (input: RerankInput, arm: LoadedArm): RerankInput => ({ ...input, method: arm.method, prompt: arm.prompt });

  /** Team-draft mix of two arms' full orders; the result is a permutation of the candidates. */
  async function interleave(input: RerankInput, exp: LoadedExperiment, requestId: string): Promise<{ out: RerankOutput; itemArms: string[]; serving: ArmServing[] }> {
    const [control, treatment] = exp.arms as [LoadedArm, LoadedArm];
    const [a, b] = await Promise.all([deps.reranker.rerank(armInput(input, control)), deps.reranker.rerank(armInput(input, treatment))]);
    const mixed = teamDraftInterleave(a.order.map(String), b.order.map(String), requestId);
    const lead = a.fallback === null && b.fallback !== null ? b : a;
    const out: RerankOutput = {
      ...a,
      order: mixed.map((m) => Number(m.itemId)),
      fallback: lead.fallback,
      repaired: a.repaired || b.repaired,
      usage: addUsage(a.usage, b.usage),
      timingsMs: { total: Math.max(a.timingsMs.total, b.timingsMs.total) },
    };
    const names = [control.name, treatment.name];
    return { out, itemArms: mixed.map((m) => names[m.arm] as string), serving: [armServing(control.name, a), armServing(treatment.name, b)] };
  }

  /** The item ids served (after topN), best first. */
  const servedIds = (input: RerankInput, out: RerankOutput, topN: number | undefined): string[] => {
    const n = topN === undefined ? out.order.length : Math.min(topN, out.order.length);
    return out.order.slice(0, n).map((i) => input.candidates[i]?.id ?? '');
  };

  function record(input: RerankInput, ctx: ServeContext, served: ServedRerank, exp: LoadedExperiment | undefined, serving: ArmServing[]): void {
    // Sampled out: nothing to build (neither the exposure, nor its sums, nor the catalogue check).
    if (deps.recorder.sampledOut(ctx.requestId)) return;
    const ids = servedIds(input, served.out, ctx.topN);
    const n = ids.length;
    const historyLength = (input.prompt ?? deps.activePrompt(input.domain)).historyLength;
    const history = selectHistory(input.history, historyLength);
    const exposure: ExposureRecord = {
      requestId: ctx.requestId,
      domain: input.domain,
      userId: input.userId,
      at: ctx.at,
      experiment: served.experiment,
      method: served.out.method,
      promptVersion: served.out.promptVersion,
      fallbackReason: served.out.fallback?.reason ?? null,
      served: ids,
      servedArms: served.itemArms ? served.itemArms.slice(0, n) : null,
      baseline: input.candidates.map((c) => c.id),
      history: history.map((h) => h.id),
    };
    deps.recorder.record(exposure, exp ? exposureSums(exposure, exp.record, serving) : null);
    // Only the items an exposure refers to (the history it used, every candidate): what a build looks up.
    if (deps.catalogue) {
      deps.catalogue.observe(input.domain, history.length === 0 ? input.candidates : [...history, ...input.candidates]);
    }
  }

  return {
    async serve(input, ctx) {
      const found = deps.experiments.forDomain(input.domain);
      const shadow = found?.record.mode === 'shadow' ? found : undefined;
      const exp = shadow ? undefined : found;
      const assignment = exp ? assignUser(exp.record, input.userId) : { inExperiment: false as const };
      let served: ServedRerank;
      let serving: ArmServing[] = [];
      if (!exp || !assignment.inExperiment) {
        served = { out: await deps.reranker.rerank(input), experiment: null, itemArms: null };
      } else if (assignment.mode === 'ab') {
        const arm = exp.arms[assignment.armIndex] as LoadedArm;
        const armIn = armInput(input, arm);
        const out = await deps.reranker.rerank(armIn);
        served = { out, experiment: { id: exp.record.id, arm: arm.name }, itemArms: null };
        serving = [armServing(arm.name, out)];
        input = armIn;
      } else {
        const mixed = await interleave(input, exp, ctx.requestId);
        served = { out: mixed.out, experiment: { id: exp.record.id, arm: null }, itemArms: mixed.itemArms };
        serving = mixed.serving;
        input = armInput(input, exp.arms[0] as LoadedArm);
      }
      // Bookkeeping never fails a rerank, and a failing metrics hook does not cost the exposure.
      try {
        if (exp && served.experiment) deps.onExperimentExposure?.(exp.record, serving.map((s) => s.arm));
      } catch {
        // a metrics bug; the answer and the exposure still go out
      }
      try {
        record(input, ctx, served, served.experiment ? exp : undefined, serving);
      } catch {
        // the recorder counts its own failures; nothing more can be done on the request path
      }
      // Queued, never awaited: the candidate reranks after the answer has gone out (offer never throws).
      if (shadow) deps.shadow?.offer(shadow, ctx.requestId, input, () => servedIds(input, served.out, ctx.topN));
      return served;
    },
  };
}
