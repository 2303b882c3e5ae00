import { Flags } from '@oclif/core';
import { parseSize } from '../sizes.js';

/** A size flag that takes 500GiB, 2TiB, 100G, ... and yields bytes. */
export const sizeFlag = Flags.custom<number>({
  helpValue: 'SIZE',
  parse: async (input) => parseSize(input),
});
