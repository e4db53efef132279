// AbortSignal support for the run() handle: the error Node's own APIs reject with on abort.

/** An `AbortError` as Node's APIs make it (`name` 'AbortError', `code` 'ABORT_ERR'), with the signal's reason as `cause`. */
export function abortError(signal: AbortSignal, what: string): Error {
  return Object.assign(new Error(`${what} was aborted`, { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}
