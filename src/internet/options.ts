// The library's millisecond options: one validator and the named defaults, so every component
// refuses the same bad values with the same words and no two defaults share a name.
import { describeValue } from '../kernel/messages.js';

/** The longest duration Node's timers take (2^31 - 1 ms, about 24.8 days); above it setTimeout fires after 1 ms. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** TCPClient `connectTimeout`: how long the connect (and, with `secure`, the TLS handshake) may take. 60000 ms. */
export const DEFAULT_CONNECT_TIMEOUT = 60_000;
/** `closeTimeout` of TCPClient, ConnectedSocketAdapter and the servers: how long a graceful close waits for the peer. 5000 ms. */
export const DEFAULT_CLOSE_TIMEOUT = 5000;
/** TCPClient / ConnectedSocketAdapter `handshakeTimeout`: how long a client-side makessl handshake may take. 30000 ms. */
export const DEFAULT_CLIENT_HANDSHAKE_TIMEOUT = 30_000;
/** Server `handshakeTimeout` (implicit TLS and server-side STARTTLS), as Ranch and Thousand Island. 5000 ms. */
export const DEFAULT_SERVER_HANDSHAKE_TIMEOUT = 5000;
/** Server `drainTimeout`: after serverShutdown, how long open connections may go on before they are asked to finish. 5000 ms. */
export const DEFAULT_DRAIN_TIMEOUT = 5000;

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

/** Validates a boolean option: `undefined` gives `fallback`; anything but a boolean throws a TypeError naming the option. */
export function checkBoolean(owner: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${owner}: ${name} must be true or false, got ${describeValue(value)}`);
  return value;
}
