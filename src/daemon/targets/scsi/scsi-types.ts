/**
 * The contract between a SCSI transport (iSCSI) and the logical units behind it. The transport moves bytes and
 * computes residuals; a logical unit interprets CDBs and never sees a PDU.
 */

/** SAM status codes a logical unit answers with. */
export const ScsiStatus = {
  GOOD: 0x00,
  CHECK_CONDITION: 0x02,
  BUSY: 0x08,
  RESERVATION_CONFLICT: 0x18,
  TASK_SET_FULL: 0x28,
  TASK_ABORTED: 0x40,
} as const;

export interface ScsiRequest {
  /** The CDB as sent (6 to 16 bytes; an extended CDB is appended by the transport). */
  cdb: Buffer;
  /**
   * Data-out collected by the transport: up to the expected transfer length, possibly shorter when the
   * initiator sent less. Null for commands without data-out.
   */
  dataOut: Buffer | null;
  /** The initiator's expected data transfer length (EDTL) in bytes, for either direction. */
  expectedLength: number;
  /** Identifies the I_T nexus (initiator port + target port), for unit attentions and reservations. */
  nexus: string;
}

export interface ScsiResponse {
  status: number;
  /** Fixed-format sense data (0x70), when status is CHECK CONDITION. */
  sense?: Buffer;
  /**
   * Data-in: what the command returns, already cut to the CDB's allocation length but not to the EDTL; the
   * transport sends at most the EDTL and reports the residual.
   */
  dataIn?: Buffer;
  /**
   * How many bytes the command itself transfers according to its CDB, when that differs from `dataIn.length`
   * (data-out commands: blocks × block size). The transport reports |EDTL − transferLength| as the residual.
   */
  transferLength?: number;
}

export interface ScsiLogicalUnit {
  execute(request: ScsiRequest): Promise<ScsiResponse>;
  /** LOGICAL UNIT RESET: drops SCSI-2 reservations and raises UNIT ATTENTION 29/03 on every nexus. */
  reset(): void;
  /** The nexus is gone (logout, connection loss, session reinstatement): its SCSI-2 reservation goes with it. */
  nexusLost(nexus: string): void;
}
