import type { ScsiLogicalUnit } from '../scsi/scsi-types.js';

/** What the portal needs to know about the targets it serves; the daemon keeps it in step with the volumes. */
export interface IscsiTarget {
  /** The IQN initiators log in to. */
  readonly name: string;
  readonly luns: ReadonlyMap<number, ScsiLogicalUnit>;
  /**
   * The CHAP secrets this initiator must prove; 'none' when the target asks for no CHAP at all; 'refused' when
   * the target has CHAP entries but none for this initiator (login status 0x0202).
   */
  chap(initiatorName: string): ChapSecrets | 'none' | 'refused';
}

export interface ChapSecrets {
  /** The secret the initiator proves it knows (one-way CHAP). */
  initiatorSecret: string;
  /** The secret the target proves it knows to the initiator (mutual CHAP), when set. */
  targetSecret?: string;
}

export interface TargetDirectory {
  list(): IscsiTarget[];
  find(name: string): IscsiTarget | undefined;
}

/** A logged-in session, for `sgw volume describe` and `sgw top`. */
export interface IscsiSessionInfo {
  targetName: string;
  initiatorName: string;
  /** The initiator's address as host:port. */
  initiatorAddress: string;
  isid: string;
  tsih: number;
  loggedInAt: string;
}
