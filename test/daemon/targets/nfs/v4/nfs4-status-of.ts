import { Nfs4Error, Nfs4Status } from '../../../../../src/daemon/targets/nfs/v4/nfs4-constants.js';

/** The status a call ends with: OK, or the Nfs4Error's; anything else is a defect and fails the test. */
export const statusOf = (fn: () => unknown): number => {
  try {
    fn();
    return Nfs4Status.OK;
  } catch (err) {
    if (err instanceof Nfs4Error) return err.status;
    throw err;
  }
};
