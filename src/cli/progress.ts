/**
 * The training progress display: a cli-progress bar over all batches of the run (with epoch, phase,
 * LLM calls, tokens and the trainer's ETA) on a TTY; one line per phase change otherwise.
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
        stream.write(
          `[agp] epoch ${p.epoch}/${opts.epochs} ${p.phase}: ${p.batch}/${p.totalBatches} batches, ${p.llmCalls} LLM calls, ${p.tokens} tokens, ETA ${eta(p.etaSeconds)}\n`,
        );
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: 'epoch {epoch}/{epochs} [{bar}] {value}/{total} batches | {phase} | LLM calls {calls} | tokens {tokens} | ETA {etaText}',
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
      const payload = { epoch: Math.max(p.epoch, 0), epochs: opts.epochs, phase: p.phase, calls: p.llmCalls, tokens: p.tokens, etaText: eta(p.etaSeconds) };
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
