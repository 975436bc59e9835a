/**
 * The admin console (issue 13): plain ES modules and one stylesheet from the repository's `console/`
 * directory, served by the API itself under /admin, plus the endpoint the browser posts CSP violation
 * reports to. Registered only when ADMIN_TOKEN is set, like the admin API it talks to.
 *
 * The files are read once at registration: there are a dozen small ones, so the process holds them in
 * memory and no request touches the file system (and no path from a URL ever reaches it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { notFound } from '../../errors.js';

/** The console's files: `console/` at the repository root, the same two levels up from src/ and dist/. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../../console/', import.meta.url));

/** Where the browser posts CSP violation reports. Unauthenticated: browsers send reports without headers. */
export const CSP_REPORT_PATH = '/admin/csp-report';

/**
 * The console's Content-Security-Policy: only its own scripts, styles and API; no inline script or style,
 * no framing, no plugins. `report-uri` rather than `report-to`: Chromium batches Reporting-API deliveries
 * for up to a minute and ignores report-uri when report-to is present, and Firefox only speaks report-uri.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  `report-uri ${CSP_REPORT_PATH}`,
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Largest CSP report accepted; real ones are well under 2 KiB. */
const REPORT_LIMIT_BYTES = 16 * 1024;
/**
 * Reports logged per minute. The endpoint has to be open (browsers send reports without credentials), so a
 * flood of fake reports must not flood the log: past this, reports are only counted until the minute ends.
 */
const REPORT_LOG_PER_MINUTE = 20;

/** What the console plugin exposes: the number of CSP reports received (also logged, one warning each). */
export interface ConsoleStats {
  cspReports: number;
}

/** Reads every asset of `dir` into memory: name → body. Only flat, known file types are served. */
export function loadConsoleAssets(dir: string = CONSOLE_DIR): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile() && TYPES[extname(e.name)]) files.set(e.name, readFileSync(join(dir, e.name)));
  }
  return files;
}

/** Security headers of every console response. */
function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-cache');
}

/** Shortens a report field for the log: a violation report is attacker-influenced text. */
const clip = (v: unknown): string | undefined => (typeof v === 'string' ? v.slice(0, 200) : undefined);

/** Registers GET /admin, GET /admin/assets/{file} and POST /admin/csp-report. */
export function registerConsoleRoutes(app: FastifyInstance, assets: Map<string, Buffer> = loadConsoleAssets()): ConsoleStats {
  const stats: ConsoleStats = { cspReports: 0 };
  let logWindow = { startedAt: 0, logged: 0 };
  const index = assets.get('index.html');
  if (!index) throw new Error(`admin console: index.html missing in ${CONSOLE_DIR}`);

  app.register(async (scope) => {
    const page = async (_req: unknown, reply: FastifyReply) => secure(reply).type(TYPES['.html'] as string).send(index);
    scope.get('/admin', { schema: { hide: true } }, page);
    scope.get('/admin/', { schema: { hide: true } }, page);
    scope.get<{ Params: { file: string } }>('/admin/assets/:file', { schema: { hide: true } }, async (req, reply) => {
      const body = req.params.file === 'index.html' ? undefined : assets.get(req.params.file);
      if (!body) throw notFound(`console asset ${req.params.file}`);
      return secure(reply).type(TYPES[extname(req.params.file)] as string).send(body);
    });

    // report-uri posts application/csp-report; accept the Reporting API's type too, as plain text.
    scope.addContentTypeParser(['application/csp-report', 'application/reports+json'], { parseAs: 'string', bodyLimit: REPORT_LIMIT_BYTES }, (_req, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(null, undefined);
      }
    });
    scope.post(CSP_REPORT_PATH, { schema: { hide: true }, bodyLimit: REPORT_LIMIT_BYTES }, async (req, reply) => {
      stats.cspReports++;
      const now = Date.now();
      if (now - logWindow.startedAt >= 60_000) logWindow = { startedAt: now, logged: 0 };
      if (++logWindow.logged > REPORT_LOG_PER_MINUTE) return reply.code(204).send();
      const body = req.body as { 'csp-report'?: Record<string, unknown> } | Array<{ body?: Record<string, unknown> }> | undefined;
      const r = (Array.isArray(body) ? body[0]?.body : body?.['csp-report']) ?? {};
      req.log.warn(
        { csp: { directive: clip(r['violated-directive'] ?? r['effectiveDirective']), blocked: clip(r['blocked-uri'] ?? r['blockedURL']), sample: clip(r['script-sample'] ?? r['sample']) }, cspReports: stats.cspReports },
        'admin console: CSP violation report',
      );
      return reply.code(204).send();
    });
  });
  return stats;
}
