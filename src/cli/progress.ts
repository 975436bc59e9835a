/**
 * The training progress display: a cli-progress bar on a TTY, one line per phase change otherwise. Both
 * print the same status (statusText): "batch" always counts within the current epoch, as the trainer
 * reports it; only the bar's fill covers the whole run.
 */
import cliProgress from 'cli-progress';
import type { TrainingProgress } from '../agp/trainer.js';

/** A progress sink for `train`. */
export interface ProgressDisplay {
  update(p: TrainingProgress): void;
  stop(): void;
}

function eta(s: number | null): string {
  if (s === null) return '…';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The status shown by both displays: epoch, batch within that epoch, phase, LLM calls, tokens, ETA. */
export function statusText(p: TrainingProgress, epochs: number): string {
  return (
    `epoch ${Math.max(p.epoch, 0)}/${epochs} | batch ${p.batch}/${p.totalBatches} of this epoch | ${p.phase} | ` +
    `LLM calls ${p.llmCalls} | tokens ${p.tokens} | ETA ${eta(p.etaSeconds)}`
  );
}

/** Creates the display; `enabled: false` shows nothing. */
export function createTrainingProgress(opts: { enabled: boolean; epochs: number; stream?: NodeJS.WriteStream }): ProgressDisplay {
  const stream = opts.stream ?? process.stderr;
  if (!opts.enabled) return { update() {}, stop() {} };
  if (!stream.isTTY) {
    let last = '';
    return {
      update(p) {
        const key = `${p.epoch}:${p.phase}`;
        if (key === last && p.phase === 'batch' && p.batch % 10 !== 0) return;
        last = key;
        stream.write(`[agp] ${statusText(p, opts.epochs)}\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: '[{bar}] {status}',
      stream,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const total = Math.max(1, p.totalBatches * opts.epochs);
      const value = Math.min(total, Math.max(0, (p.epoch - 1) * p.totalBatches + p.batch));
      const payload = { status: statusText(p, opts.epochs) };
      if (!started) {
        bar.start(total, value, payload);
        started = true;
      } else bar.update(value, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
