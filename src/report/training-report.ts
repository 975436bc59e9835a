/**
 * The training report, shared by `agp train` (report.md, ndcg.svg) and the admin API's training jobs:
 * Markdown with an inline SVG chart of train/val NDCG@10 per epoch, LLM calls against formula (7), a diff
 * of the prompt across accepted edits, and the decision of every batch. Decision counts come from one
 * tally (tallyDecisions) so the tables cannot disagree.
 */
import type { PromptVersion } from '../agp/ports.js';
import type { TrainingResult } from '../agp/trainer.js';
import { tallyDecisions } from '../agp/checkpoint.js';
import { lineChartSvg } from './ndcg-chart-svg.js';
import { sentenceDiff } from './prompt-diff.js';

const f3 = (n: number) => n.toFixed(3);

/** The NDCG@10 chart of a run (epoch 0 = the initial prompt on validation). */
export function trainingChartSvg(r: TrainingResult): string {
  const val: Array<[number, number]> = [[0, r.metrics.initialValNdcg], ...r.metrics.valNdcgPerEpoch.map((v, i): [number, number] => [i + 1, v])];
  const trainPts = r.metrics.trainNdcgPerEpoch.map((v, i): [number, number] => [i + 1, v]);
  const last = Math.max(1, r.metrics.valNdcgPerEpoch.length);
  return lineChartSvg(
    [
      { name: 'train NDCG@10', color: '#1f77b4', points: trainPts },
      { name: 'validation NDCG@10', color: '#ff7f0e', points: val },
      { name: 'baseline order (val)', color: '#888888', dashed: true, points: [[0, r.metrics.baselineValNdcg], [last, r.metrics.baselineValNdcg]] },
    ],
    { title: 'NDCG@10 per epoch', xLabel: 'epoch', yLabel: 'NDCG@10' },
  );
}

function callsSection(r: TrainingResult): string[] {
  const p = r.params;
  const lines = [
    '## LLM calls vs. formula (7)',
    '',
    `Formula (7) of the paper counts (batch_size × 3 + 2) × users / batch_size calls per epoch: profile, rerank and a`,
    `"reason" per user, plus summarise and edit per batch. For this run's ${r.split.train} training users in batches of ${p.batchSize}`,
    `that is **${r.callFormula.paperPerEpoch}** calls per epoch. This run used reasons = \`${p.reasons}\` and verifySteps = ${p.verifySteps}`,
    '(verification re-runs the batch: 2 calls per user per attempt; batches where every user already ranks the target first skip',
    'summarise/edit/verify). The per-role columns count training calls only; validation calls (profile and rerank of',
    'every validation user) are in their own column.',
    '',
    '| epoch | formula (7) | measured (training) | validation | profile | rerank | reason | summarise | edit |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const e of r.epochs) {
    const b = e.byRole;
    lines.push(
      `| ${e.epoch} | ${r.callFormula.paperPerEpoch} | ${e.byPhase.train} | ${e.byPhase.validate} | ${b.profile} | ${b.rerank} | ${b.reason} | ${b.summarise} | ${b.edit} |`,
    );
  }
  const c = r.counters;
  lines.push('', `Total: ${c.llmCalls} calls (${c.failedCalls} failed), ${c.promptTokens + c.completionTokens} tokens (${c.promptTokens} prompt + ${c.completionTokens} completion).`, '');
  return lines;
}

function editsSection(r: TrainingResult): string[] {
  const lines = ['## Accepted edits', ''];
  if (r.acceptedEdits.length === 0) lines.push('No edit was accepted: the prompt is unchanged.', '');
  for (const e of r.acceptedEdits) {
    const after = e.meanRankAfter === null ? 'not verified' : e.meanRankAfter.toFixed(2);
    lines.push(
      `### Epoch ${e.epoch}, batch ${e.batch + 1} (attempt ${e.attempt}): mean target rank ${e.meanRankBefore.toFixed(2)} → ${after}`,
      '',
      `Instruction: ${e.instruction}`,
      '',
      '```diff',
      sentenceDiff(e.before, e.after),
      '```',
      '',
    );
  }
  return lines;
}

function batchesSection(r: TrainingResult): string[] {
  const t = tallyDecisions(r.batches);
  const lines = [
    '## Batches',
    '',
    `${r.batches.length} batches: ${t.accepted} accepted, ${t.rejected} rejected by verification, ${t.unusable} unusable ` +
      `(no usable edit, or the optimiser failed), ${t.skipped} skipped (every user already ranked the target first, or every user failed).`,
    '',
    '| epoch | batch | users | dropped | mean rank | not first | decision | attempts | rank after | note |',
    '|---:|---:|---:|---:|---:|---:|---|---:|---:|---|',
  ];
  for (const b of r.batches) {
    const after = b.meanRankAfter === undefined ? '' : b.meanRankAfter.toFixed(2);
    const note = (b.note ?? '').replace(/\|/g, '\\|');
    lines.push(`| ${b.epoch} | ${b.batch + 1} | ${b.users} | ${b.dropped} | ${b.meanRank.toFixed(2)} | ${b.notFirst} | ${b.decision} | ${b.attempts} | ${after} | ${note} |`);
  }
  lines.push('');
  return lines;
}

/** The Markdown training report. */
export function renderTrainingReport(r: TrainingResult, version: PromptVersion | null): string {
  const m = r.metrics;
  const lines = [
    `# AGP training report: ${r.params.domain}`,
    '',
    '| | |',
    '|---|---|',
    `| prompt version | ${version ? `\`${version.version}\` (parent \`${version.parentVersion ?? '-'}\`)` : '(none written)'} |`,
    `| outcome | ${r.state} (stopped by ${r.stoppedBy}) |`,
    `| users | ${r.split.train} training, ${r.split.validation} validation |`,
    `| epochs run | ${r.epochs.length} of ${r.params.epochs}; best on validation: epoch ${r.bestEpoch}${r.bestEpoch === 0 ? ' (the initial prompt)' : ''} |`,
    `| validation NDCG@10 | baseline order ${f3(m.baselineValNdcg)}, initial prompt ${f3(m.initialValNdcg)}, best ${f3(r.bestValNdcg)} |`,
    `| LLM | ${m.llmCalls} calls, ${m.tokens} tokens |`,
    `| params | batch ${r.params.batchSize}, history ${r.params.historyLength}, verify ${r.params.verifySteps}, reasons ${r.params.reasons}, seed ${r.params.seed} |`,
    '',
    trainingChartSvg(r),
    '',
    '| epoch | train NDCG@10 | val NDCG@10 | calls | tokens | accepted | rejected | unusable | skipped | dropped users |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| 0 | | ${f3(m.initialValNdcg)} | | | | | | | |`,
    ...r.epochs.map((e) => {
      const t = tallyDecisions(r.batches.filter((b) => b.epoch === e.epoch));
      return `| ${e.epoch} | ${f3(e.trainNdcg)} | ${f3(e.valNdcg)} | ${e.llmCalls} | ${e.tokens} | ${t.accepted} | ${t.rejected} | ${t.unusable} | ${t.skipped} | ${e.droppedUsers} |`;
    }),
    '',
    ...callsSection(r),
    ...editsSection(r),
    ...batchesSection(r),
    '## Selected prompt',
    '',
    '```text',
    r.prompt,
    '```',
    '',
  ];
  return lines.join('\n');
}

