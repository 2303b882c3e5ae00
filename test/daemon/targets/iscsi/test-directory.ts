/** Targets over RAM disks, and a portal serving them, for the portal tests. */
import { pino } from 'pino';
import { IscsiPortal, type IscsiPortalOptions } from '../../../../src/daemon/targets/iscsi/iscsi-portal.js';
import type { ChapSecrets, IscsiTarget, TargetDirectory } from '../../../../src/daemon/targets/iscsi/target-directory.js';
import { RamDiskUnit } from './ram-disk-unit.js';

export interface TestTargetSpec {
  name: string;
  luns?: number[];
  sizeBytes?: number;
  /** CHAP secrets per initiator name; initiators not listed are refused when the map is not empty. */
  chap?: Record<string, ChapSecrets>;
}

export interface TestTarget extends IscsiTarget {
  readonly disks: ReadonlyMap<number, RamDiskUnit>;
}

export function testTarget(spec: TestTargetSpec): TestTarget {
  const lunNumbers = spec.luns ?? [0];
  const disks = new Map(lunNumbers.map((lun) => [lun, new RamDiskUnit(spec.sizeBytes ?? 16 * 1024 * 1024, `${spec.name}-${lun}`.slice(-20), () => lunNumbers)]));
  const chap = spec.chap ?? {};
  return {
    name: spec.name,
    luns: disks,
    disks,
    chap: (initiatorName) => chap[initiatorName] ?? (Object.keys(chap).length === 0 ? 'none' : 'refused'),
  };
}

export class TestDirectory implements TargetDirectory {
  private readonly targets = new Map<string, IscsiTarget>();

  constructor(targets: IscsiTarget[]) {
    for (const target of targets) this.targets.set(target.name, target);
  }

  list(): IscsiTarget[] {
    return [...this.targets.values()];
  }

  find(name: string): IscsiTarget | undefined {
    return this.targets.get(name);
  }

  remove(name: string): void {
    this.targets.delete(name);
  }
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A portal on an ephemeral loopback port serving `targets`, closed when the test ends. */
export async function startPortal(t: Teardown, targets: IscsiTarget[], options: Partial<IscsiPortalOptions> = {}): Promise<{ portal: IscsiPortal; directory: TestDirectory }> {
  const directory = new TestDirectory(targets);
  const portal = await IscsiPortal.listen({ host: '127.0.0.1', port: 0, directory, log: pino({ level: process.env.SGW_TEST_LOG ?? 'silent' }), ...options });
  t.teardown(() => portal.close());
  return { portal, directory };
}
