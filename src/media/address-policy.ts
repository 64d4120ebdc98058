import { BlockList, isIP } from 'node:net';

/**
 * Which network addresses the downloader may connect to. The service fetches URLs chosen by its
 * callers, so without this check it would be a proxy into the network it runs in (databases,
 * admin panels, cloud metadata at 169.254.169.254).
 */

export type CidrRange = { address: string; prefix: number; family: 'ipv4' | 'ipv6' };

// Every range that is not ordinary public unicast: loopback, private, link-local, CGNAT,
// benchmarking, documentation, multicast, reserved, and the IPv6 forms that embed IPv4 addresses.
const nonPublicRanges = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  '::/96',
  '::ffff:0:0:0/96',
  '64:ff9b::/96',
  '64:ff9b:1::/48',
  '100::/64',
  '2001::/23',
  '2001:db8::/32',
  '2002::/16',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
];

export function parseCidr(text: string): CidrRange {
  const [address = '', prefixText] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0) throw new Error(`"${text}" is not an IP address or CIDR range`);
  const family = version === 4 ? 'ipv4' : 'ipv6';
  const maxPrefix = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix) {
    throw new Error(`"${text}" has an invalid prefix length`);
  }
  return { address, prefix, family };
}

/** Parses a comma-separated list such as `127.0.0.1/32, 10.0.0.0/8, ::1`. */
export function parseCidrList(text: string): CidrRange[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map(parseCidr);
}

function blockListOf(ranges: CidrRange[]): BlockList {
  const list = new BlockList();
  for (const range of ranges) list.addSubnet(range.address, range.prefix, range.family);
  return list;
}

const nonPublic = blockListOf(nonPublicRanges.map(parseCidr));

/** `::ffff:127.0.0.1` and `::ffff:7f00:1` are IPv4 addresses in disguise: judge them as IPv4. */
function unwrapMappedIpv4(address: string): string {
  const match = /^::ffff:(.+)$/i.exec(address);
  if (!match) return address;
  const rest = match[1] ?? '';
  if (isIP(rest) === 4) return rest;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(rest);
  if (!hex) return address;
  const high = parseInt(hex[1] ?? '0', 16);
  const low = parseInt(hex[2] ?? '0', 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

export class AddressPolicy {
  private readonly allowed: BlockList;

  constructor(allowPrivate: CidrRange[]) {
    this.allowed = blockListOf(allowPrivate);
  }

  /** Returns why the address is refused, or null when it may be contacted. */
  refusal(rawAddress: string): string | null {
    const address = unwrapMappedIpv4(rawAddress.replace(/^\[|\]$/g, ''));
    const version = isIP(address);
    if (version === 0) return `"${rawAddress}" is not an IP address`;
    const family = version === 4 ? 'ipv4' : 'ipv6';
    if (this.allowed.check(address, family)) return null;
    if (nonPublic.check(address, family)) {
      return `${address} is a private, loopback, link-local or reserved address (allow it with FETCH_ALLOW_PRIVATE)`;
    }
    return null;
  }
}
