// Types for stately.js (the page is plain JavaScript served as is; the server and tests import it).
import type { InspectorRecord } from '../records.js';

/** One of @statelyai/inspect's messages, as far as the translator reads it. */
export interface StatelyMessage {
  readonly type: string;
  readonly sessionId: string;
  readonly [key: string]: unknown;
}

export interface StatelyTranslator {
  translate(message: unknown): InspectorRecord[];
}

export function isStatelyMessage(value: unknown): value is StatelyMessage;
export function createStatelyTranslator(options?: { prefix?: string; now?: () => number; showContext?: boolean }): StatelyTranslator;
export function redactDefinition(definition: unknown): unknown;
export function truncatedPaths(definition: unknown): string[];
export function toStatelyMessages(records: readonly InspectorRecord[]): StatelyMessage[];
