/**
 * CHAP authentication in the security stage (RFC 7143 §12.1.3, RFC 1994), MD5 only (CHAP_A=5). We challenge the
 * initiator; with mutual CHAP it challenges us back and we prove the target secret. Binary values travel as `0x` hex
 * or `0b` base64.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { ChapSecrets } from './target-directory.js';
import type { TextPair } from './text-params.js';

const MD5 = '5';
const CHALLENGE_BYTES = 16;
/** A longer challenge from the initiator is refused rather than hashed. */
const MAX_CHALLENGE_BYTES = 1024;

/** RFC 1994: MD5(identifier ‖ secret ‖ challenge). */
export function chapResponse(identifier: number, secret: string, challenge: Buffer): Buffer {
  return createHash('md5').update(Buffer.of(identifier)).update(secret, 'utf8').update(challenge).digest();
}

/** A CHAP binary value, `0x` hex or `0b` base64; null when it is neither. */
export function decodeChapBinary(value: string): Buffer | null {
  const prefix = value.slice(0, 2).toLowerCase();
  const body = value.slice(2);
  if (prefix === '0x' && body.length > 0 && body.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(body)) return Buffer.from(body, 'hex');
  if (prefix === '0b' && body.length > 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(body) && body.length % 4 === 0) return Buffer.from(body, 'base64');
  return null;
}

export function encodeChapBinary(bytes: Buffer): string {
  return `0x${bytes.toString('hex')}`;
}

/** Secrets the initiator may prove, and the name we answer mutual CHAP with (the target's). */
export interface ChapCandidate {
  name: string;
  secrets: ChapSecrets;
}

/** The initiator's CHAP answer, gathered from one login PDU. */
export interface ChapAnswer {
  CHAP_N?: string;
  CHAP_R?: string;
  CHAP_I?: string;
  CHAP_C?: string;
}

export class ChapAuthenticator {
  private identifier = 0;
  private challengeBytes = Buffer.alloc(0);

  /** Several candidates only for a discovery session, where any target's secrets for this initiator will do. */
  constructor(private readonly candidates: readonly ChapCandidate[]) {}

  /** Our challenge for the offered CHAP_A list; null when MD5 is not in it. */
  challenge(algorithms: string): TextPair[] | null {
    if (!algorithms.split(',').includes(MD5)) return null;
    this.identifier = randomInt(256);
    this.challengeBytes = randomBytes(CHALLENGE_BYTES);
    return [['CHAP_A', MD5], ['CHAP_I', String(this.identifier)], ['CHAP_C', encodeChapBinary(this.challengeBytes)]];
  }

  /** Checks the initiator's response; returns our mutual answer (maybe empty), or null when authentication fails. */
  verify(answer: ChapAnswer): TextPair[] | null {
    const response = answer.CHAP_R === undefined ? null : decodeChapBinary(answer.CHAP_R);
    if (answer.CHAP_N === undefined || response === null || this.challengeBytes.length === 0) return null;
    const matched = this.candidates.find((c) => {
      const expected = chapResponse(this.identifier, c.secrets.initiatorSecret, this.challengeBytes);
      return expected.length === response.length && timingSafeEqual(expected, response);
    });
    if (matched === undefined) return null;
    if (answer.CHAP_I === undefined && answer.CHAP_C === undefined) return [];
    return this.mutualAnswer(matched, answer);
  }

  private mutualAnswer(matched: ChapCandidate, answer: ChapAnswer): TextPair[] | null {
    const targetSecret = matched.secrets.targetSecret;
    const identifier = answer.CHAP_I === undefined || !/^[0-9]{1,3}$/.test(answer.CHAP_I) ? -1 : Number(answer.CHAP_I);
    const challenge = answer.CHAP_C === undefined ? null : decodeChapBinary(answer.CHAP_C);
    if (targetSecret === undefined || identifier < 0 || identifier > 255 || challenge === null) return null;
    // An initiator replaying our own challenge would get us to compute its answer for it (a reflection attack).
    if (challenge.length > MAX_CHALLENGE_BYTES || challenge.equals(this.challengeBytes)) return null;
    return [['CHAP_N', matched.name], ['CHAP_R', encodeChapBinary(chapResponse(identifier, targetSecret, challenge))]];
  }
}
