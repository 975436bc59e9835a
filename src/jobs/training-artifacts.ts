/**
 * What a training job leaves behind besides its prompt version: the training report and the LLM call
 * trace, the same artifacts `agp train` writes to its output directory. The store is a port with two
 * adapters: in memory for the in-process engine (createMemoryTrainingArtifacts, below) and Redis for BullMQ
 * (redis-training-artifacts.ts), each keeping them as long as the engine keeps the job.
 *
 * Both are bounded: a trace stops growing at MAX_TRACE_BYTES (marked truncated) and a report is cut at
 * MAX_REPORT_BYTES, so a long run cannot fill Redis or the heap. Writing artifacts never fails a job.
 */
import { LRUCache } from 'lru-cache';
import type { PromptVersion, Logger } from '../agp/ports.js';
import type { TraceEntry, TraceSink } from '../agp/trace.js';
import type { TrainingResult } from '../agp/trainer.js';
import { renderTrainingReport, trainingChartSvg } from '../report/training-report.js';
import type { TrainingReport, TrainingTrace } from './training-jobs.js';

/** A job's trace stops growing here (about 8 MiB: tens of thousands of calls). */
export const MAX_TRACE_BYTES = 8 * 1024 * 1024;
/** A report longer than this (1 MiB: thousands of batch rows) is cut. */
export const MAX_REPORT_BYTES = 1024 * 1024;
/** Trace lines are buffered and written in chunks of about this size, or every FLUSH_MS. */
const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 2000;

/** Where a job engine keeps its jobs' artifacts. */
export interface TrainingArtifactStore {
  /** Appends JSONL lines to the job's trace; past MAX_TRACE_BYTES nothing is appended and the trace is marked truncated. */
  appendTrace(jobId: string, lines: string): Promise<void>;
  saveReport(jobId: string, report: TrainingReport): Promise<void>;
  report(jobId: string): Promise<TrainingReport | null>;
  trace(jobId: string): Promise<TrainingTrace | null>;
  delete(jobId: string): Promise<void>;
}

/** What a running job writes its artifacts through (TrainingRunContext.artifacts). */
export interface TrainingArtifactWriter {
  /** The trainer's trace sink: buffers entries and appends them in chunks. */
  traceSink: TraceSink;
  /** Renders and stores the report of a finished (or stopped) run, after flushing the trace. */
  saveReport(result: TrainingResult, version: PromptVersion | null): Promise<void>;
  /** Writes out buffered trace entries. */
  flush(): Promise<void>;
}

/** Cuts a report to MAX_REPORT_BYTES, saying so at the end. */
export function boundReport(r: TrainingReport): TrainingReport {
  if (Buffer.byteLength(r.markdown) <= MAX_REPORT_BYTES) return r;
  const cut = Buffer.from(r.markdown).subarray(0, MAX_REPORT_BYTES - 200).toString('utf8');
  return { ...r, markdown: `${cut}\n\n(report truncated at ${MAX_REPORT_BYTES} bytes)\n` };
}

/** A writer for one job. Store errors are logged, never thrown: artifacts are a by-product of training. */
export function createArtifactWriter(store: TrainingArtifactStore, jobId: string, log: Logger, now: () => number = Date.now): TrainingArtifactWriter {
  let buffer: string[] = [];
  let bytes = 0;
  let lastFlush = now();
  let chain: Promise<void> = Promise.resolve();
  const guard = (what: string) => (err: unknown) => log.warn({ jobId, err: err instanceof Error ? err.message : String(err) }, `training ${what} not stored`);
  const flush = (): Promise<void> => {
    if (buffer.length > 0) {
      const chunk = buffer.join('');
      buffer = [];
      bytes = 0;
      chain = chain.then(() => store.appendTrace(jobId, chunk)).catch(guard('trace'));
    }
    lastFlush = now();
    return chain;
  };
  return {
    traceSink(entry: TraceEntry) {
      const line = `${JSON.stringify(entry)}\n`;
      buffer.push(line);
      bytes += line.length;
      if (bytes >= FLUSH_BYTES || now() - lastFlush >= FLUSH_MS) void flush();
    },
    async saveReport(result, version) {
      await flush();
      const report = boundReport({ markdown: renderTrainingReport(result, version), svg: `${trainingChartSvg(result)}\n` });
      await store.saveReport(jobId, report).catch(guard('report'));
    },
    flush,
  };
}

interface MemoryEntry {
  trace: string;
  truncated: boolean;
  report: TrainingReport | null;
}

/**
 * In-memory artifacts for the in-process engine. Besides the per-job bounds, all jobs together hold at
 * most `maxBytes` (default 64 MiB): the least recently used job's artifacts are dropped first.
 */
export function createMemoryTrainingArtifacts(opts: { maxBytes?: number } = {}): TrainingArtifactStore {
  const size = (e: MemoryEntry) => Math.max(1, e.trace.length + (e.report ? e.report.markdown.length + e.report.svg.length : 0));
  const cache = new LRUCache<string, MemoryEntry>({ maxSize: opts.maxBytes ?? 64 * 1024 * 1024, sizeCalculation: size });
  const entry = (jobId: string): MemoryEntry => cache.get(jobId) ?? { trace: '', truncated: false, report: null };
  return {
    appendTrace(jobId, lines) {
      const e = entry(jobId);
      if (Buffer.byteLength(e.trace) + Buffer.byteLength(lines) > MAX_TRACE_BYTES) e.truncated = true;
      else e.trace += lines;
      cache.set(jobId, e); // re-set: the size changed
      return Promise.resolve();
    },
    saveReport(jobId, report) {
      cache.set(jobId, { ...entry(jobId), report: boundReport(report) });
      return Promise.resolve();
    },
    report: (jobId) => Promise.resolve(cache.get(jobId)?.report ?? null),
    trace(jobId) {
      const e = cache.get(jobId);
      return Promise.resolve(e && e.trace !== '' ? { jsonl: e.trace, truncated: e.truncated } : null);
    },
    delete(jobId) {
      cache.delete(jobId);
      return Promise.resolve();
    },
  };
}
