/**
 * The full feature phase of one session (RFC 7143 §4, error recovery level 0, one connection): commands in CmdSN
 * order, SCSI tasks with their data movement, NOP, Text, task management and logout. Memory stays bounded: the CmdSN
 * window caps the tasks, unsolicited data is capped by FirstBurstLength, and R2Ts are only sent while the session's
 * write buffer budget has room.
 */
import type { Logger } from 'pino';
import { ScsiStatus, type ScsiLogicalUnit, type ScsiResponse } from '../scsi/scsi-types.js';
import { AbsentLogicalUnit } from './absent-logical-unit.js';
import type { CommandWindow } from './command-window.js';
import { DataOutCollector } from './data-out-collector.js';
import type { LoginOutcome } from './login.js';
import type { SessionParameters } from './negotiation.js';
import {
  AsyncEvent, RESERVED_TAG, RejectReason, asyncMessage, decodeLun, logoutResponse, nopIn, readyToTransfer, reject,
  scsiResponse, taskManagementResponse, textResponse,
  type DataOutRequest, type InitiatorPdu, type LogoutRequest, type NopOutRequest, type ScsiCommandRequest,
  type SequencedRequest, type TaskManagementRequest, type TextRequest,
} from './pdu.js';
import type { PduSender } from './pdu-sender.js';
import { ProtocolError } from './protocol-error.js';
import { responsePdus } from './scsi-response.js';
import { answerTextRequest } from './send-targets.js';
import { Sense, fixedSense } from '../scsi/scsi-sense.js';
import type { IscsiSessionInfo, IscsiTarget, TargetDirectory } from './target-directory.js';
import { decodeTextParams, encodeTextParams } from './text-params.js';

/** Data-out the session may hold for R2T-solicited writes at once; a larger single write is refused. */
const WRITE_BUFFER_BUDGET = 64 * 1024 * 1024;
/** Error recovery level 0: reconnect after 2 s, nothing is kept for a reconnect. */
const TIME2WAIT = 2;
const TIME2RETAIN = 0;

const TaskFunction = {
  ABORT_TASK: 1,
  ABORT_TASK_SET: 2,
  CLEAR_ACA: 3,
  CLEAR_TASK_SET: 4,
  LOGICAL_UNIT_RESET: 5,
  TARGET_WARM_RESET: 6,
  TARGET_COLD_RESET: 7,
  TASK_REASSIGN: 8,
} as const;

const TaskResponse = {
  COMPLETE: 0,
  NO_SUCH_TASK: 1,
  NO_SUCH_LUN: 2,
  REASSIGNMENT_NOT_SUPPORTED: 4,
  NOT_SUPPORTED: 5,
  REJECTED: 255,
} as const;

const LogoutReason = { CLOSE_SESSION: 0, CLOSE_CONNECTION: 1, REMOVE_FOR_RECOVERY: 2 } as const;
const LogoutResponse = { CLOSED: 0, NO_SUCH_CID: 1, RECOVERY_NOT_SUPPORTED: 2 } as const;

const INVALID_FIELD_IN_CDB = fixedSense(Sense.INVALID_FIELD_IN_CDB);
const INTERNAL_TARGET_FAILURE = fixedSense(Sense.INTERNAL_TARGET_FAILURE);

/** What a session needs from the connection it runs on. */
export interface SessionLink {
  readonly sender: PduSender;
  readonly window: CommandWindow<SequencedRequest>;
  /** `host:port` of the initiator. */
  readonly peer: string;
  /** The portal as initiators should dial it, for SendTargets. */
  readonly portalAddress: string;
  /** Closes the connection once everything queued is written. */
  end(reason: string): void;
  /** Closes the connection now. */
  destroy(reason: string): void;
}

/** The other sessions of the portal, for resets that reach every initiator, and the registry's bookkeeping. */
export interface SessionRegistryView {
  sessionsOf(targetName: string): IscsiSession[];
  remove(session: IscsiSession): void;
}

interface Task {
  command: ScsiCommandRequest;
  lun: number;
  unit: ScsiLogicalUnit;
  phase: 'receiving' | 'executing' | 'responding';
  collector?: DataOutCollector;
  /** Settles once the logical unit has answered and the answer is dealt with; never rejects. */
  execution?: Promise<void>;
  /** Write budget held for the solicited part of the data-out. */
  reserved: number;
  aborted: boolean;
  retired: boolean;
}

export class IscsiSession {
  readonly initiatorName: string;
  readonly isid: string;
  readonly target: IscsiTarget | undefined;
  /** The I_T nexus (SAM-5): initiator port and target port names (RFC 7143 §4.2.7.1). */
  readonly nexus: string;
  readonly parameters: SessionParameters;
  private readonly loggedInAt = new Date().toISOString();
  private readonly cid: number;
  private readonly tasks = new Map<number, Task>();
  private readonly budgetWaiters: Task[] = [];
  private writeBudget = WRITE_BUFFER_BUDGET;
  private lastTag = 0;
  private pendingText: { ttt: number; rest: Buffer } | undefined;
  private readonly absent: AbsentLogicalUnit;
  private closed = false;

  constructor(
    outcome: LoginOutcome,
    readonly tsih: number,
    private readonly directory: TargetDirectory,
    private readonly link: SessionLink,
    private readonly registry: SessionRegistryView,
    private readonly log: Logger,
  ) {
    this.initiatorName = outcome.initiatorName;
    this.isid = outcome.isid.toString('hex');
    this.target = outcome.target;
    this.parameters = outcome.parameters;
    this.cid = outcome.cid;
    this.nexus = `${this.initiatorName},i,0x${this.isid}|${this.target?.name ?? ''},t,0x0001`;
    this.absent = new AbsentLogicalUnit(() => this.target?.luns.keys() ?? []);
  }

  info(): IscsiSessionInfo {
    return {
      targetName: this.target?.name ?? '',
      initiatorName: this.initiatorName,
      initiatorAddress: this.link.peer,
      isid: this.isid,
      tsih: this.tsih,
      loggedInAt: this.loggedInAt,
    };
  }

  /** Handles one PDU of the full feature phase; throws ProtocolError when the connection must drop. */
  handle(pdu: InitiatorPdu): void {
    switch (pdu.kind) {
      case 'data-out':
        return this.dataOut(pdu);
      case 'login':
        throw new ProtocolError('Login request in the full feature phase');
      case 'snack':
        return this.reject(pdu, RejectReason.PROTOCOL_ERROR);
      case 'unsupported':
        return this.reject(pdu, RejectReason.COMMAND_NOT_SUPPORTED);
      default:
        if (pdu.immediate) return this.run(pdu);
        // RFC 7143 §3.2.2.1: a CmdSN outside the window is ignored, without an answer.
        if (!this.link.window.offer(pdu.cmdSN, pdu)) this.log.debug({ cmdSN: pdu.cmdSN }, 'command outside the CmdSN window dropped');
        this.runReady();
    }
  }

  /** The connection is gone or replaced: tasks die without status and the logical units forget this nexus. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const task of [...this.tasks.values()]) {
      task.aborted = true;
      this.retire(task);
    }
    for (const unit of this.target?.luns.values() ?? []) {
      try {
        unit.nexusLost(this.nexus);
      } catch (err) {
        this.log.error({ err }, 'logical unit failed to forget a nexus');
      }
    }
    this.registry.remove(this);
  }

  /** A new login took this session over (reinstatement): the old connection goes at once. */
  replaced(): void {
    this.close();
    this.link.destroy('session reinstated by a new login');
  }

  /** The target is going away: tell the initiator, then close (RFC 7143 §11.9.1, AsyncEvent 3). */
  drop(reason: string): void {
    if (this.closed) return;
    this.link.sender.send(asyncMessage({ event: AsyncEvent.DROPPING_ALL_CONNECTIONS, parameters: [0, TIME2WAIT, TIME2RETAIN] }));
    this.close();
    this.link.end(reason);
  }

  /** Aborts the matching tasks; resolves once none of them can still touch its logical unit. */
  async abortWhere(matches: (lun: number) => boolean): Promise<void> {
    await Promise.all([...this.tasks.values()].filter((task) => matches(task.lun)).map((task) => this.abort(task)));
  }

  private runReady(): void {
    for (let next = this.link.window.next(); next !== undefined; next = this.link.window.next()) this.run(next);
  }

  private run(pdu: SequencedRequest): void {
    if (this.target === undefined && (pdu.kind === 'scsi-command' || pdu.kind === 'task-management')) {
      return this.reject(pdu, RejectReason.COMMAND_NOT_SUPPORTED);
    }
    switch (pdu.kind) {
      case 'scsi-command':
        return this.startTask(pdu, this.target!);
      case 'nop-out':
        return this.nop(pdu);
      case 'text':
        return this.text(pdu);
      case 'task-management':
        return this.inBackground(this.taskManagement(pdu, this.target!));
      case 'logout':
        return this.inBackground(this.logout(pdu));
    }
  }

  /** Work that waits for tasks to settle: a failure in it ends this connection, never the process. */
  private inBackground(work: Promise<void>): void {
    work.catch((err: unknown) => {
      this.log.error({ err }, 'task management or logout failed');
      this.link.destroy('internal error');
    });
  }

  private startTask(command: ScsiCommandRequest, target: IscsiTarget): void {
    if (this.tasks.has(command.itt)) throw new ProtocolError(`ITT 0x${command.itt.toString(16)} is already in use`);
    if (!command.immediate) this.link.window.occupy();
    else if (!this.link.window.occupyImmediate()) {
      this.link.sender.send(scsiResponse({ itt: command.itt, status: ScsiStatus.TASK_SET_FULL, residual: 0, expDataSN: 0 }));
      return;
    }
    const lun = decodeLun(command.lun);
    const task: Task = { command, lun, unit: target.luns.get(lun) ?? this.absent, phase: 'receiving', reserved: 0, aborted: false, retired: false };
    this.tasks.set(command.itt, task);
    if (command.bidirectional || (command.read && command.write)) return this.respond(task, { status: ScsiStatus.CHECK_CONDITION, sense: INVALID_FIELD_IN_CDB });
    if (!command.write) {
      if (command.data.length > 0) throw new ProtocolError('data segment on a command that writes nothing');
      return this.execute(task, null);
    }
    if (command.expectedLength > WRITE_BUFFER_BUDGET) return this.respond(task, { status: ScsiStatus.CHECK_CONDITION, sense: INVALID_FIELD_IN_CDB });
    task.collector = new DataOutCollector(command.expectedLength, { immediate: command.data, unsolicitedFollows: !command.final }, this.parameters);
    this.advanceWrite(task);
  }

  private dataOut(pdu: DataOutRequest): void {
    const task = this.tasks.get(pdu.itt);
    // Data for a task that already answered (or was aborted) may still be in flight: it is swallowed.
    if (task?.collector === undefined || task.phase !== 'receiving') {
      this.log.debug({ itt: pdu.itt }, 'Data-Out for no task awaiting data ignored');
      return;
    }
    task.collector.accept(pdu);
    this.advanceWrite(task);
  }

  /** Sends the R2Ts a write may have now, or runs it once all its data is in. */
  private advanceWrite(task: Task): void {
    const collector = task.collector!;
    if (collector.complete) return this.execute(task, task.command.expectedLength > 0 ? collector.assemble() : null);
    if (!collector.unsolicitedDone) return;
    if (task.reserved === 0 && !this.reserveWriteBuffer(task, collector.bytesToSolicit)) return;
    for (const r2t of collector.solicit(() => this.allocateTag())) {
      this.link.sender.send(readyToTransfer({ lun: task.command.lun, itt: task.command.itt, ...r2t }));
    }
  }

  /** Writes are solicited in arrival order as the budget frees up. */
  private reserveWriteBuffer(task: Task, bytes: number): boolean {
    const first = this.budgetWaiters[0] ?? task;
    if (first !== task || bytes > this.writeBudget) {
      if (!this.budgetWaiters.includes(task)) this.budgetWaiters.push(task);
      return false;
    }
    if (this.budgetWaiters[0] === task) this.budgetWaiters.shift();
    this.writeBudget -= bytes;
    task.reserved = bytes;
    return true;
  }

  private wakeWriters(): void {
    for (let head = this.budgetWaiters[0]; head && head.collector!.bytesToSolicit <= this.writeBudget; head = this.budgetWaiters[0]) {
      this.advanceWrite(head);
    }
  }

  private execute(task: Task, dataOut: Buffer | null): void {
    task.phase = 'executing';
    const { cdb, expectedLength } = task.command;
    task.execution = Promise.resolve()
      .then(() => task.unit.execute({ cdb, dataOut, expectedLength, nexus: this.nexus }))
      .catch((err: unknown): ScsiResponse => {
        this.log.error({ err, cdb: cdb.toString('hex') }, 'logical unit failed a command');
        return { status: ScsiStatus.CHECK_CONDITION, sense: INTERNAL_TARGET_FAILURE };
      })
      .then((answer) => this.respond(task, answer))
      .catch((err: unknown) => {
        this.log.error({ err }, 'answering a command failed');
        this.link.destroy('internal error');
      });
  }

  /**
   * Sends the task's data and status, unless it was aborted (an aborted task gets no status). The task keeps its
   * slot until its status is stamped, so the window bounds the read data waiting to go out, and the status itself
   * carries the wider MaxCmdSN.
   */
  private respond(task: Task, answer: ScsiResponse): void {
    if (task.aborted || this.closed) return this.retire(task);
    task.phase = 'responding';
    const { itt, expectedLength, read } = task.command;
    const pdus = responsePdus({ itt, expectedLength, read }, answer, this.parameters);
    if (pdus.length > 1) return this.link.sender.stream(pdus, () => this.retire(task));
    this.retire(task);
    this.link.sender.send(pdus[0]!);
  }

  private retire(task: Task): void {
    if (task.retired) return;
    task.retired = true;
    if (this.tasks.get(task.command.itt) === task) this.tasks.delete(task.command.itt);
    this.link.window.release();
    const waiting = this.budgetWaiters.indexOf(task);
    if (waiting >= 0) this.budgetWaiters.splice(waiting, 1);
    this.writeBudget += task.reserved;
    task.reserved = 0;
    if (!this.closed) this.wakeWriters();
  }

  /** Resolves once the task can no longer touch its logical unit; one already answering just finishes. */
  private async abort(task: Task): Promise<void> {
    if (task.phase === 'responding') return;
    task.aborted = true;
    if (task.phase === 'receiving') this.retire(task);
    else await task.execution;
  }

  private nop(pdu: NopOutRequest): void {
    // A NOP-Out with the reserved ITT answers a ping of ours; this target sends none.
    if (pdu.itt === RESERVED_TAG) return;
    const data = pdu.data.subarray(0, this.parameters.initiatorMaxRecvDataSegmentLength);
    this.link.sender.send(nopIn({ lun: pdu.lun, itt: pdu.itt, ttt: RESERVED_TAG, data }));
  }

  private text(pdu: TextRequest): void {
    if (pdu.continue) return this.reject(pdu, RejectReason.PROTOCOL_ERROR);
    if (pdu.ttt !== RESERVED_TAG) {
      if (this.pendingText?.ttt !== pdu.ttt) return this.reject(pdu, RejectReason.INVALID_PDU_FIELD);
      return this.sendText(pdu.itt, this.pendingText.rest);
    }
    let reply: Buffer;
    try {
      reply = encodeTextParams(answerTextRequest(decodeTextParams(pdu.data), {
        directory: this.directory,
        initiatorName: this.initiatorName,
        portalAddress: this.link.portalAddress,
        currentTarget: this.target,
      }));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return this.reject(pdu, RejectReason.INVALID_PDU_FIELD);
    }
    this.sendText(pdu.itt, reply);
  }

  /** A reply longer than the initiator accepts goes in pieces, each fetched with our TTT (RFC 7143 §11.10.4). */
  private sendText(itt: number, data: Buffer): void {
    const max = this.parameters.initiatorMaxRecvDataSegmentLength;
    if (data.length <= max) {
      this.pendingText = undefined;
      this.link.sender.send(textResponse({ final: true, itt, ttt: RESERVED_TAG, data }));
      return;
    }
    const ttt = this.allocateTag();
    this.pendingText = { ttt, rest: data.subarray(max) };
    this.link.sender.send(textResponse({ final: false, itt, ttt, data: data.subarray(0, max) }));
  }

  private async taskManagement(pdu: TaskManagementRequest, target: IscsiTarget): Promise<void> {
    const response = await this.performTaskManagement(pdu, target);
    if (this.closed) return;
    this.link.sender.send(taskManagementResponse({ itt: pdu.itt, response }));
  }

  private async performTaskManagement(pdu: TaskManagementRequest, target: IscsiTarget): Promise<number> {
    const lun = decodeLun(pdu.lun);
    const unit = target.luns.get(lun);
    switch (pdu.fn) {
      case TaskFunction.ABORT_TASK:
        return this.abortTask(pdu);
      case TaskFunction.ABORT_TASK_SET:
        if (!unit) return TaskResponse.NO_SUCH_LUN;
        await this.abortWhere((l) => l === lun);
        return TaskResponse.COMPLETE;
      case TaskFunction.CLEAR_TASK_SET:
        if (!unit) return TaskResponse.NO_SUCH_LUN;
        await this.abortEverywhere(target, (l) => l === lun);
        return TaskResponse.COMPLETE;
      case TaskFunction.LOGICAL_UNIT_RESET:
        if (!unit) return TaskResponse.NO_SUCH_LUN;
        await this.abortEverywhere(target, (l) => l === lun);
        unit.reset();
        return TaskResponse.COMPLETE;
      case TaskFunction.TARGET_WARM_RESET:
      // A cold reset drops no connections: one initiator must not end every other initiator's sessions.
      case TaskFunction.TARGET_COLD_RESET:
        await this.abortEverywhere(target, (l) => target.luns.has(l));
        for (const each of target.luns.values()) each.reset();
        return TaskResponse.COMPLETE;
      case TaskFunction.TASK_REASSIGN:
        return TaskResponse.REASSIGNMENT_NOT_SUPPORTED;
      case TaskFunction.CLEAR_ACA:
        return TaskResponse.NOT_SUPPORTED;
      default:
        return TaskResponse.REJECTED;
    }
  }

  /**
   * RFC 7143 §11.5.1: a task we have is aborted; one we never received but whose CmdSN is still in the window
   * counts as received and aborted; otherwise it has completed.
   */
  private async abortTask(pdu: TaskManagementRequest): Promise<number> {
    const task = this.tasks.get(pdu.referencedTaskTag);
    // A task whose status is already on its way has completed, as far as the initiator will see.
    if (task?.phase === 'responding') return TaskResponse.NO_SUCH_TASK;
    if (task) {
      await this.abort(task);
      return TaskResponse.COMPLETE;
    }
    if (!this.link.window.skip(pdu.refCmdSN)) return TaskResponse.NO_SUCH_TASK;
    this.runReady();
    return TaskResponse.COMPLETE;
  }

  private async abortEverywhere(target: IscsiTarget, matches: (lun: number) => boolean): Promise<void> {
    await Promise.all(this.registry.sessionsOf(target.name).map((session) => session.abortWhere(matches)));
  }

  private async logout(pdu: LogoutRequest): Promise<void> {
    const refusal = pdu.reason === LogoutReason.CLOSE_CONNECTION && pdu.cid !== this.cid ? LogoutResponse.NO_SUCH_CID
      : pdu.reason === LogoutReason.REMOVE_FOR_RECOVERY ? LogoutResponse.RECOVERY_NOT_SUPPORTED : undefined;
    if (refusal !== undefined) {
      this.link.sender.send(logoutResponse({ itt: pdu.itt, response: refusal, time2Wait: TIME2WAIT, time2Retain: TIME2RETAIN }));
      return;
    }
    if (pdu.reason !== LogoutReason.CLOSE_SESSION && pdu.reason !== LogoutReason.CLOSE_CONNECTION) {
      return this.reject(pdu, RejectReason.INVALID_PDU_FIELD);
    }
    // Writes still waiting for data will get none; commands already running finish and answer first.
    const tasks = [...this.tasks.values()];
    await Promise.all(tasks.map((task) => (task.phase === 'receiving' ? this.abort(task) : task.execution)));
    if (this.closed) return;
    // As a stream, the response goes out behind the read data still queued, and the connection closes after it.
    const response = logoutResponse({ itt: pdu.itt, response: LogoutResponse.CLOSED, time2Wait: TIME2WAIT, time2Retain: TIME2RETAIN });
    this.link.sender.stream([response]);
    this.link.end('logout');
  }

  private reject(pdu: InitiatorPdu, reason: number): void {
    this.link.sender.send(reject({ reason, rejectedHeader: pdu.raw.bhs }));
  }

  /** A target transfer tag: never the reserved 0xFFFFFFFF. */
  private allocateTag(): number {
    this.lastTag = (this.lastTag + 1) % RESERVED_TAG;
    return this.lastTag;
  }
}
