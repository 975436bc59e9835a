/**
 * TypeScript types for the public API, generated from the checked-in openapi/openapi.json with
 * openapi-typescript. test/contract/api-types.d.ts is this output, committed so the contract test type-checks
 * its openapi-fetch client statically; the contract test regenerates it and fails when it drifts.
 * `npm run openapi:generate` (scripts/generate-openapi.ts) rewrites it together with the spec.
 */
import openapiTS, { astToString } from 'openapi-typescript';

/** The checked-in spec. */
export const SPEC_URL = new URL('../openapi/openapi.json', import.meta.url);
/** The committed output. */
export const API_TYPES_URL = new URL('../test/contract/api-types.d.ts', import.meta.url);

const HEADER = [
  '// Generated from openapi/openapi.json by testkit/generate-api-types.ts (openapi-typescript).',
  '// Do not edit: `npm run openapi:generate` rewrites it with the spec.',
  '',
].join('\n');

/** Renders the types module for the spec at `spec` (default: the checked-in spec). */
export async function generateApiTypes(spec: URL = SPEC_URL): Promise<string> {
  // defaultNonNullable: false keeps fields with a server-side default optional in request bodies (`method`,
  // `domain`, `includeProfile`, ...). Responses are unaffected: zod lists every defaulted field as required there.
  const ast = await openapiTS(spec, { alphabetize: false, exportType: false, defaultNonNullable: false });
  return `${HEADER}${astToString(ast)}`;
}
