/** The experiments end-to-end suite (test/support/experiments-e2e-suite.ts) on a private redis-server. */
import { describeExperimentsEndToEnd } from '../support/experiments-e2e-suite.js';
import { startRedisServer } from '../../testkit/redis-server.js';

describeExperimentsEndToEnd('one redis-server', async () => {
  const redis = await startRedisServer();
  return { env: { REDIS_URL: redis.url }, stop: () => redis.stop() };
});
