import { BlockList, isIP } from 'node:net';
import { UsageError } from '../../errors.js';

/** Everyone, as AWS's default client list. */
export const ANY_CLIENT = '0.0.0.0/0';

/** Addresses and CIDR blocks (IPv4 or IPv6) allowed to mount a share and call it; AWS takes up to 100. */
export class ClientList {
  private readonly blocks = new BlockList();

  constructor(readonly entries: readonly string[]) {
    if (entries.length === 0 || entries.length > 100) throw new UsageError('a client list has 1 to 100 addresses or CIDR blocks', 'SGW_INVALID_ARGUMENT');
    for (const entry of entries) this.add(entry);
  }

  allows(address: string): boolean {
    // A client on an IPv6 socket may show up as ::ffff:10.0.0.1; its IPv4 form is what lists name.
    const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
    const family = isIP(plain);
    return family !== 0 && this.blocks.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }

  private add(entry: string): void {
    const [address = '', bits, extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (family === 0 || extra !== undefined || !/^\d+$/.test(bits ?? String(max)) || prefix > max) {
      throw new UsageError(`"${entry}" is not an IP address or CIDR block such as 10.0.0.0/8`, 'SGW_INVALID_ARGUMENT');
    }
    this.blocks.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
}
