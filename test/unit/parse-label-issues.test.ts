import { describe, expect, it } from 'vitest';
import { loadConfig, pipelineOptions } from '../../src/config.js';
import { newContext, rankCandidates } from '../../src/agp/pipeline.js';
import type { RerankTelemetry } from '../../src/agp/ports.js';
import type { Item, LabelIssues, LlmRole } from '../../src/agp/types.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createScriptedLlm } from '../../testkit/scripted-llm.js';

const pipeline = pipelineOptions(loadConfig({}));
const candidates: Item[] = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, title: `Title ${id}` }));

function recorder(): RerankTelemetry & { issues: Array<[LlmRole, LabelIssues]>; outcomes: string[] } {
  const issues: Array<[LlmRole, LabelIssues]> = [];
  const outcomes: string[] = [];
  return {
    issues,
    outcomes,
    profileCache() {},
    parse: (o) => outcomes.push(o),
    parseIssues: (role, i) => issues.push([role, i]),
    backgroundRefresh() {},
  };
}

describe('parse label issues: pipeline → telemetry', () => {
  it('reports each rerank answer\'s duplicate, unknown and missing labels under role rerank', async () => {
    const telemetry = recorder();
    const llm = createScriptedLlm(() => '<ranking>3, 3, 9, 1, 2</ranking>');
    const ctx = newContext(llm, pipeline, Date.now() + 10_000, { telemetry });
    const res = await rankCandidates(ctx, { method: 'direct', candidates, history: [] });
    expect(res.outcome).toBe('repaired');
    expect(telemetry.outcomes).toEqual(['repaired']);
    expect(telemetry.issues).toEqual([['rerank', { duplicate: 1, unknown: 1, missing: 2 }]]);
  });

  it('reports an unparseable answer\'s missing labels as well as its outcome', async () => {
    const telemetry = recorder();
    const llm = createScriptedLlm(() => 'They all look great.');
    const ctx = newContext(llm, pipeline, Date.now() + 10_000, { telemetry });
    await rankCandidates(ctx, { method: 'direct', candidates, history: [] });
    expect(telemetry.outcomes).toEqual(['unparseable']);
    expect(telemetry.issues).toEqual([['rerank', { duplicate: 0, unknown: 0, missing: 5 }]]);
  });
});

describe('agp_parse_label_issues_total', () => {
  it('starts at zero for every kind and adds each answer\'s counts', async () => {
    const m = createMetrics();
    const before = await m.registry.getSingleMetricAsString('agp_parse_label_issues_total');
    for (const kind of ['duplicate', 'unknown', 'missing']) expect(before).toContain(`agp_parse_label_issues_total{role="rerank",kind="${kind}"} 0`);
    m.telemetry.parseIssues?.('rerank', { duplicate: 2, unknown: 0, missing: 3 });
    m.telemetry.parseIssues?.('rerank', { duplicate: 1, unknown: 4, missing: 0 });
    const after = await m.registry.getSingleMetricAsString('agp_parse_label_issues_total');
    expect(after).toContain('agp_parse_label_issues_total{role="rerank",kind="duplicate"} 3');
    expect(after).toContain('agp_parse_label_issues_total{role="rerank",kind="unknown"} 4');
    expect(after).toContain('agp_parse_label_issues_total{role="rerank",kind="missing"} 3');
  });
});
