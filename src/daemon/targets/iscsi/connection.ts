/**
 * One TCP connection to the portal: frames PDUs off the socket, runs the login phase, then hands every PDU to its
 * session. A protocol error, a malformed PDU or an internal fault ends this connection and nothing else. Reading
 * stops while too much output waits, so an initiator that does not read its responses cannot make us buffer without
 * bound; it does not stop while the CmdSN window is full, because NOP-Out pings and ABORT TASK still have to get
 * through then, and commands beyond the window are dropped unbuffered.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { CommandWindow } from './command-window.js';
import { LoginNegotiator, type LoginOutcome } from './login.js';
import { LOGIN_MAX_RECV_DATA_SEGMENT_LENGTH, TARGET_MAX_RECV_DATA_SEGMENT_LENGTH } from './negotiation.js';
import { RejectReason, decodeRequest, reject, type InitiatorPdu, type RawPdu, type SequencedRequest } from './pdu.js';
import { PduReader } from './pdu-reader.js';
import { PduSender } from './pdu-sender.js';
import { ProtocolError } from './protocol-error.js';
import { IscsiSession, type SessionLink } from './session.js';
import type { SessionRegistry } from './session-registry.js';
import type { TargetDirectory } from './target-directory.js';

/** A connection that has not logged in by then is dropped. */
const LOGIN_TIMEOUT_MS = 30_000;
const KEEPALIVE_MS = 60_000;
/** After we close our side, the initiator has this long to close its side. */
const CLOSE_GRACE_MS = 5_000;
/** Reading stops while this much written output waits for the initiator to take it (Data-In is paced below it). */
const PAUSE_READING_BYTES = 1024 * 1024;
const RESUME_READING_BYTES = 512 * 1024;

export interface ConnectionHost {
  readonly directory: TargetDirectory;
  readonly registry: SessionRegistry;
  readonly queueDepth: number;
  /** Overrides the local address of the connection in SendTargets answers. */
  readonly advertiseAddress: string | undefined;
}

interface Login {
  negotiator: LoginNegotiator;
  link: SessionLink;
}

export class IscsiConnection {
  readonly closed: Promise<void>;
  private readonly log: Logger;
  private readonly peer: string;
  private readonly reader = new PduReader({ headerDigest: false, dataDigest: false, maxDataSegmentLength: LOGIN_MAX_RECV_DATA_SEGMENT_LENGTH });
  private login: Login | undefined;
  private session: IscsiSession | undefined;
  private paused = false;
  private ending = false;
  private readonly loginTimer: NodeJS.Timeout;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly socket: Socket, private readonly host: ConnectionHost, log: Logger) {
    this.peer = formatAddress(socket.remoteAddress, socket.remotePort);
    this.log = log.child({ peer: this.peer });
    socket.setNoDelay(true);
    // Finds initiators that vanished without a FIN, so their sessions do not linger until a reinstatement.
    socket.setKeepAlive(true, KEEPALIVE_MS);
    this.closed = new Promise((resolve) => socket.once('close', () => {
      clearTimeout(this.loginTimer);
      clearTimeout(this.closeTimer);
      this.session?.close();
      this.log.debug('connection closed');
      resolve();
    }));
    socket.on('error', (err) => this.log.debug({ err }, 'socket error'));
    socket.on('data', (chunk: Buffer) => this.guard(() => {
      // Once closing, nothing more is read: a peer that keeps sending must not fill memory meanwhile.
      if (this.ending) return;
      this.reader.push(chunk);
      this.processPdus();
    }));
    this.loginTimer = setTimeout(() => this.destroy('no login within 30 s'), LOGIN_TIMEOUT_MS).unref();
  }

  /** Stops reading, and closes once everything queued has been written. */
  end(reason: string): void {
    if (this.ending) return;
    this.ending = true;
    this.log.debug({ reason }, 'closing the connection');
    const close = () => {
      this.socket.end();
      this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
    };
    if (this.login) this.login.link.sender.whenStreamsWritten(close);
    else close();
  }

  destroy(reason: string): void {
    if (this.socket.destroyed) return;
    this.ending = true;
    this.log.debug({ reason }, 'dropping the connection');
    this.socket.destroy();
  }

  private guard(work: () => void): void {
    try {
      work();
    } catch (err) {
      if (err instanceof ProtocolError) this.log.warn({ reason: err.message }, 'protocol error: dropping the connection');
      else this.log.error({ err }, 'internal error: dropping the connection');
      this.destroy('error');
    }
  }

  private processPdus(): void {
    while (!this.paused && !this.ending) {
      const raw = this.reader.next();
      if (raw === null) break;
      this.dispatch(raw);
    }
    if (!this.paused && this.login !== undefined && this.login.link.sender.backlog > PAUSE_READING_BYTES) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private resumeIfDrained(sender: PduSender): void {
    if (!this.paused || sender.backlog > RESUME_READING_BYTES) return;
    this.paused = false;
    this.socket.resume();
    this.guard(() => this.processPdus());
  }

  private dispatch(raw: RawPdu): void {
    const pdu = decodeRequest(raw);
    if (this.session === undefined) return this.loginStep(pdu);
    // RFC 7143 §7.8 at error recovery level 0: reject the PDU, then give up the connection.
    if (!raw.dataDigestOk) {
      this.login!.link.sender.send(reject({ reason: RejectReason.DATA_DIGEST_ERROR, rejectedHeader: raw.bhs }));
      return this.end('data digest error');
    }
    this.session.handle(pdu);
  }

  private loginStep(pdu: InitiatorPdu): void {
    if (pdu.kind !== 'login') throw new ProtocolError(`${pdu.kind} PDU before login completed`);
    const { negotiator, link } = this.login ?? this.startLogin(pdu.cmdSN, pdu.expStatSN);
    const step = negotiator.handle(pdu);
    link.sender.send(step.response);
    if (step.outcome === 'failed') {
      this.log.info({ status: `0x${step.response.bhs.readUInt16BE(36).toString(16).padStart(4, '0')}`, reason: step.reason }, 'login refused');
      return this.end('login failed');
    }
    if (step.outcome === 'complete' && this.session !== undefined) {
      clearTimeout(this.loginTimer);
      const { headerDigest, dataDigest } = this.session.parameters;
      link.sender.useDigests(headerDigest, dataDigest);
      this.reader.configure({ headerDigest, dataDigest, maxDataSegmentLength: TARGET_MAX_RECV_DATA_SEGMENT_LENGTH });
      this.log.info({ initiator: this.session.initiatorName, targetName: this.session.target?.name ?? '(discovery)', tsih: this.session.tsih }, 'logged in');
    }
  }

  /** The login's CmdSN starts the window (login consumes none); its ExpStatSN is our first StatSN. */
  private startLogin(cmdSN: number, expStatSN: number): Login {
    const window = new CommandWindow<SequencedRequest>(cmdSN, this.host.queueDepth);
    const sender = new PduSender(this.socket, expStatSN, window);
    this.socket.on('drain', () => this.resumeIfDrained(sender));
    const link: SessionLink = {
      sender,
      window,
      peer: this.peer,
      portalAddress: this.host.advertiseAddress ?? formatAddress(this.socket.localAddress, this.socket.localPort),
      end: (reason) => this.end(reason),
      destroy: (reason) => this.destroy(reason),
    };
    const negotiator = new LoginNegotiator({
      directory: this.host.directory,
      sessionExists: (...args) => this.host.registry.exists(...args),
      admit: (outcome) => this.admit(outcome, link),
    });
    this.login = { negotiator, link };
    return this.login;
  }

  private admit(outcome: LoginOutcome, link: SessionLink): number | undefined {
    this.session = this.host.registry.open(outcome, (tsih) => new IscsiSession(outcome, tsih, this.host.directory, link, this.host.registry, this.log));
    return this.session?.tsih;
  }
}

/** `host:port` as an initiator would dial it: IPv6 in brackets, IPv4-mapped IPv6 as plain IPv4. */
function formatAddress(address: string | undefined, port: number | undefined): string {
  const host = (address ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return `${host.includes(':') ? `[${host}]` : host}:${port ?? 0}`;
}
