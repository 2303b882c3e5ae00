/**
 * The open sessions of a portal by TSIH: assigns TSIHs, replaces a session when its initiator port logs in to the
 * same target again (session reinstatement, RFC 7143 §6.3.5), and finds the sessions a target reset must reach.
 */
import type { LoginOutcome } from './login.js';
import type { IscsiSession, SessionRegistryView } from './session.js';

const MAX_TSIH = 0xffff;

export class SessionRegistry implements SessionRegistryView {
  private readonly byTsih = new Map<number, IscsiSession>();
  private lastTsih = 0;

  all(): IscsiSession[] {
    return [...this.byTsih.values()];
  }

  exists(tsih: number, initiatorName: string, isid: Buffer, targetName: string | undefined): boolean {
    const session = this.byTsih.get(tsih);
    return session !== undefined && this.samePort(session, initiatorName, isid.toString('hex'), targetName);
  }

  /**
   * Opens the session a login completed, first closing the one it reinstates (same initiator name, ISID and
   * target). A login that continues a session keeps its TSIH. Undefined when every TSIH is taken.
   */
  open(outcome: LoginOutcome, create: (tsih: number) => IscsiSession): IscsiSession | undefined {
    const isid = outcome.isid.toString('hex');
    const previous = outcome.sessionType === 'normal'
      ? this.all().find((s) => this.samePort(s, outcome.initiatorName, isid, outcome.target?.name))
      : undefined;
    previous?.replaced();
    const tsih = outcome.tsih !== 0 && previous?.tsih === outcome.tsih ? outcome.tsih : this.allocate();
    if (tsih === undefined) return undefined;
    const session = create(tsih);
    this.byTsih.set(tsih, session);
    return session;
  }

  sessionsOf(targetName: string): IscsiSession[] {
    return this.all().filter((s) => s.target?.name === targetName);
  }

  dropTarget(targetName: string): void {
    for (const session of this.sessionsOf(targetName)) session.drop(`target ${targetName} removed`);
  }

  remove(session: IscsiSession): void {
    if (this.byTsih.get(session.tsih) === session) this.byTsih.delete(session.tsih);
  }

  private samePort(session: IscsiSession, initiatorName: string, isid: string, targetName: string | undefined): boolean {
    return session.initiatorName === initiatorName && session.isid === isid && session.target?.name === targetName;
  }

  private allocate(): number | undefined {
    for (let tried = 0; tried < MAX_TSIH; tried++) {
      this.lastTsih = (this.lastTsih % MAX_TSIH) + 1;
      if (!this.byTsih.has(this.lastTsih)) return this.lastTsih;
    }
    return undefined;
  }
}
