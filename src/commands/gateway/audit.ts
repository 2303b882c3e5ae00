import { Flags } from '@oclif/core';
import { auditView, parseSince, userNamesFrom } from '../../cli/audit-view.js';
import { SgwCommand } from '../../cli/sgw-command.js';

const sinceFlag = Flags.custom<Date>({ helpValue: 'TIME', parse: async (input) => parseSince(input) });

export default class GatewayAudit extends SgwCommand {
  static override summary = 'Show who changed what: the calls that changed the gateway, oldest first.';
  static override description = 'Every call that changes the gateway is recorded with its time, the user and process that made it, its parameters (secrets replaced by ***) and whether it succeeded. Calls that only read are not. TIME is a duration back from now (30m, 1h, 7d) or an ISO time (2026-11-20T10:00Z). The log lives in the state directory as audit.log, rotated at 10 MiB into audit.log.1 to .5.';
  static override examples = [
    '<%= config.bin %> gateway audit',
    '<%= config.bin %> gateway audit --since 1h',
    '<%= config.bin %> gateway audit --since 2026-11-20T10:00Z --limit 1000 --json',
  ];
  static override flags = {
    since: sinceFlag({ description: 'only changes from this time on' }),
    limit: Flags.integer({ description: 'at most this many, the newest (default 100)', min: 1, max: 10_000 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(GatewayAudit);
    const records = await this.call(flags, 'gateway.audit', {
      ...(flags.since ? { since: flags.since.toISOString() } : {}), ...(flags.limit === undefined ? {} : { limit: flags.limit }),
    });
    const { readFile } = await import('node:fs/promises');
    const names = flags.json ? new Map<number, string>() : userNamesFrom(await readFile('/etc/passwd', 'utf8').catch(() => ''));
    await this.show(flags, records, (r) => auditView(r, names));
  }
}
