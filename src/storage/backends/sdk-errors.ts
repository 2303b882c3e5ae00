import { BackendError, SgwError, type ErrorCode } from '../../errors.js';
import { invalidArgument } from './store-arguments.js';

/**
 * The one translation of AWS SDK failures (S3 and Glacier) into the gateway's backend errors. Each message says what
 * to do; none quotes credentials (SDK messages do not carry them either).
 */

export interface SdkCallContext {
  /** Printable endpoint: a URL, or "AWS S3 (us-east-1)". */
  endpoint: string;
  /** The bucket or vault, e.g. 'bucket "backups"'. */
  container: string;
  /** What was being done, e.g. 'reading'; the subject, when there is one, is named after it. */
  doing: string;
  /** The object or archive the call is about, e.g. 'object "a/b"'. */
  subject?: string;
  /**
   * What an anonymous "not found" means for this call: a HEAD's 404 has no body to say whether the bucket or the
   * object is missing, and Glacier says ResourceNotFoundException for both vaults and archives.
   */
  notFound: 'container' | 'subject';
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED', 'EPIPE',
  'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'InvalidClientTokenId',
  'UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'MissingAuthenticationTokenException',
  'IncompleteSignature', 'IncompleteSignatureException', 'CredentialsProviderError',
]);

const ACCESS_DENIED_ERRORS = new Set(['AccessDenied', 'AccessDeniedException', 'AllAccessDisabled', 'AccountProblem']);

const REGION_ERRORS = new Set(['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException']);

const INVALID_REQUEST_ERRORS = new Set(['InvalidRange', 'InvalidPart', 'InvalidPartOrder', 'EntityTooSmall', 'EntityTooLarge', 'KeyTooLongError']);

interface SdkFailure {
  name?: string;
  code?: string;
  message?: string;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  errors?: unknown[];
}

/** Node reports an unreachable host as an error code, sometimes on a cause or inside an AggregateError. */
function networkCode(err: SdkFailure): string | undefined {
  if (err.code !== undefined && NETWORK_CODES.has(err.code)) return err.code;
  for (const inner of [err.cause, ...(err.errors ?? [])]) {
    if (typeof inner === 'object' && inner !== null) {
      const code = networkCode(inner as SdkFailure);
      if (code !== undefined) return code;
    }
  }
  return undefined;
}

export function backendErrorFromSdk(thrown: unknown, ctx: SdkCallContext): SgwError {
  if (thrown instanceof SgwError) return thrown;
  const err = (typeof thrown === 'object' && thrown !== null ? thrown : { message: String(thrown) }) as SdkFailure;
  const name = err.name ?? 'Error';
  const status = err.$metadata?.httpStatusCode;
  const subject = ctx.subject ?? 'the object';
  ctx = { ...ctx, doing: ctx.subject === undefined ? ctx.doing : `${ctx.doing} ${ctx.subject}` };
  const fail = (code: ErrorCode, message: string) => new BackendError(code, message, { cause: thrown });

  const network = networkCode(err);
  if (network !== undefined || name === 'TimeoutError' || name === 'RequestTimeout') {
    return fail('SGW_BACKEND_UNREACHABLE', `cannot reach ${ctx.endpoint} (${network ?? 'timed out'}) while ${ctx.doing}: check --endpoint and that the network lets sgwd reach it`);
  }
  if (name === 'CredentialsProviderError') {
    return fail('SGW_BACKEND_CREDENTIALS', `no AWS credentials found for ${ctx.endpoint}: pass --profile, or set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for sgwd`);
  }
  if (CREDENTIAL_ERRORS.has(name)) {
    const expired = name.startsWith('Expired') || name === 'TokenRefreshRequired';
    return fail('SGW_BACKEND_CREDENTIALS', `${ctx.endpoint} rejected the credentials (${name}) while ${ctx.doing}: ${expired ? 'they have expired; refresh them' : 'check the access key and secret of the AWS profile or environment sgwd uses'}`);
  }
  // A HEAD's 403 has no body, so it cannot tell bad credentials from a missing permission; check() lists instead.
  const bareForbidden = status === 403 && (name === 'Forbidden' || name === 'Unknown');
  if (ACCESS_DENIED_ERRORS.has(name) || bareForbidden) {
    return fail('SGW_BACKEND_ACCESS_DENIED', `${ctx.endpoint} denied access to ${ctx.container} while ${ctx.doing}: grant the credentials' user read, write, list and delete there`);
  }
  if (REGION_ERRORS.has(name)) {
    return fail('SGW_BACKEND_FAILED', `${ctx.container} is not in the region sgwd used (${name}) while ${ctx.doing}: check --region`);
  }
  const bareNotFound = status === 404 && (name === 'NotFound' || name === 'Unknown' || name === 'ResourceNotFoundException');
  if (name === 'NoSuchBucket' || (bareNotFound && ctx.notFound === 'container')) {
    return fail('SGW_BUCKET_NOT_FOUND', `${ctx.container} does not exist at ${ctx.endpoint}: create it first, or check its name and --region`);
  }
  if (name === 'NoSuchKey' || bareNotFound) {
    return fail('SGW_OBJECT_NOT_FOUND', `${subject} does not exist in ${ctx.container}`);
  }
  if (name === 'NoSuchUpload') {
    return fail('SGW_OBJECT_NOT_FOUND', `the multipart upload of ${subject} no longer exists: it was completed or aborted`);
  }
  if (name === 'InvalidObjectState' || name === 'ObjectNotInActiveTierError') {
    return fail('SGW_OBJECT_ARCHIVED', `${subject} is in a cold storage class and not restored: restore it first and wait until it is readable`);
  }
  if (INVALID_REQUEST_ERRORS.has(name)) {
    return invalidArgument(`${ctx.endpoint} refused ${ctx.doing} (${name}): ${err.message ?? ''}`);
  }
  const transient = status !== undefined && status >= 500;
  return fail('SGW_BACKEND_FAILED', `${ctx.endpoint} failed while ${ctx.doing}: ${name}${status ? ` (HTTP ${status})` : ''}: ${err.message ?? ''}${transient ? '; try again later' : ''}`);
}
