/**
 * The experiments end-to-end suite (test/support/experiments-e2e-suite.ts) on the 3-master Redis Cluster,
 * with two API replicas taking turns: exposures, events, running sums (16 shards) and the experiment
 * registry all work across slots without a cross-slot command, and per-arm results still match to 1e-9.
 */
import { describeExperimentsEndToEnd } from '../support/experiments-e2e-suite.js';
import { startRedisCluster } from '../../testkit/redis-cluster.js';

describeExperimentsEndToEnd(
  'a 3-master Redis Cluster, two replicas',
  async () => {
    const cluster = await startRedisCluster({ masters: 3 });
    return { env: { REDIS_CLUSTER_NODES: cluster.env }, stop: () => cluster.stop() };
  },
  2,
);
