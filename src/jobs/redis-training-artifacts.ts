/**
 * Training job artifacts (report and trace, see training-artifacts.ts) in Redis, beside the BullMQ job:
 * same hash tag as the queue, so every key of a job lives in one Cluster slot. While a job runs its trace
 * is kept as long as a failed job is listed (removeOnFail); once the report is written, report and trace
 * expire with the finished job (removeOnComplete).
 */
import type { RedisClient } from '../store/redis-connection.js';
import type { TrainingKeys } from './redis-checkpoint-store.js';
import { TRAINING_JOB_KEEP_SECONDS } from './redis-checkpoint-store.js';
import type { TrainingArtifactStore } from './training-artifacts.js';
import { MAX_TRACE_BYTES, boundReport } from './training-artifacts.js';

// Appends unless the trace would pass its bound, in which case it is marked truncated instead. Atomic, so
// a retried attempt appending after a crashed one cannot push the trace past the bound.
const BOUNDED_APPEND = `
if redis.call('STRLEN', KEYS[1]) + string.len(ARGV[1]) > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[3])
else
  redis.call('APPEND', KEYS[1], ARGV[1])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1`;

/** TTLs of the artifacts, in seconds (defaults: the BullMQ retention of failed and of finished jobs). */
export interface ArtifactTtls {
  runningSeconds?: number;
  finishedSeconds?: number;
}

export function createRedisTrainingArtifacts(redis: RedisClient, keys: TrainingKeys, ttl: ArtifactTtls = {}): TrainingArtifactStore {
  const running = String(ttl.runningSeconds ?? 4 * TRAINING_JOB_KEEP_SECONDS);
  const finished = String(ttl.finishedSeconds ?? TRAINING_JOB_KEEP_SECONDS);
  const k = (jobId: string) => {
    const base = keys.artifacts(jobId);
    return { trace: `${base}:trace`, truncated: `${base}:trace-truncated`, report: `${base}:report` };
  };
  return {
    async appendTrace(jobId, lines) {
      const key = k(jobId);
      await redis.eval(BOUNDED_APPEND, 2, key.trace, key.truncated, lines, String(MAX_TRACE_BYTES), running);
    },
    async saveReport(jobId, report) {
      const key = k(jobId);
      const r = boundReport(report);
      await redis
        .multi()
        .hset(key.report, 'markdown', r.markdown, 'svg', r.svg)
        .expire(key.report, finished)
        .expire(key.trace, finished)
        .expire(key.truncated, finished)
        .exec();
    },
    async report(jobId) {
      const [markdown, svg] = await redis.hmget(k(jobId).report, 'markdown', 'svg');
      return markdown != null && svg != null ? { markdown, svg } : null;
    },
    async trace(jobId) {
      const key = k(jobId);
      const [jsonl, truncated] = await redis.mget(key.trace, key.truncated);
      return jsonl ? { jsonl, truncated: truncated === '1' } : null;
    },
    async delete(jobId) {
      const key = k(jobId);
      await redis.del(key.trace, key.truncated, key.report);
    },
  };
}
