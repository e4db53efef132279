// The library's millisecond options: the named defaults, and the one validator (kept in the kernel,
// where run()'s next() uses it too), so every component refuses the same bad values with the same words.
export { checkDuration, MAX_DURATION_MS } from '../kernel/duration.js';
import { describeValue } from '../kernel/messages.js';

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

/** Validates a boolean option: `undefined` gives `fallback`; anything but a boolean throws a TypeError naming the option. */
export function checkBoolean(owner: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${owner}: ${name} must be true or false, got ${describeValue(value)}`);
  return value;
}
