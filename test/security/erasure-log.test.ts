/**
 * The erasure request's own access-log line names the route, not the user: the id of someone who asked to be
 * forgotten must not be kept in the logs by the very request that forgets them.
 */
import { describe, expect, it } from 'vitest';
import { buildTestApp } from '../support/build-test-app.js';

describe('DELETE /v1/profiles/{userId} access log', () => {
  it('logs the route pattern and the status, never the user id', async () => {
    const t = await buildTestApp({ env: { LOG_LEVEL: 'info' }, captureLogs: true, jobs: false });
    try {
      const userId = 'forget-me-7f3a9c';
      const res = await t.app.inject({ method: 'DELETE', url: `/v1/profiles/${userId}` });
      expect(res.statusCode).toBe(200);
      const lines = t.logs.map((l) => JSON.parse(l) as { msg?: string; req?: { method?: string; url?: string }; res?: { statusCode?: number } });
      const access = lines.filter((l) => l.msg === 'request completed');
      expect(access).toHaveLength(1);
      expect(access[0]).toMatchObject({ req: { method: 'DELETE', url: '/v1/profiles/{userId}' }, res: { statusCode: 200 } });
      expect(t.logs.join('\n')).not.toContain(userId);
      // Other routes still log their real URL.
      await t.app.inject({ method: 'GET', url: '/healthz?probe=1' });
      await t.app.inject({ method: 'GET', url: '/no/such/route' });
      expect(t.logs.join('\n')).toContain('/no/such/route');
    } finally {
      await t.close();
    }
  });
});
