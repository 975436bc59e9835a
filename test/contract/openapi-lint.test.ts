/**
 * openapi/openapi.json passes Redocly's `recommended` ruleset (redocly.yaml) with no errors and no warnings,
 * offline: telemetry and the npm update check are off, so the CLI opens no network connection.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from './service.js';

const REDOCLY = join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js');

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer?: string }> }>;
}

function lint(file: string): { status: number | null; report: LintReport; stderr: string } {
  const run = spawnSync(process.execPath, [REDOCLY, 'lint', file, '--config', join(ROOT, 'redocly.yaml'), '--format=json'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      // Offline: no usage telemetry, no "new version available" request to the npm registry.
      REDOCLY_TELEMETRY: 'off',
      REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
      NO_COLOR: '1',
    },
  });
  if (run.error) throw run.error;
  let report: LintReport;
  try {
    report = JSON.parse(run.stdout) as LintReport;
  } catch {
    throw new Error(`redocly printed no JSON report (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  }
  return { status: run.status, report, stderr: run.stderr };
}

const describeProblems = (r: LintReport) =>
  r.problems.map((p) => `${p.severity} ${p.ruleId} ${p.location[0]?.pointer ?? ''}: ${p.message}`).join('\n');

describe('redocly lint openapi/openapi.json', () => {
  it('exits 0 with no errors, no warnings and only the two documented exceptions', () => {
    const { status, report, stderr } = lint('openapi/openapi.json');
    expect(report.totals, describeProblems(report)).toEqual({ errors: 0, warnings: 0, ignored: 2 });
    expect(status, stderr).toBe(0);
  }, 60_000);

  it('redocly.yaml extends recommended and switches no rule off', async () => {
    const config = parse(await readFile(join(ROOT, 'redocly.yaml'), 'utf8')) as { extends?: string[]; rules?: Record<string, unknown>; telemetry?: string };
    expect(config.extends).toEqual(['recommended']);
    const off = Object.entries(config.rules ?? {}).filter(([, v]) => v === 'off' || (typeof v === 'object' && v !== null && (v as { severity?: string }).severity === 'off'));
    expect(off).toEqual([]);
    expect(config.telemetry).toBe('off');
  });

  describe('with a spec that breaks the rules', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'agp-redocly-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('fails (so the test above can fail): JSON Schema 2020-12 nullability is not OpenAPI 3.0', async () => {
      const spec = JSON.parse(await readFile(join(ROOT, 'openapi/openapi.json'), 'utf8')) as {
        components: { schemas: Record<string, { properties: Record<string, unknown> }> };
      };
      // What the component schemas looked like before src/http/plugins/swagger.ts targeted OpenAPI 3.0.
      const rerank = spec.components.schemas.RerankResponse;
      expect(rerank).toBeDefined();
      (rerank as { properties: Record<string, unknown> }).properties.promptVersion = { type: ['string', 'null'] };
      const file = join(dir, 'broken.json');
      await writeFile(file, JSON.stringify(spec));
      const { status, report } = lint(file);
      expect(status).not.toBe(0);
      expect(report.totals.errors).toBeGreaterThan(0);
      expect(report.problems.map((p) => p.ruleId)).toContain('struct');
    }, 60_000);
  });
});
