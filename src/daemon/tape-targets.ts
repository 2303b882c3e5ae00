import { DRIVE_BASE, DRIVES } from '../storage/tapes/library-layout.js';
import { TapeMoveError, type TapeLibrary } from '../storage/tapes/tape-library.js';
import type { IscsiTarget, TargetDirectory } from './targets/iscsi/target-directory.js';
import { ChangerMoveRefused, ScsiChanger, type ChangerBackend, type ElementType } from './targets/scsi/scsi-changer.js';
import { naaFromId } from './targets/scsi/scsi-disk.js';
import { ScsiTape } from './targets/scsi/scsi-tape.js';
import type { TapeGateway } from './tape-gateway.js';

const ELEMENT_TYPES = { transport: 'transport', slot: 'storage', mailslot: 'importExport', drive: 'drive' } as const satisfies Record<string, ElementType>;

/** Target names as AWS gives its tape gateway's devices, after the gateway. */
export function changerTargetName(gatewayName: string): string {
  return `iqn.2026-11.io.sgw:${gatewayName}:mediachanger`;
}

export function driveTargetName(gatewayName: string, index: number): string {
  return `iqn.2026-11.io.sgw:${gatewayName}:tapedrive-${String(index + 1).padStart(2, '0')}`;
}

/**
 * The tape library's iSCSI targets, as AWS exposes them: a media changer and ten tape drives, each a target of
 * its own with the device as LUN 0. They exist while the library is open (it opens with its first tape).
 */
export class TapeTargets implements TargetDirectory {
  private built: { library: TapeLibrary; gateway: string; targets: IscsiTarget[] } | undefined;

  constructor(private readonly tapes: TapeGateway, private readonly gatewayName: () => string | undefined) {}

  list(): IscsiTarget[] {
    const library = this.tapes.openedLibrary;
    const gateway = this.gatewayName();
    if (!library || gateway === undefined) return [];
    if (this.built?.library !== library || this.built.gateway !== gateway) this.built = { library, gateway, targets: this.build(library, gateway) };
    return this.built.targets;
  }

  find(name: string): IscsiTarget | undefined {
    return this.list().find((t) => t.name === name);
  }

  private build(library: TapeLibrary, gateway: string): IscsiTarget[] {
    const backend: ChangerBackend = {
      elements: () => library.elements().map((e) => ({
        type: ELEMENT_TYPES[e.kind], address: e.address, full: e.barcode !== undefined, accessible: e.accessible,
        ...(e.barcode !== undefined ? { barcode: e.barcode } : {}), ...(e.sourceAddress !== undefined ? { sourceAddress: e.sourceAddress } : {}),
      })),
      move: async (source, destination) => {
        try {
          await library.move(source, destination);
        } catch (err) {
          if (err instanceof TapeMoveError) throw new ChangerMoveRefused(err.reason, err.message);
          throw err;
        }
      },
    };
    const changerName = changerTargetName(gateway);
    const serial = (i: number) => `${gateway}-drive${i + 1}`.slice(-20);
    const targets: IscsiTarget[] = [{
      name: changerName,
      luns: new Map([[0, new ScsiChanger({
        backend, serial: `${gateway}-changer`.slice(-20), naa: naaFromId(changerName), targetName: changerName,
        driveSerial: (address) => (address >= DRIVE_BASE && address < DRIVE_BASE + DRIVES ? serial(address - DRIVE_BASE) : undefined),
      })]]),
      chap: () => 'none',
    }];
    for (let i = 0; i < DRIVES; i++) {
      const name = driveTargetName(gateway, i);
      const drive = library.drive(i);
      targets.push({
        name,
        luns: new Map([[0, new ScsiTape({ backend: drive, serial: serial(i), naa: naaFromId(name), targetName: name })]]),
        chap: () => 'none',
      });
    }
    return targets;
  }
}

/** Several directories served by one portal: volumes and the tape library. */
export function combinedDirectory(...directories: TargetDirectory[]): TargetDirectory {
  return {
    list: () => directories.flatMap((d) => d.list()),
    find: (name) => {
      for (const d of directories) {
        const found = d.find(name);
        if (found) return found;
      }
      return undefined;
    },
  };
}

