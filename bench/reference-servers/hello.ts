/**
 * Reference server 1: bare Fastify "hello" (no logger, no schema, no I/O). The ceiling of what one Node
 * process with Fastify can answer on this machine. Runs as its own child process; announces its URL.
 */
import Fastify from 'fastify';
import { childLifecycle, toParent } from '../lib/ipc.js';

const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));

childLifecycle(() => app.close());
const address = await app.listen({ port: 0, host: '127.0.0.1' });
toParent({ type: 'ready', url: address });
