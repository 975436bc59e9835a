/**
 * What the service keeps from an LLM answer it cannot trust: token counts (src/llm/completion-body.ts) and the
 * profile length (src/agp/pipeline.ts capProfileText).
 */
import { describe, expect, it } from 'vitest';
import { MAX_REPORTED_TOKENS, readCompletionModel, readCompletionText, readReportedUsage } from '../../src/llm/completion-body.js';
import { DEFAULT_PROFILE_MAX_CHARS, capProfileText } from '../../src/agp/pipeline.js';

describe('readReportedUsage', () => {
  it('keeps valid counts, and a missing usage is zero without an anomaly', () => {
    expect(readReportedUsage({ usage: { prompt_tokens: 12, completion_tokens: 3 } })).toEqual({ promptTokens: 12, completionTokens: 3, anomalies: [] });
    expect(readReportedUsage({})).toEqual({ promptTokens: 0, completionTokens: 0, anomalies: [] });
    expect(readReportedUsage({ usage: null })).toEqual({ promptTokens: 0, completionTokens: 0, anomalies: [] });
    expect(readReportedUsage({ usage: { prompt_tokens: 5 } })).toEqual({ promptTokens: 5, completionTokens: 0, anomalies: [] });
  });

  it.each([
    [-5, 0],
    ['12', 0],
    [Number.NaN, 0],
    [null, 0],
    [true, 0],
    [{}, 0],
    [-Infinity, 0],
    [Infinity, MAX_REPORTED_TOKENS],
    [1e308, MAX_REPORTED_TOKENS],
    [MAX_REPORTED_TOKENS + 1, MAX_REPORTED_TOKENS],
    [7.9, 7],
  ])('prompt_tokens %s counts as %s and is reported as an anomaly', (value, expected) => {
    const got = readReportedUsage({ usage: { prompt_tokens: value, completion_tokens: 2 } });
    expect(got).toEqual({ promptTokens: expected, completionTokens: 2, anomalies: ['prompt'] });
  });

  it('a body that is null, a string or an array, or usage that is not an object', () => {
    for (const body of [null, 'null', 42, []]) expect(readReportedUsage(body)).toEqual({ promptTokens: 0, completionTokens: 0, anomalies: [] });
    expect(readReportedUsage({ usage: '12' }).anomalies).toEqual(['prompt', 'completion']);
  });
});

describe('readCompletionText / readCompletionModel', () => {
  it('reads the first choice, and nothing from a malformed body', () => {
    expect(readCompletionText({ choices: [{ message: { content: 'hi' } }] })).toBe('hi');
    for (const body of [null, {}, { choices: 'x' }, { choices: [] }, { choices: [null] }, { choices: [{ message: { content: 3 } }] }]) {
      expect(readCompletionText(body)).toBeUndefined();
    }
    expect(readCompletionModel({ model: 'm1' })).toBe('m1');
    expect(readCompletionModel({ model: '' })).toBeUndefined();
    expect(readCompletionModel(null)).toBeUndefined();
  });
});

describe('capProfileText', () => {
  it('returns a text that fits unchanged (the same string)', () => {
    const text = 'Enjoys space opera.';
    expect(capProfileText(text, 100)).toBe(text);
    expect(capProfileText('x'.repeat(100), 100)).toBe('x'.repeat(100));
  });

  it('cuts at the last word boundary and marks the cut', () => {
    const text = 'alpha beta gamma delta epsilon';
    const out = capProfileText(text, 20);
    expect(out).toBe('alpha beta gamma…');
    expect(out.length).toBeLessThanOrEqual(20);
  });

  it('cuts inside a giant word rather than returning nothing', () => {
    const out = capProfileText('y'.repeat(10_000), 500);
    expect(out).toBe(`${'y'.repeat(499)}…`);
  });

  it('never leaves half a surrogate pair', () => {
    const text = '😀'.repeat(300); // no spaces; 600 UTF-16 units
    const out = capProfileText(text, 100);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out.endsWith('…')).toBe(true);
    expect(() => encodeURIComponent(out)).not.toThrow(); // throws on a lone surrogate
  });

  it('is bounded for a megabyte of text', () => {
    const big = 'word '.repeat(400_000);
    const started = performance.now();
    const out = capProfileText(big, DEFAULT_PROFILE_MAX_CHARS);
    expect(performance.now() - started).toBeLessThan(50);
    expect(out.length).toBeLessThanOrEqual(DEFAULT_PROFILE_MAX_CHARS);
  });
});
