// The one validator of millisecond options and timeouts. It lives in the kernel because run()'s
// `next(box, { timeoutMs })` needs it as much as the sockets' options do (src/internet/options.ts
// re-exports it beside the named defaults).
import { describeValue } from './messages.js';

/** The longest duration Node's timers take (2^31 - 1 ms, about 24.8 days); above it setTimeout fires after 1 ms. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * Checks a millisecond option: an integer from 0 to {@link MAX_DURATION_MS}. Returns it, or
 * `fallback` when it is undefined; throws a RangeError naming `owner` and `name` otherwise.
 */
export function checkDuration(owner: string, name: string, value: unknown, fallback: number): number;
export function checkDuration(owner: string, name: string, value: unknown): number | undefined;
export function checkDuration(owner: string, name: string, value: unknown, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_DURATION_MS) {
    throw new RangeError(`${owner}: ${name} must be an integer number of milliseconds from 0 to ${MAX_DURATION_MS}, got ${describeValue(value)}`);
  }
  return value;
}
