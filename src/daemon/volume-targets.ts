import type { Catalog } from '../storage/catalog/catalog.js';
import type { VolumeEngine } from '../storage/volumes/volume-engine.js';
import type { StorageEngines } from './storage-engines.js';
import type { ChapSecrets, IscsiTarget, TargetDirectory } from './targets/iscsi/target-directory.js';
import { naaFromId, ScsiDisk } from './targets/scsi/scsi-disk.js';

/** The target name of a volume, as AWS names them after the gateway and the volume. */
export function volumeTargetName(gatewayName: string, volumeName: string): string {
  return `iqn.2026-11.io.sgw:${gatewayName}:${volumeName}`;
}

/**
 * The iSCSI targets of the gateway's volumes, one per volume with the volume as LUN 0, kept in step with the
 * volume engine: a volume is a target from the moment it exists until it is deleted. A target's SCSI state (unit
 * attentions, reservations) lives as long as its volume.
 */
export class VolumeTargets implements TargetDirectory {
  private readonly targets = new Map<string, IscsiTarget>();

  constructor(private readonly catalog: Catalog, private readonly engines: StorageEngines) {}

  list(): IscsiTarget[] {
    const engine = this.engines.openedVolumes;
    const gateway = this.catalog.gateway();
    if (!engine || !gateway) return [];
    const volumes = engine.list();
    const live = new Set(volumes.map((v) => v.volumeId));
    for (const volumeId of this.targets.keys()) if (!live.has(volumeId)) this.targets.delete(volumeId);
    return volumes.map((v) => {
      let target = this.targets.get(v.volumeId);
      if (!target) {
        target = this.targetOf(engine, v.volumeId, volumeTargetName(gateway.name, v.name), v.sizeBytes);
        this.targets.set(v.volumeId, target);
      }
      return target;
    });
  }

  /** The target name of a volume, whether or not the engine serves it yet. */
  nameOf(volumeName: string): string {
    return volumeTargetName(this.catalog.gateway()?.name ?? '', volumeName);
  }

  find(name: string): IscsiTarget | undefined {
    return this.list().find((t) => t.name === name);
  }

  private targetOf(engine: VolumeEngine, volumeId: string, name: string, sizeBytes: number): IscsiTarget {
    const disk = new ScsiDisk({
      backend: {
        sizeBytes,
        read: (offset, length) => engine.read(volumeId, offset, length),
        write: (offset, data, durable) => engine.write(volumeId, offset, data, { durable }),
        unmap: (offset, length) => engine.unmap(volumeId, offset, length),
        flush: () => engine.flush(volumeId),
      },
      serial: volumeId,
      naa: naaFromId(volumeId),
      targetName: name,
    });
    return {
      name,
      luns: new Map([[0, disk]]),
      chap: (initiatorName: string): ChapSecrets | 'none' | 'refused' => {
        const entries = this.catalog.chapCredentials(volumeId);
        if (entries.length === 0) return 'none';
        const entry = entries.find((e) => e.initiatorName === initiatorName);
        if (!entry) return 'refused';
        return { initiatorSecret: entry.initiatorSecret, ...(entry.targetSecret ? { targetSecret: entry.targetSecret } : {}) };
      },
    };
  }
}
