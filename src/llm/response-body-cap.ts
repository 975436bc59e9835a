/**
 * The byte cap on an LLM response body (LLM_MAX_RESPONSE_BYTES), used by the undici transport.
 *
 * The endpoint is untrusted: one that streams forever once drove RSS to 1.6 GB in 8 s, because the
 * transport buffered the whole body. Past the cap the stream (and its socket) is destroyed and the read
 * fails with ResponseTooLargeError; the transport wraps it like any fetch failure, and the LLM client finds
 * it again with `responseTooLarge` to answer `llm_error` without a retry.
 */
import type { Dispatcher } from 'undici';

/** Default body cap of the transport: far above any completion this service asks for (see LLM_MAX_RESPONSE_BYTES). */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1_048_576;

/** A response body longer than the transport's cap; the exchange was aborted. */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
  constructor(readonly limitBytes: number) {
    super(`response body exceeded ${limitBytes} bytes`);
  }
}

/**
 * Reads a whole body, or destroys the stream (and its socket) once it passes `maxBytes`. A declared
 * Content-Length over the cap fails before any byte is read.
 */
export function readCapped(body: Dispatcher.ResponseData['body'], declared: string | string[] | undefined, maxBytes: number): Promise<Buffer> {
  if (typeof declared === 'string' && Number(declared) > maxBytes) {
    body.on('error', () => undefined); // destroy() emits undici's RequestAbortedError: expected, not unhandled
    body.destroy();
    return Promise.reject(new ResponseTooLargeError(maxBytes));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    body.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBytes) {
        chunks.length = 0;
        body.destroy();
        reject(new ResponseTooLargeError(maxBytes));
      } else chunks.push(chunk);
    });
    body.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length)));
    body.on('error', reject);
    body.once('close', () => reject(new Error('response body closed before its end')));
  });
}

/** The ResponseTooLargeError behind an error (the SDK wraps our TypeError, which wraps it), if any. */
export function responseTooLarge(err: unknown): ResponseTooLargeError | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e instanceof ResponseTooLargeError) return e;
  }
  return undefined;
}
