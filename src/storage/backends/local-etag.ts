import { createHash } from 'node:crypto';

/** ETags as S3 computes them, so that the local store's match what the gateway would see from S3. */

export function singlePartEtag(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

/** MD5 of the parts' binary MD5s, then "-" and the number of parts. */
export function multipartEtag(partEtags: string[]): string {
  const md5 = createHash('md5');
  for (const etag of partEtags) md5.update(Buffer.from(etag, 'hex'));
  return `${md5.digest('hex')}-${partEtags.length}`;
}
