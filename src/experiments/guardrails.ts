/**
 * Guardrails: an arm that costs too much or serves too badly is stopped however good its clicks look.
 * Pure: the caller supplies each arm's running counters and the limits, and gets back which arms breach
 * and why, in words an operator can act on. Nothing fires before `minExposures`, so the first slow
 * request of a fresh arm (a cold cache, one LLM timeout) cannot stop it.
 */

/** Configurable limits; a limit left undefined is not checked. */
export interface GuardrailLimits {
  /** Highest allowed share of exposures served by a fallback (0..1). */
  maxFallbackRate?: number | undefined;
  /** Highest allowed p99 latency of the arm's reranks, in ms. */
  maxLatencyP99Ms?: number | undefined;
  /** Highest allowed mean number of LLM calls per exposure. */
  maxLlmCallsPerExposure?: number | undefined;
  /** Exposures an arm needs before any guardrail can fire (default 200). */
  minExposures?: number | undefined;
}

/** What the guardrails read for one arm. */
export interface ArmHealth {
  name: string;
  exposures: number;
  fallbacks: number;
  llmCalls: number;
  /** p99 of the arm's rerank latency, ms (null when unknown). */
  latencyP99Ms: number | null;
}

/** One breach: the arm, the guardrail and a sentence saying why. */
export interface GuardrailBreach {
  arm: string;
  guardrail: 'fallbackRate' | 'latencyP99Ms' | 'llmCallsPerExposure';
  value: number;
  limit: number;
  reason: string;
}

/** Rates an arm is judged on (also reported per arm in the results). */
export function armRates(h: ArmHealth): { fallbackRate: number; llmCallsPerExposure: number } {
  return h.exposures > 0 ? { fallbackRate: h.fallbacks / h.exposures, llmCallsPerExposure: h.llmCalls / h.exposures } : { fallbackRate: 0, llmCallsPerExposure: 0 };
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(3));

/** Every breach of every arm, in arm order; empty when all arms are within limits or too young to judge. */
export function checkGuardrails(arms: readonly ArmHealth[], limits: GuardrailLimits): GuardrailBreach[] {
  const minExposures = limits.minExposures ?? 200;
  const out: GuardrailBreach[] = [];
  for (const h of arms) {
    if (h.exposures < minExposures) continue;
    const { fallbackRate, llmCallsPerExposure } = armRates(h);
    const checks: [GuardrailBreach['guardrail'], number | null, number | undefined, string][] = [
      ['fallbackRate', fallbackRate, limits.maxFallbackRate, 'fallback rate'],
      ['latencyP99Ms', h.latencyP99Ms, limits.maxLatencyP99Ms, 'p99 latency (ms)'],
      ['llmCallsPerExposure', llmCallsPerExposure, limits.maxLlmCallsPerExposure, 'LLM calls per exposure'],
    ];
    for (const [guardrail, value, limit, label] of checks) {
      if (value === null || limit === undefined || !(value > limit)) continue;
      out.push({ arm: h.name, guardrail, value, limit, reason: `arm "${h.name}": ${label} ${fmt(value)} exceeds the limit ${fmt(limit)} over ${h.exposures} exposures` });
    }
  }
  return out;
}
