/**
 * The TrainingJobs conformance suite against both engines: the in-process runner and BullMQ (a producer
 * plus a worker on a private redis-server), with the real openai SDK talking to the LLM double.
 */
import { createBullmqTrainingJobs } from '../../src/jobs/bullmq-training-jobs.js';
import { startTrainingWorker } from '../../src/jobs/bullmq-training-worker.js';
import { createInProcessTrainingJobs } from '../../src/jobs/in-process-training-jobs.js';
import { createRedis } from '../../src/store/redis-connection.js';
import { startRedisServer, uniquePrefix } from '../../testkit/redis-server.js';
import type { RedisServerHandle } from '../../testkit/redis-server.js';
import { standalone } from './port-harness.js';
import { describeTrainingJobsConformance } from './training-jobs-conformance.js';

describeTrainingJobsConformance(
  'in-process',
  standalone((deps) => createInProcessTrainingJobs({ ...deps, retryDelayMs: deps.backoffMs })),
);

let server: RedisServerHandle | undefined;
describeTrainingJobsConformance('BullMQ', {
  async start() {
    server = await startRedisServer();
  },
  async stop() {
    await server?.stop();
  },
  create(deps) {
    const url = (server as RedisServerHandle).url;
    const keyPrefix = uniquePrefix('conf');
    const producer = createRedis(url, { role: 'queue' });
    const consumer = createRedis(url, { role: 'queue' });
    const jobs = createBullmqTrainingJobs({
      ...deps,
      connection: producer,
      keyPrefix,
      jobOptions: { attempts: deps.attempts, backoff: { type: 'exponential', delay: deps.backoffMs } },
    });
    const worker = startTrainingWorker({
      ...deps,
      connection: consumer,
      keyPrefix,
      pollMs: 50,
      busyDelayMs: 100,
      lockDurationMs: 1_000,
      stalledIntervalMs: 250,
      concurrency: 3,
    });
    let closing: Promise<void> | undefined;
    return Promise.resolve({
      submit: (req) => jobs.submit(req),
      get: (id) => jobs.get(id),
      list: () => jobs.list(),
      cancel: (id) => jobs.cancel(id),
      report: (id) => jobs.report(id),
      trace: (id) => jobs.trace(id),
      close: () =>
        (closing ??= (async () => {
          await worker.close({ force: true });
          await jobs.close();
          await Promise.allSettled([producer.quit(), consumer.quit()]);
        })()),
    });
  },
});
