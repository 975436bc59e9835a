/**
 * pino options: JSON logs with request ids, and redaction of secrets and user text.
 * Prompt and profile text is user data; it is logged only when LOG_USER_TEXT is on (debugging), and so is
 * `errorText`, the message of an unexpected error that may quote what the LLM answered.
 * Query strings are never logged: a token or an id sent as a query parameter would land in `req.url`.
 */
import type { LoggerOptions } from 'pino';

const SECRET_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'apiKey',
  '*.apiKey',
  'token',
  '*.token',
  'adminToken',
  '*.adminToken',
];

const USER_TEXT_PATHS = [
  'profile',
  '*.profile',
  'prompt',
  '*.prompt',
  'promptText',
  '*.promptText',
  'text',
  '*.text',
  'messages',
  '*.messages',
  'errorText',
  '*.errorText',
];

/** `url` with its query string replaced by `?[redacted]` (tokens, ids); the path is kept. */
export function withoutQuery(url: string | undefined): string | undefined {
  const q = url?.indexOf('?') ?? -1;
  return url === undefined || q === -1 ? url : `${url.slice(0, q)}?[redacted]`;
}

/** Builds the pino options for the service. */
export function loggerOptions(opts: { level: string; logUserText: boolean }): LoggerOptions {
  return {
    level: opts.level,
    base: { service: 'agp-rerank' },
    redact: { paths: opts.logUserText ? SECRET_PATHS : [...SECRET_PATHS, ...USER_TEXT_PATHS], censor: '[redacted]' },
    serializers: {
      req: (req: { method?: string; url?: string; id?: string }) => ({ method: req.method, url: withoutQuery(req.url), id: req.id }),
    },
  };
}
