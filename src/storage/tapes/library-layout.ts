/**
 * The library's element addresses (SMC): one transport, storage slots, import/export slots (mailslots) and ten
 * drives, in ascending ranges by type so that type order is address order, as SMC initiators expect. The storage
 * slots hold more than the 1,500 tapes a library may have, so a tape always has a slot to go back to.
 */
export const TRANSPORT = 0;
export const SLOT_BASE = 0x1000;
export const SLOTS = 1600;
export const MAILSLOT_BASE = 0x2000;
export const MAILSLOTS = 10;
export const DRIVE_BASE = 0x3000;
export const DRIVES = 10;

export type ElementKind = 'transport' | 'slot' | 'mailslot' | 'drive';

export function elementKind(address: number): ElementKind | undefined {
  if (address === TRANSPORT) return 'transport';
  if (address >= SLOT_BASE && address < SLOT_BASE + SLOTS) return 'slot';
  if (address >= MAILSLOT_BASE && address < MAILSLOT_BASE + MAILSLOTS) return 'mailslot';
  if (address >= DRIVE_BASE && address < DRIVE_BASE + DRIVES) return 'drive';
  return undefined;
}

/** As people count them: "slot 1", "drive 3", "mailslot 2". */
export function describeElement(address: number | null): string | null {
  if (address === null) return null;
  const kind = elementKind(address);
  const base = { transport: TRANSPORT, slot: SLOT_BASE, mailslot: MAILSLOT_BASE, drive: DRIVE_BASE }[kind ?? 'transport'];
  return kind ? `${kind} ${address - base + 1}` : `element ${address}`;
}
