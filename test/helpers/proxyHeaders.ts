// PROXY protocol headers built by hand, byte by byte from HAProxy's proxy-protocol.txt (test-only),
// so the parser is checked against the spec and not against itself.
import net from 'node:net';

export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

export function v1(family: 'TCP4' | 'TCP6', source: string, destination: string, sourcePort: number, destinationPort: number): Buffer {
  return Buffer.from(`PROXY ${family} ${source} ${destination} ${sourcePort} ${destinationPort}\r\n`, 'latin1');
}

function ipBytes(address: string): Buffer {
  if (net.isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  const full = new net.SocketAddress({ address, family: 'ipv6' }).address;
  const [head = '', tail = ''] = full.includes('::') ? full.split('::') : [full, ''];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  const bytes = Buffer.alloc(16);
  groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}

export interface V2Options {
  readonly command?: 'PROXY' | 'LOCAL';
  readonly source?: string;
  readonly destination?: string;
  readonly sourcePort?: number;
  readonly destinationPort?: number;
  readonly tlvs?: readonly { type: number; value: Buffer }[];
}

export function v2(options: V2Options = {}): Buffer {
  const { command = 'PROXY', source, destination = source, sourcePort = 0, destinationPort = 0, tlvs = [] } = options;
  let familyByte = 0x00; // UNSPEC
  let addresses = Buffer.alloc(0);
  if (source !== undefined) {
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(sourcePort, 0);
    ports.writeUInt16BE(destinationPort, 2);
    familyByte = net.isIPv4(source) ? 0x11 : 0x21; // INET or INET6, STREAM
    addresses = Buffer.concat([ipBytes(source), ipBytes(destination!), ports]);
  }
  const tlvBytes = tlvs.map(({ type, value }) => {
    const head = Buffer.alloc(3);
    head.writeUInt8(type, 0);
    head.writeUInt16BE(value.length, 1);
    return Buffer.concat([head, value]);
  });
  const body = Buffer.concat([addresses, ...tlvBytes]);
  const fixed = Buffer.alloc(4);
  fixed.writeUInt8(command === 'PROXY' ? 0x21 : 0x20, 0);
  fixed.writeUInt8(familyByte, 1);
  fixed.writeUInt16BE(body.length, 2);
  return Buffer.concat([V2_SIGNATURE, fixed, body]);
}
