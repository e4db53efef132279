// A tiny DNS server on loopback that answers every query with NXDOMAIN, so a DNS failure can be
// tested without sending a query to a resolver off this machine.
import * as dgram from 'node:dgram';
import { Resolver } from 'node:dns';
import type { LookupFunction } from 'node:net';

export interface NxdomainServer {
  /** A node:net `lookup` that asks only this server. */
  readonly lookup: LookupFunction;
  readonly queries: () => number;
  close(): Promise<void>;
}

export async function nxdomainServer(): Promise<NxdomainServer> {
  const socket = dgram.createSocket('udp4');
  let queries = 0;
  socket.on('message', (query, peer) => {
    queries++;
    const reply = Buffer.from(query);
    // Header: keep the id; QR=1, opcode and RD copied, RA=1, RCODE=3 (NXDOMAIN); no answers.
    reply[2] = 0x80 | (query[2]! & 0x79);
    reply[3] = 0x80 | 0x03;
    reply.writeUInt16BE(0, 6);
    reply.writeUInt16BE(0, 8);
    reply.writeUInt16BE(0, 10);
    socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const resolver = new Resolver({ timeout: 2000, tries: 1 });
  resolver.setServers([`127.0.0.1:${socket.address().port}`]);
  // node:net asks for every address ({ all: true }) when it may try several (autoSelectFamily).
  type Callback = (error: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void;
  const lookup = ((hostname: string, options: { all?: boolean }, callback: Callback) => {
    resolver.resolve4(hostname, (error, addresses) => {
      if (error) callback(error, options.all ? [] : '', 4);
      else if (options.all) callback(null, addresses.map((address) => ({ address, family: 4 })));
      else callback(null, addresses[0]!, 4);
    });
  }) as unknown as LookupFunction;
  return {
    lookup,
    queries: () => queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
