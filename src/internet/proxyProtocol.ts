// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that a load balancer
// puts in front of a connection's first byte to say whom it is forwarding. Parsed incrementally:
// the caller keeps appending what arrived and asks again, so a header split across packets is read
// as it comes, and garbage is refused at its first wrong byte rather than after a timeout.
// Hand-written rather than taken from npm: the packages found parse a complete buffer only, and
// this one must tell "not yet" from "never" on every fragment.
import net from 'node:net';
import type { ProxyHeader, ProxyTlv } from '../kernel/messages.js';

export type { ProxyHeader, ProxyTlv } from '../kernel/messages.js';

/** What parseProxyHeader made of the bytes so far: `incomplete` (read more), `invalid` (with why), or the header and how many bytes it took. */
export type ProxyParseResult =
  | { readonly status: 'incomplete' }
  | { readonly status: 'invalid'; readonly message: string }
  /** `length`: bytes the header took; what follows is the client's own data. */
  | { readonly status: 'complete'; readonly header: ProxyHeader; readonly length: number };

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** The longest v1 line the spec allows, CRLF included. */
const V1_MAX_LENGTH = 107;
const V2_FIXED_LENGTH = 16;
/**
 * The longest PROXY v2 header a server takes, in bytes (fixed part, addresses and TLVs): 4096, as
 * nginx. A longer one is refused (`EPROXYHEADER`) as soon as its length field arrives. The TLVs
 * balancers send (ALPN, authority, unique id, SSL, cloud endpoint ids) take a few hundred bytes; the
 * format allows 65,535, which a peer could use to make every connection hold that much.
 */
export const PROXY_V2_MAX_LENGTH = 4096;
const INCOMPLETE: ProxyParseResult = { status: 'incomplete' };
const NO_TLVS: readonly ProxyTlv[] = Object.freeze([]);
const NO_BYTES = new Uint8Array(0);

function invalid(message: string): ProxyParseResult {
  return { status: 'invalid', message };
}

/** True while `data` is a prefix of `prefix` or starts with it. */
function agreesWith(data: Uint8Array, prefix: Uint8Array): boolean {
  const n = Math.min(data.length, prefix.length);
  for (let i = 0; i < n; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

/**
 * Parses the PROXY header at the start of `data` (everything received so far on the connection).
 * 'incomplete' means more bytes are needed; 'invalid' means no more bytes can make it valid.
 */
export function parseProxyHeader(data: Uint8Array): ProxyParseResult {
  if (data.length === 0) return INCOMPLETE;
  if (agreesWith(data, V1_PREFIX)) return data.length < V1_PREFIX.length ? INCOMPLETE : parseV1(data);
  if (agreesWith(data, V2_SIGNATURE)) return data.length < V2_FIXED_LENGTH ? INCOMPLETE : parseV2(data);
  return invalid('the connection does not start with a PROXY protocol header (v1 "PROXY " or the v2 signature)');
}

function parsePort(text: string | undefined): number | undefined {
  if (text === undefined || !/^(0|[1-9][0-9]{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

function parseV1(data: Uint8Array): ProxyParseResult {
  const limit = Math.min(data.length, V1_MAX_LENGTH);
  let end = -1;
  for (let i = V1_PREFIX.length; i < limit; i++) {
    if (data[i] === 0x0a) {
      end = i;
      break;
    }
  }
  if (end < 0) return data.length >= V1_MAX_LENGTH ? invalid(`PROXY v1 line has no CRLF within ${V1_MAX_LENGTH} bytes`) : INCOMPLETE;
  if (data[end - 1] !== 0x0d) return invalid('PROXY v1 line ends with LF, not CRLF');
  const line = Buffer.from(data.buffer, data.byteOffset, end - 1).toString('latin1');
  const fields = line.split(' ');
  const length = end + 1;
  if (fields[1] === 'UNKNOWN') return { status: 'complete', header: { version: 1, command: 'PROXY', family: 'UNKNOWN', tlvs: NO_TLVS }, length };
  if (fields.length !== 6) return invalid(`PROXY v1 line needs 6 fields, got ${fields.length}: ${JSON.stringify(line)}`);
  const [, family, source, destination, sourcePortText, destinationPortText] = fields as [string, string, string, string, string, string];
  if (family !== 'TCP4' && family !== 'TCP6') return invalid(`PROXY v1 protocol must be TCP4, TCP6 or UNKNOWN, got ${JSON.stringify(family)}`);
  const isAddress = family === 'TCP4' ? net.isIPv4 : net.isIPv6;
  if (!isAddress(source) || !isAddress(destination)) return invalid(`PROXY v1 addresses are not ${family}: ${source}, ${destination}`);
  const sourcePort = parsePort(sourcePortText);
  const destinationPort = parsePort(destinationPortText);
  if (sourcePort === undefined || destinationPort === undefined) return invalid(`PROXY v1 ports are not 0-65535: ${sourcePortText}, ${destinationPortText}`);
  return { status: 'complete', header: { version: 1, command: 'PROXY', family, source, sourcePort, destination, destinationPort, tlvs: NO_TLVS }, length };
}

function ipv6At(view: DataView, offset: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(view.getUint16(offset + i * 2).toString(16));
  // The same spelling Node gives socket.remoteAddress (compressed), through its own parser.
  return new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
}

function parseV2(data: Uint8Array): ProxyParseResult {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const versionCommand = data[12]!;
  if (versionCommand >> 4 !== 2) return invalid(`PROXY v2 version nibble must be 2, got ${versionCommand >> 4}`);
  const commandCode = versionCommand & 0x0f;
  if (commandCode > 1) return invalid(`PROXY v2 command must be LOCAL (0) or PROXY (1), got ${commandCode}`);
  const familyCode = data[13]! >> 4;
  const transport = data[13]! & 0x0f;
  if (familyCode > 3) return invalid(`PROXY v2 address family ${familyCode} is not defined`);
  if (transport > 2) return invalid(`PROXY v2 transport ${transport} is not defined`);
  const bodyLength = view.getUint16(14);
  const length = V2_FIXED_LENGTH + bodyLength;
  if (length > PROXY_V2_MAX_LENGTH) return invalid(`PROXY v2 header is ${length} bytes, over the ${PROXY_V2_MAX_LENGTH} this server takes (PROXY_V2_MAX_LENGTH)`);
  if (data.length < length) return INCOMPLETE;
  const command = commandCode === 0 ? 'LOCAL' : 'PROXY';
  if (command === 'PROXY' && transport === 2) return invalid('PROXY v2 header forwards a datagram (UDP) connection to a stream server');
  let addressLength = 0;
  let header: Omit<ProxyHeader, 'tlvs'> = { version: 2, command, family: 'UNKNOWN' };
  if (familyCode === 1) addressLength = 12;
  else if (familyCode === 2) addressLength = 36;
  else if (familyCode === 3) addressLength = 216;
  if (bodyLength < addressLength) return invalid(`PROXY v2 length ${bodyLength} is shorter than its address block (${addressLength})`);
  if (command === 'PROXY' && transport === 1 && familyCode === 1) {
    const ip = (at: number) => `${data[at]}.${data[at + 1]}.${data[at + 2]}.${data[at + 3]}`;
    header = { ...header, family: 'TCP4', source: ip(16), destination: ip(20), sourcePort: view.getUint16(24), destinationPort: view.getUint16(26) };
  } else if (command === 'PROXY' && transport === 1 && familyCode === 2) {
    header = { ...header, family: 'TCP6', source: ipv6At(view, 16), destination: ipv6At(view, 32), sourcePort: view.getUint16(48), destinationPort: view.getUint16(50) };
  }
  const start = V2_FIXED_LENGTH + addressLength;
  for (let at = start; at < length; ) {
    if (length - at < 3) return invalid(`PROXY v2 TLV at byte ${at} is cut short`);
    const type = data[at]!;
    const valueLength = view.getUint16(at + 1);
    if (at + 3 + valueLength > length) return invalid(`PROXY v2 TLV 0x${type.toString(16)} at byte ${at} runs past the header`);
    at += 3 + valueLength;
  }
  return { status: 'complete', header: withTlvs(header, copyOf(data, start, length)), length };
}

/** A copy of `data[start, end)` of its own: `data` is the connection's read buffer, client bytes and all. */
function copyOf(data: Uint8Array, start: number, end: number): Uint8Array {
  if (end === start) return NO_BYTES;
  const copy = new Uint8Array(end - start);
  copy.set(data.subarray(start, end));
  return copy;
}

// One object per TLV cost ~150 B of heap each (21,841 empty TLVs fit a 64 KiB header), held for the
// connection's life. A header keeps its (validated) TLV bytes in one array and makes the objects
// only when `tlvs` is read. The getter is an own enumerable property, so spreading, JSON and deep
// equality still see a plain `tlvs` array.
const tlvBytesOf = Symbol('tlvBytes');

interface CompactHeader {
  readonly [tlvBytesOf]: Uint8Array;
}

/** The TLVs in `bytes`, already validated by parseV2: each value a view into `bytes`. */
function readTlvs(bytes: Uint8Array): readonly ProxyTlv[] {
  if (bytes.length === 0) return NO_TLVS;
  const tlvs: ProxyTlv[] = [];
  for (let at = 0; at < bytes.length; ) {
    const valueLength = (bytes[at + 1]! << 8) | bytes[at + 2]!;
    tlvs.push({ type: bytes[at]!, value: bytes.subarray(at + 3, at + 3 + valueLength) });
    at += 3 + valueLength;
  }
  return tlvs;
}

const tlvsDescriptor: PropertyDescriptor = {
  enumerable: true,
  get(this: CompactHeader): readonly ProxyTlv[] {
    return readTlvs(this[tlvBytesOf]);
  },
};

function withTlvs(fields: Omit<ProxyHeader, 'tlvs'>, tlvBytes: Uint8Array): ProxyHeader {
  const header = { ...fields };
  Object.defineProperty(header, tlvBytesOf, { value: tlvBytes });
  return Object.defineProperty(header, 'tlvs', tlvsDescriptor) as ProxyHeader;
}
