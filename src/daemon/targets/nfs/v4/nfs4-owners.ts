/**
 * NFSv4's owner and owner_group strings (RFC 8881 §5.9). Numeric ids ("1000") always work: Linux sends and takes
 * them with sec=sys. When the gateway is given an ID-mapping domain (idmapd's Domain), names work too: an id is
 * sent as name@domain when the gateway's passwd or group file names it, and name@domain from a client is looked up
 * there, as knfsd does with idmapd.
 */
import { readFile } from 'node:fs/promises';

export interface OwnerNames {
  /** The string a client is sent for a user or group id. */
  nameOf(id: number, group: boolean): string;
  /** The id a client's string stands for; undefined when it names nobody here. */
  idOf(text: string, group: boolean): number | undefined;
}

/** Up to 2^32 - 2: 2^32 - 1 is (uid_t) -1, which chown takes as "leave it". */
const MAX_ID = 4294967294;

function numericId(text: string): number | undefined {
  return /^\d{1,10}$/.test(text) && Number(text) <= MAX_ID ? Number(text) : undefined;
}

export const NUMERIC_OWNERS: OwnerNames = {
  nameOf: (id) => String(id),
  idOf: (text) => numericId(text),
};

/** name → id of a passwd or group file (name:x:id:...). */
function idsOf(text: string): Map<string, number> {
  const ids = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    const value = id === undefined ? undefined : numericId(id);
    if (name && value !== undefined && !ids.has(name)) ids.set(name, value);
  }
  return ids;
}

/** Names of `domain` from the gateway's own account files, read once at start. */
export async function domainOwners(domain: string, files = { passwd: '/etc/passwd', group: '/etc/group' }): Promise<OwnerNames> {
  const [users, groups] = await Promise.all([files.passwd, files.group].map(async (file) => idsOf(await readFile(file, 'utf8').catch(() => ''))));
  const byId = (ids: Map<string, number>) => new Map([...ids].reverse().map(([name, id]) => [id, name]));
  const userNames = byId(users!);
  const groupNames = byId(groups!);
  const suffix = `@${domain.toLowerCase()}`;
  return {
    nameOf: (id, group) => {
      const name = (group ? groupNames : userNames).get(id);
      return name === undefined ? String(id) : `${name}@${domain}`;
    },
    idOf: (text, group) => {
      const numeric = numericId(text);
      if (numeric !== undefined) return numeric;
      if (!text.toLowerCase().endsWith(suffix)) return undefined;
      return (group ? groups : users)!.get(text.slice(0, -suffix.length));
    },
  };
}
