// Synthetic inspector records for page tests: many server-side connections under one server.
import type { InspectorRecord } from 'kamaelia-xstate';

/** `n` connections under actor `server`, opened 1 ms apart; every even one closes 2 ms after opening. */
export function manyConnections(n: number, server: string): InspectorRecord[] {
  const records: InspectorRecord[] = [];
  for (let i = 0; i < n; i++) {
    const id = `c${i}`;
    const t = 10 + i;
    const path = `Pipeline/0:server/${i}`;
    records.push({ k: 'actor', t, id, parent: server, path, name: String(i), component: 'ConnectedSocketAdapter', inboxes: ['inbox', 'control'], outboxes: ['outbox', 'signal'] });
    records.push({ k: 'lane', t, lane: id, side: 'server', path });
    records.push({ k: 'state', t, lane: id, state: 'connected' });
    records.push({ k: 'bytes', t: t + 1, lane: id, in: 100, out: 50 });
    if (i % 2 === 0) {
      records.push({ k: 'state', t: t + 2, lane: id, state: 'closed', reason: { code: 'ECONNRESET', message: 'reset' } });
      records.push({ k: 'end', t: t + 2, id, status: 'done' });
    }
  }
  return records.sort((a, b) => a.t - b.t);
}
