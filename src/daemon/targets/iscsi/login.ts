/**
 * The login phase of one connection (RFC 7143 §6.3): security stage (AuthMethod, CHAP), operational stage (key
 * negotiation), then the final response that opens the session. Any failure answers with a login status and the
 * connection closes.
 */
import { ChapAuthenticator, type ChapAnswer, type ChapCandidate } from './chap.js';
import { OperationalNegotiation, TARGET_MAX_RECV_DATA_SEGMENT_LENGTH, type SessionParameters } from './negotiation.js';
import { loginResponse, type LoginRequest, type TargetPdu } from './pdu.js';
import { ProtocolError } from './protocol-error.js';
import type { IscsiTarget, TargetDirectory } from './target-directory.js';
import { decodeTextParams, encodeTextParams, type TextPair } from './text-params.js';

/** Status-Class << 8 | Status-Detail (RFC 7143 §11.13.5). */
export const LoginStatus = {
  SUCCESS: 0x0000,
  INITIATOR_ERROR: 0x0200,
  AUTHENTICATION_FAILED: 0x0201,
  AUTHORIZATION_FAILED: 0x0202,
  TARGET_NOT_FOUND: 0x0203,
  UNSUPPORTED_VERSION: 0x0205,
  MISSING_PARAMETER: 0x0207,
  SESSION_TYPE_NOT_SUPPORTED: 0x0209,
  SESSION_DOES_NOT_EXIST: 0x020a,
  OUT_OF_RESOURCES: 0x0302,
} as const;

const SECURITY = 0;
const OPERATIONAL = 1;
const FULL_FEATURE = 3;
/** Text spread over C-bit continuations is gathered up to this much, then refused. */
const MAX_LOGIN_TEXT = 65536;
export const PORTAL_GROUP_TAG = 1;

export interface LoginOutcome {
  sessionType: 'normal' | 'discovery';
  initiatorName: string;
  isid: Buffer;
  /** Non-zero when the initiator continues an existing session on a new connection. */
  tsih: number;
  cid: number;
  /** The target of a normal session. */
  target?: IscsiTarget;
  parameters: SessionParameters;
}

export interface LoginHost {
  readonly directory: TargetDirectory;
  /** Whether the session a login with TSIH ≠ 0 wants to continue exists for this initiator port and target. */
  sessionExists(tsih: number, initiatorName: string, isid: Buffer, targetName: string | undefined): boolean;
  /** The login succeeded: opens the session and returns its TSIH, or undefined when none is free. */
  admit(outcome: LoginOutcome): number | undefined;
}

export interface LoginStep {
  response: TargetPdu;
  outcome: 'continue' | 'failed' | 'complete';
  /** Why the login failed, for the log. */
  reason?: string;
}

class LoginFailure extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

interface Identity {
  sessionType: 'normal' | 'discovery';
  initiatorName: string;
  target?: IscsiTarget;
  /** The declarative keys of the first request, which later requests may repeat but not change. */
  declared: Map<string, string>;
}

type AuthState = 'not-started' | 'chap-algorithm' | 'chap-response' | 'done';

const DECLARED_ONCE = new Set(['InitiatorName', 'InitiatorAlias', 'TargetName', 'SessionType']);
const CHAP_ANSWER_KEYS = new Set(['CHAP_N', 'CHAP_R', 'CHAP_I', 'CHAP_C']);

export class LoginNegotiator {
  private first: LoginRequest | undefined;
  private stage = SECURITY;
  private pendingText: Buffer[] = [];
  private pendingBytes = 0;
  private identity: Identity | undefined;
  private chap: ChapAuthenticator | undefined;
  private authRequired = false;
  private auth: AuthState = 'not-started';
  private declaredLimits = false;
  private readonly negotiation = new OperationalNegotiation();
  private readonly negotiatedKeys = new Set<string>();

  constructor(private readonly host: LoginHost) {}

  handle(request: LoginRequest): LoginStep {
    try {
      return this.step(request);
    } catch (err) {
      if (!(err instanceof LoginFailure) && !(err instanceof ProtocolError)) throw err;
      const status = err instanceof LoginFailure ? err.status : LoginStatus.INITIATOR_ERROR;
      return { response: this.response(request, false, [], status), outcome: 'failed', reason: err.message };
    }
  }

  private step(request: LoginRequest): LoginStep {
    this.checkHeader(request);
    if (request.continue) {
      if (request.transit) throw new LoginFailure(LoginStatus.INITIATOR_ERROR, 'login PDU with both C and T set');
      this.appendText(request.data);
      return { response: this.response(request, false, [], LoginStatus.SUCCESS), outcome: 'continue' };
    }
    this.appendText(request.data);
    const pairs = decodeTextParams(Buffer.concat(this.pendingText));
    this.pendingText = [];
    this.pendingBytes = 0;

    const replies: TextPair[] = [];
    if (this.identity === undefined) {
      this.identity = this.identify(pairs, request);
      if (this.identity.sessionType === 'normal') replies.push(['TargetPortalGroupTag', String(PORTAL_GROUP_TAG)]);
    }
    if (request.csg === OPERATIONAL && this.authRequired && this.auth !== 'done') {
      throw new LoginFailure(LoginStatus.AUTHENTICATION_FAILED, 'CHAP is required but the security stage was skipped');
    }
    const chapAnswer: ChapAnswer = {};
    for (const [key, value] of pairs) this.answer(key, value, request.csg, replies, chapAnswer);
    if (Object.keys(chapAnswer).length > 0) this.checkChapAnswer(chapAnswer, replies);

    const transit = request.transit && this.mayLeaveStage(request.csg);
    if (transit && request.nsg === FULL_FEATURE) return this.complete(request, replies);
    if (request.csg === OPERATIONAL) this.declareLimits(replies);
    if (transit) this.stage = request.nsg;
    return { response: this.response(request, transit, replies, LoginStatus.SUCCESS), outcome: 'continue' };
  }

  private checkHeader(request: LoginRequest): void {
    if (this.first === undefined) {
      // Version 0 (RFC 7143) is the only one there is.
      if (request.versionMin !== 0) throw new LoginFailure(LoginStatus.UNSUPPORTED_VERSION, `VersionMin ${request.versionMin}`);
      this.first = request;
      this.stage = request.csg;
    } else if (!request.isid.equals(this.first.isid) || request.tsih !== this.first.tsih || request.cid !== this.first.cid) {
      throw new LoginFailure(LoginStatus.INITIATOR_ERROR, 'ISID, TSIH or CID changed during login');
    }
    if (request.csg !== this.stage || (request.csg !== SECURITY && request.csg !== OPERATIONAL)) {
      throw new LoginFailure(LoginStatus.INITIATOR_ERROR, `CSG ${request.csg} in login stage ${this.stage}`);
    }
    if (request.transit && (request.nsg <= request.csg || request.nsg === 2)) {
      throw new LoginFailure(LoginStatus.INITIATOR_ERROR, `transition from stage ${request.csg} to ${request.nsg}`);
    }
  }

  private appendText(data: Buffer): void {
    this.pendingBytes += data.length;
    if (this.pendingBytes > MAX_LOGIN_TEXT) throw new LoginFailure(LoginStatus.INITIATOR_ERROR, `login text over ${MAX_LOGIN_TEXT} bytes`);
    this.pendingText.push(data);
  }

  private identify(pairs: TextPair[], request: LoginRequest): Identity {
    const declared = new Map(pairs.filter(([key]) => DECLARED_ONCE.has(key)));
    const initiatorName = declared.get('InitiatorName');
    if (initiatorName === undefined || initiatorName === '') throw new LoginFailure(LoginStatus.MISSING_PARAMETER, 'no InitiatorName');
    const type = declared.get('SessionType') ?? 'Normal';
    if (type !== 'Normal' && type !== 'Discovery') throw new LoginFailure(LoginStatus.SESSION_TYPE_NOT_SUPPORTED, `SessionType=${type}`);

    let target: IscsiTarget | undefined;
    let candidates: ChapCandidate[];
    if (type === 'Normal') {
      const targetName = declared.get('TargetName');
      if (targetName === undefined || targetName === '') throw new LoginFailure(LoginStatus.MISSING_PARAMETER, 'no TargetName');
      target = this.host.directory.find(targetName);
      if (target === undefined) throw new LoginFailure(LoginStatus.TARGET_NOT_FOUND, `no target ${targetName}`);
      const policy = target.chap(initiatorName);
      if (policy === 'refused') throw new LoginFailure(LoginStatus.AUTHORIZATION_FAILED, `${initiatorName} may not log in to ${targetName}`);
      candidates = policy === 'none' ? [] : [{ name: target.name, secrets: policy }];
      this.authRequired = policy !== 'none';
    } else {
      // Discovery needs no CHAP, but an initiator that offers it proves the secrets it holds for any target.
      candidates = this.host.directory.list().flatMap((t) => {
        const policy = t.chap(initiatorName);
        return typeof policy === 'object' ? [{ name: t.name, secrets: policy }] : [];
      });
    }
    if (request.tsih !== 0 && !this.host.sessionExists(request.tsih, initiatorName, request.isid, target?.name)) {
      throw new LoginFailure(LoginStatus.SESSION_DOES_NOT_EXIST, `no session with TSIH ${request.tsih}`);
    }
    this.chap = candidates.length > 0 ? new ChapAuthenticator(candidates) : undefined;
    return { sessionType: type === 'Normal' ? 'normal' : 'discovery', initiatorName, target, declared };
  }

  private answer(key: string, value: string, csg: number, replies: TextPair[], chapAnswer: ChapAnswer): void {
    if (DECLARED_ONCE.has(key)) {
      const declared = this.identity?.declared.get(key);
      // libiscsi repeats its declarations after AuthMethod=None; only a change is an error.
      if (declared !== undefined && declared !== value) throw new LoginFailure(LoginStatus.INITIATOR_ERROR, `${key} changed during login`);
      return;
    }
    if (key === 'AuthMethod') return this.chooseAuthMethod(value, csg, replies);
    if (key === 'CHAP_A') return this.challenge(value, csg, replies);
    if (CHAP_ANSWER_KEYS.has(key)) {
      if (csg !== SECURITY || this.auth !== 'chap-response') throw new LoginFailure(LoginStatus.AUTHENTICATION_FAILED, `${key} out of sequence`);
      chapAnswer[key as keyof ChapAnswer] = value;
      return;
    }
    if (this.negotiatedKeys.has(key)) throw new LoginFailure(LoginStatus.INITIATOR_ERROR, `${key} offered twice`);
    this.negotiatedKeys.add(key);
    const reply = this.negotiation.answer(key, value);
    if (reply !== null) replies.push([key, reply]);
  }

  private chooseAuthMethod(value: string, csg: number, replies: TextPair[]): void {
    if (csg !== SECURITY || this.auth !== 'not-started') throw new LoginFailure(LoginStatus.INITIATOR_ERROR, 'AuthMethod out of sequence');
    const offered = value.split(',');
    let chosen: 'CHAP' | 'None';
    if (this.chap !== undefined && offered.includes('CHAP')) chosen = 'CHAP';
    else if (!this.authRequired && offered.includes('None')) chosen = 'None';
    else throw new LoginFailure(LoginStatus.AUTHENTICATION_FAILED, `no acceptable method in AuthMethod=${value}`);
    replies.push(['AuthMethod', chosen]);
    this.auth = chosen === 'CHAP' ? 'chap-algorithm' : 'done';
  }

  private challenge(algorithms: string, csg: number, replies: TextPair[]): void {
    if (csg !== SECURITY || this.auth !== 'chap-algorithm' || this.chap === undefined) {
      throw new LoginFailure(LoginStatus.AUTHENTICATION_FAILED, 'CHAP_A out of sequence');
    }
    const keys = this.chap.challenge(algorithms);
    if (keys === null) throw new LoginFailure(LoginStatus.AUTHENTICATION_FAILED, `CHAP_A=${algorithms} offers no algorithm we support`);
    replies.push(...keys);
    this.auth = 'chap-response';
  }

  private checkChapAnswer(answer: ChapAnswer, replies: TextPair[]): void {
    const keys = this.chap?.verify(answer);
    if (!keys) throw new LoginFailure(LoginStatus.AUTHENTICATION_FAILED, `CHAP authentication of ${answer.CHAP_N ?? '(no CHAP_N)'} failed`);
    replies.push(...keys);
    this.auth = 'done';
  }

  /** Whether we agree to the transition the initiator asks for: not in the middle of CHAP. */
  private mayLeaveStage(csg: number): boolean {
    if (csg !== SECURITY || this.auth === 'done') return true;
    if (this.auth !== 'not-started') return false;
    if (this.authRequired) throw new LoginFailure(LoginStatus.AUTHENTICATION_FAILED, 'CHAP is required but AuthMethod was not offered');
    this.auth = 'done';
    return true;
  }

  private declareLimits(replies: TextPair[]): void {
    if (this.declaredLimits) return;
    this.declaredLimits = true;
    replies.push(['MaxRecvDataSegmentLength', String(TARGET_MAX_RECV_DATA_SEGMENT_LENGTH)]);
  }

  private complete(request: LoginRequest, replies: TextPair[]): LoginStep {
    this.declareLimits(replies);
    const identity = this.identity!;
    const tsih = this.host.admit({
      sessionType: identity.sessionType,
      initiatorName: identity.initiatorName,
      isid: Buffer.from(request.isid),
      tsih: request.tsih,
      cid: request.cid,
      target: identity.target,
      parameters: this.negotiation.result(),
    });
    if (tsih === undefined) throw new LoginFailure(LoginStatus.OUT_OF_RESOURCES, 'no TSIH free');
    return { response: this.response(request, true, replies, LoginStatus.SUCCESS, tsih), outcome: 'complete' };
  }

  private response(request: LoginRequest, transit: boolean, replies: TextPair[], status: number, tsih = request.tsih): TargetPdu {
    return loginResponse({
      transit, csg: request.csg, nsg: request.nsg, isid: request.isid, tsih, itt: request.itt, status, data: encodeTextParams(replies),
    });
  }
}
