/**
 * Validates real HTTP responses against openapi/openapi.json (OpenAPI 3.0) with ajv.
 *
 * OpenAPI 3.0 Schema Objects are a dialect of JSON Schema draft-04, so they are translated before ajv sees
 * them: `nullable: true` becomes `anyOf [schema, {type: null}]`, boolean `exclusiveMinimum/Maximum` become
 * numeric, OpenAPI-only annotations are dropped, and `$ref: #/components/schemas/X` points at one shared
 * ajv schema holding every component. ajv runs in strict mode, so a keyword the translation does not
 * understand fails loudly instead of being ignored.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import ajvFormats from 'ajv-formats';

/** The checked-in spec. */
export const SPEC_PATH = new URL('../../openapi/openapi.json', import.meta.url);

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const COMPONENTS_ID = 'https://agp-rerank.invalid/components.json';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

interface MediaType {
  schema?: JsonObject;
}
interface ResponseObject {
  description: string;
  content?: Record<string, MediaType>;
}
interface Operation {
  operationId?: string;
  responses: Record<string, ResponseObject>;
}
export interface OpenApiSpec {
  openapi: string;
  paths: Record<string, Partial<Record<(typeof HTTP_METHODS)[number], Operation>>>;
  components?: { schemas?: Record<string, JsonObject> };
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keywords whose value is a schema, a list of schemas or a map of schemas. */
const SCHEMA_KEYWORDS = new Set(['items', 'additionalProperties', 'not']);
const SCHEMA_LIST_KEYWORDS = new Set(['allOf', 'anyOf', 'oneOf']);
const SCHEMA_MAP_KEYWORDS = new Set(['properties']);
/** OpenAPI 3.0 annotations with no JSON Schema meaning. */
const OPENAPI_ONLY = new Set(['nullable', 'example', 'xml', 'externalDocs', 'discriminator', 'deprecated']);

/** Translates one OpenAPI 3.0 Schema Object into JSON Schema draft-07 for ajv. */
export function toJsonSchema(schema: Json): Json {
  if (typeof schema === 'boolean') return schema;
  if (!isObject(schema)) throw new Error(`not a schema: ${JSON.stringify(schema)}`);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(schema)) {
    if (OPENAPI_ONLY.has(key)) continue;
    if (key === '$ref') {
      if (typeof value !== 'string' || !value.startsWith('#/components/schemas/')) throw new Error(`unsupported $ref ${String(value)}`);
      out.$ref = `${COMPONENTS_ID}#/definitions/${value.slice('#/components/schemas/'.length)}`;
    } else if (SCHEMA_KEYWORDS.has(key)) {
      out[key] = toJsonSchema(value);
    } else if (SCHEMA_LIST_KEYWORDS.has(key) && Array.isArray(value)) {
      out[key] = value.map(toJsonSchema);
    } else if (SCHEMA_MAP_KEYWORDS.has(key) && isObject(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSchema(v)]));
    } else {
      out[key] = value; // type, enum, required, minimum, pattern, format, description, default, ...
    }
  }
  // Draft-04 style exclusive bounds (booleans next to minimum/maximum).
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (out[flag] === true) {
      out[flag] = out[bound] ?? null;
      delete out[bound];
    } else if (out[flag] === false) delete out[flag];
  }
  if (schema.nullable === true) {
    // A nullable enum must also list null (OpenAPI 3.0.3 clarification); anyOf covers both cases.
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

/** Result of checking one response. */
export interface ResponseCheck {
  /** `METHOD /path/{template}` */
  operation: string;
  status: number;
  /** Empty when the response honours the spec. */
  problems: string[];
}

/** Loads the spec and compiles (lazily) a validator per documented response. */
export class SpecValidator {
  readonly spec: OpenApiSpec;
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(spec: OpenApiSpec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as OpenApiSpec) {
    if (!spec.openapi.startsWith('3.0.')) throw new Error(`expected an OpenAPI 3.0 document, got ${spec.openapi}`);
    this.spec = spec;
    this.ajv = new Ajv({ strict: true, allErrors: true });
    ajvFormats.default(this.ajv);
    const definitions = Object.fromEntries(
      Object.entries(spec.components?.schemas ?? {}).map(([name, s]) => [name, toJsonSchema(s)]),
    );
    this.ajv.addSchema({ $id: COMPONENTS_ID, definitions });
  }

  /** Every operation of the spec as `METHOD /path`. */
  operations(): string[] {
    const ops: string[] = [];
    for (const [path, item] of Object.entries(this.spec.paths)) {
      for (const method of HTTP_METHODS) if (item[method]) ops.push(`${method.toUpperCase()} ${path}`);
    }
    return ops.sort();
  }

  /** Compiles every response schema now (fails fast on a schema ajv cannot handle). */
  compileAll(): number {
    let n = 0;
    for (const op of this.operations()) {
      for (const [status, res] of Object.entries(this.operation(op).responses)) {
        for (const media of Object.keys(res.content ?? {})) {
          this.validator(op, status, media);
          n += 1;
        }
      }
    }
    return n;
  }

  private operation(op: string): Operation {
    const [method = '', path = ''] = op.split(' ');
    const found = this.spec.paths[path]?.[method.toLowerCase() as (typeof HTTP_METHODS)[number]];
    if (!found) throw new Error(`${op} is not in the spec`);
    return found;
  }

  private validator(op: string, status: string, media: string): ValidateFunction {
    const key = `${op} ${status} ${media}`;
    let v = this.compiled.get(key);
    if (!v) {
      const schema = this.operation(op).responses[status]?.content?.[media]?.schema;
      if (!schema) throw new Error(`${key}: no schema`);
      v = this.ajv.compile(toJsonSchema(schema) as object);
      this.compiled.set(key, v);
    }
    return v;
  }

  /**
   * Checks a response: the status must be documented for the operation (exactly, as `4XX`, or `default`),
   * the content type must be one the spec lists (or the body empty when it lists none), and the body must
   * validate against that response's schema.
   */
  check(operation: string, status: number, contentType: string | null, bodyText: string): ResponseCheck {
    const problems: string[] = [];
    const op = this.operation(operation);
    const statusKey = [String(status), `${String(status)[0]}XX`, 'default'].find((k) => op.responses[k]);
    if (!statusKey) {
      problems.push(`status ${status} is not documented (documented: ${Object.keys(op.responses).join(', ')}); body: ${bodyText.slice(0, 300)}`);
      return { operation, status, problems };
    }
    const content = op.responses[statusKey]?.content;
    if (!content || Object.keys(content).length === 0) {
      if (bodyText !== '') problems.push(`status ${status} documents no body but got ${bodyText.slice(0, 200)}`);
      return { operation, status, problems };
    }
    const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!content[mediaType]) {
      problems.push(`content-type "${contentType ?? ''}" is not documented for ${status} (documented: ${Object.keys(content).join(', ')})`);
      return { operation, status, problems };
    }
    // A text media type (Markdown, SVG, JSONL) is validated as the string it is.
    let body: unknown = bodyText;
    if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
      try {
        body = JSON.parse(bodyText);
      } catch {
        problems.push(`body is not JSON: ${bodyText.slice(0, 200)}`);
        return { operation, status, problems };
      }
    }
    const validate = this.validator(operation, statusKey, mediaType);
    if (!validate(body)) {
      for (const e of validate.errors ?? []) problems.push(`${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
      problems.push(`body: ${bodyText.slice(0, 500)}`);
    }
    return { operation, status, problems };
  }
}
