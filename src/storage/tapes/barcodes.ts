import { UsageError } from '../../errors.js';

/** AWS's barcodes: 7 to 16 uppercase letters and digits; a generated one is a 1-4 letter prefix and a sequence. */
const BARCODE = /^[A-Z0-9]{7,16}$/;
const PREFIX = /^[A-Z]{1,4}$/;
const GENERATED_LENGTH = 8;

export function checkBarcode(barcode: string): string {
  if (!BARCODE.test(barcode)) throw new UsageError(`"${barcode}" is not a barcode: 7 to 16 uppercase letters and digits`, 'SGW_INVALID_ARGUMENT');
  return barcode;
}

export function checkBarcodePrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) throw new UsageError(`"${prefix}" is not a barcode prefix: 1 to 4 uppercase letters`, 'SGW_INVALID_ARGUMENT');
  return prefix;
}

/** `count` new barcodes of the prefix, 8 characters long, the lowest sequence numbers not in `taken`. */
export function nextBarcodes(prefix: string, count: number, taken: ReadonlySet<string>): string[] {
  const digits = GENERATED_LENGTH - prefix.length;
  const out: string[] = [];
  for (let n = 1; out.length < count; n++) {
    const sequence = n.toString(36).toUpperCase();
    if (sequence.length > digits) throw new UsageError(`the prefix ${prefix} has no barcodes left; use another prefix`, 'SGW_LIMIT_EXCEEDED');
    const barcode = prefix + sequence.padStart(digits, '0');
    if (!taken.has(barcode)) out.push(barcode);
  }
  return out;
}
