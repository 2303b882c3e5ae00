import { UsageError } from '../../errors.js';

/** S3's bucket naming rules, checked before any request so a typo gets a clear message, not a backend error. */
export function checkBucketName(bucket: string): string {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new UsageError(`"${bucket}" is not a bucket name: 3-63 lowercase letters, digits, '.' and '-'`, 'SGW_INVALID_ARGUMENT');
  }
  return bucket;
}

/** A key prefix as stored: no leading slash, one trailing slash, so that joining it to a path needs no care. */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '').replace(/\/*$/, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}
