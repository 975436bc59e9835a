/**
 * Human-readable reports: the training report (Markdown with an inline SVG chart of train/val NDCG@10
 * per epoch, LLM calls against formula (7), and a diff of the prompt across accepted edits) and the
 * evaluation table.
 */
import type { PromptVersion } from '../agp/ports.js';
import type { TrainingResult } from '../agp/trainer.js';
import type { EvalMethod, EvaluationResult } from '../agp/evaluate.js';
import { METRIC_NAMES } from '../agp/evaluate.js';
import { lineChartSvg, sentenceDiff } from './report-svg.js';

const f3 = (n: number) => n.toFixed(3);
const ci = (c: [number, number]) => `[${f3(c[0])}, ${f3(c[1])}]`;

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
    'summarise/edit/verify).',
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
  const count = (d: string) => r.batches.filter((b) => b.decision === d).length;
  const skipped = count('skipped_all_first');
  const lines = [
    '## Batches',
    '',
    `${r.batches.length} batches: ${count('accepted')} accepted, ${count('rejected')} rejected by verification, ` +
      `${count('edit_unusable')} unusable edits, ${count('optimizer_failed')} optimiser failures, ` +
      `${skipped} skipped because every user already ranked the target first, ${count('skipped_no_users')} skipped because every user failed.`,
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
    '| epoch | train NDCG@10 | val NDCG@10 | calls | tokens | accepted | rejected | skipped | dropped users |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| 0 | | ${f3(m.initialValNdcg)} | | | | | | |`,
    ...r.epochs.map(
      (e) => `| ${e.epoch} | ${f3(e.trainNdcg)} | ${f3(e.valNdcg)} | ${e.llmCalls} | ${e.tokens} | ${e.accepted} | ${e.rejected} | ${e.skipped} | ${e.droppedUsers} |`,
    ),
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

/** The plain-text evaluation table: metrics with CI95, and the paired NDCG@10 difference vs. base. */
export function renderEvalTable(r: EvaluationResult): string {
  const header = ['method', ...METRIC_NAMES.map((m) => `${m} [CI95]`), 'Δndcg@10 vs base [CI95] p', 'failed'];
  const rows = (Object.entries(r.methods) as Array<[EvalMethod, NonNullable<EvaluationResult['methods'][EvalMethod]>]>).map(([name, ev]) => {
    const d = ev.vsBase?.['ndcg@10'];
    return [
      name,
      ...METRIC_NAMES.map((m) => `${f3(ev.aggregate[m].mean)} ${ci(ev.aggregate[m].ci95)}`),
      d ? `${d.meanDiff >= 0 ? '+' : ''}${f3(d.meanDiff)} ${ci(d.ci95)} p=${d.pValue.toFixed(3)}` : '',
      String(ev.failures),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [`n = ${r.n} users`, line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
