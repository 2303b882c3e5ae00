/** What every NFS version tells clients about a share, and holds them to. */

/** Largest READ and WRITE; the RPC layer takes records of 4 MiB. */
export const MAX_IO = 1024 * 1024;
/** Files larger than S3's largest object cannot be stored. */
export const MAX_FILE_SIZE = 5 * 2 ** 40;
/** Names longer than this are refused. */
export const NAME_MAX = 255;
/** A bucket has no size; report what AWS's gateway does, effectively unlimited. */
export const BUCKET_BYTES = 2n ** 63n - 1n;
export const BUCKET_FILES = 2n ** 32n;
