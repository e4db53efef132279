// What the inspector may say about a message without sending its contents: payload sizes, the
// first bytes when asked for, the kind of a control message, and a terminal reason.
import { isBytes, kindOf } from '../src/kernel/messages.js';
import type { ReasonRecord } from './records.js';

/** Size in bytes of socket-like data (Uint8Array or UTF-8 string); undefined for anything else. */
export function payloadSize(data: unknown): number | undefined {
  if (!isBytes(data)) return undefined; // never throws, even for a hostile Proxy
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

/** The first `count` bytes of socket-like data as hex. */
export function payloadHead(data: unknown, count: number): string | undefined {
  if (count <= 0 || !isBytes(data)) return undefined;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, Math.min(count, data.byteLength)).toString('hex');
  if (typeof data === 'string') return Buffer.from(data.slice(0, count)).subarray(0, count).toString('hex');
  return undefined;
}

/** The `kind` tag of a control/signal message, if it has one. */
export function messageKind(data: unknown): string | undefined {
  const kind = kindOf(data);
  return typeof kind === 'string' ? kind : undefined;
}

/** A `{ code, message }` reason from an Error, a Reason-like object or a string; undefined if none. */
export function toReason(value: unknown): ReasonRecord | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return { message: value };
  if (typeof value !== 'object') return { message: String(value) };
  let code: unknown;
  let message: unknown;
  try {
    ({ code, message } = value as { code?: unknown; message?: unknown });
  } catch {
    return { message: 'unreadable reason (reading it threw)' };
  }
  if (typeof message !== 'string' && typeof code !== 'string') return undefined;
  const text = typeof message === 'string' ? message : String(code);
  return typeof code === 'string' ? { code, message: text } : { message: text };
}
