/** Guardrails: which arm breaches which limit and why, and nothing before the minimum sample. */
import { describe, expect, it } from 'vitest';
import type { ArmHealth } from '../../src/experiments/guardrails.js';
import { checkGuardrails } from '../../src/experiments/guardrails.js';

const arm = (over: Partial<ArmHealth>): ArmHealth => ({ name: 'a', exposures: 1000, fallbacks: 10, llmCalls: 1000, latencyP99Ms: 400, ...over });
const limits = { maxFallbackRate: 0.05, maxLatencyP99Ms: 1500, maxLlmCallsPerExposure: 1.5, minExposures: 200 };

describe('checkGuardrails', () => {
  it('passes arms within every limit', () => {
    expect(checkGuardrails([arm({ name: 'control' }), arm({ name: 'agp' })], limits)).toEqual([]);
  });

  it('names the arm, the guardrail, the value, the limit and says why', () => {
    const breaches = checkGuardrails(
      [arm({ name: 'control' }), arm({ name: 'agp', fallbacks: 120, latencyP99Ms: 2300, llmCalls: 2000 })],
      limits,
    );
    expect(breaches.map((b) => [b.arm, b.guardrail])).toEqual([
      ['agp', 'fallbackRate'],
      ['agp', 'latencyP99Ms'],
      ['agp', 'llmCallsPerExposure'],
    ]);
    expect(breaches[0]).toMatchObject({ value: 0.12, limit: 0.05 });
    expect(breaches[0]?.reason).toBe('arm "agp": fallback rate 0.120 exceeds the limit 0.0500 over 1000 exposures');
    expect(breaches[1]?.reason).toMatch(/p99 latency \(ms\) 2300 exceeds the limit 1500/);
    expect(breaches[2]?.reason).toMatch(/LLM calls per exposure 2 exceeds the limit 1\.50/);
  });

  it('cannot fire before the minimum sample, and skips limits that are not set or values that are unknown', () => {
    expect(checkGuardrails([arm({ exposures: 199, fallbacks: 199, llmCalls: 199 })], limits)).toEqual([]);
    expect(checkGuardrails([arm({ exposures: 200, fallbacks: 199, llmCalls: 200 })], limits).map((b) => b.guardrail)).toEqual(['fallbackRate']);
    expect(checkGuardrails([arm({ fallbacks: 900, latencyP99Ms: null })], { maxLatencyP99Ms: 10 })).toEqual([]);
    expect(checkGuardrails([arm({ exposures: 10_000, fallbacks: 500 })], limits)).toEqual([]); // exactly at the limit
  });
});
