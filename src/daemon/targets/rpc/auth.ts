/**
 * Credentials of a call (RFC 5531 §8-9, Appendix A). AUTH_NONE and AUTH_SYS are the flavours NFS clients use
 * without Kerberos; both carry an AUTH_NONE verifier, and our replies carry one too.
 */
import { XdrDecodeError, XdrReader } from './xdr.js';

export const AuthFlavor = { NONE: 0, SYS: 1 } as const;

export const AuthStat = {
  BADCRED: 1,
  REJECTEDCRED: 2,
  BADVERF: 3,
  REJECTEDVERF: 4,
  TOOWEAK: 5,
} as const;
export type AuthStat = (typeof AuthStat)[keyof typeof AuthStat];

/** opaque_auth bodies are `opaque<400>`. */
const MAX_AUTH_BYTES = 400;
/** authsys_parms: `string machinename<255>`, `unsigned int gids<16>`. */
const MAX_MACHINE_NAME = 255;
const MAX_GIDS = 16;

export interface OpaqueAuth {
  flavor: number;
  body: Buffer;
}

export interface AuthSysCredentials {
  flavor: 'sys';
  stamp: number;
  machineName: string;
  uid: number;
  gid: number;
  gids: number[];
}

export type Credentials = { flavor: 'none' } | AuthSysCredentials;

/** The call is refused with MSG_DENIED AUTH_ERROR; handlers throw it too, e.g. for AUTH_NONE on a procedure that needs a user. */
export class AuthError extends Error {
  override readonly name = 'AuthError';

  constructor(readonly stat: AuthStat, message: string) {
    super(message);
  }
}

export function readOpaqueAuth(reader: XdrReader): OpaqueAuth {
  return { flavor: reader.uint32(), body: reader.opaque(MAX_AUTH_BYTES) };
}

/**
 * The caller's credentials; throws AuthError when they are not acceptable. AUTH_NONE and AUTH_SYS get the checks
 * Linux nfsd makes, so any client that works against it works here. A flavour we do not implement (RPCSEC_GSS, AUTH_DH,
 * AUTH_SHORT) gets TOOWEAK, "rejected for security reasons": the client learns that this server will not take that
 * flavour at all and can fall back or give up, where BADCRED would tell it its credential was damaged in transit
 * (Linux clients retry those as possibly garbled).
 */
export function authenticate(cred: OpaqueAuth, verf: OpaqueAuth): Credentials {
  let credentials: Credentials;
  switch (cred.flavor) {
    case AuthFlavor.NONE:
      if (cred.body.length > 0) throw new AuthError(AuthStat.BADCRED, `AUTH_NONE credential with a ${cred.body.length}-byte body`);
      credentials = { flavor: 'none' };
      break;
    case AuthFlavor.SYS:
      credentials = parseAuthSys(cred.body);
      break;
    default:
      throw new AuthError(AuthStat.TOOWEAK, `authentication flavour ${cred.flavor} is not supported`);
  }
  if (verf.flavor !== AuthFlavor.NONE || verf.body.length > 0) {
    throw new AuthError(AuthStat.BADVERF, `a verifier of flavour ${verf.flavor} with ${verf.body.length} bytes where AUTH_NONE belongs`);
  }
  return credentials;
}

/** Bytes after the gids are ignored, as Linux does. */
function parseAuthSys(body: Buffer): AuthSysCredentials {
  const reader = new XdrReader(body);
  try {
    return {
      flavor: 'sys',
      stamp: reader.uint32(),
      machineName: reader.string(MAX_MACHINE_NAME),
      uid: reader.uint32(),
      gid: reader.uint32(),
      gids: reader.array(MAX_GIDS, (r) => r.uint32()),
    };
  } catch (err) {
    if (err instanceof XdrDecodeError) throw new AuthError(AuthStat.BADCRED, `AUTH_SYS credential does not decode: ${err.message}`);
    throw err;
  }
}
