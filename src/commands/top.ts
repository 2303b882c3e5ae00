import { Flags } from '@oclif/core';
import { SgwCommand } from '../cli/sgw-command.js';

export default class Top extends SgwCommand {
  static override summary = 'Watch the gateway live: throughput, cache, upload queue, volumes, shares and tape drives.';
  static override description = [
    'On a terminal, a dashboard redrawn every --interval seconds until you press q: client and cloud throughput,',
    'the cache and upload buffer, every volume, share and tape drive with its rates, the upload queue and the',
    'bandwidth limits in force. Without a terminal it prints one sample instead: as text, rated over one interval,',
    'or with --json the metrics snapshot itself, at once.',
  ].join(' ');
  static override examples = ['<%= config.bin %> top', '<%= config.bin %> top --interval 5', '<%= config.bin %> top --json | jq .uploadQueue'];
  static override flags = {
    interval: Flags.integer({ description: 'seconds between refreshes', default: 1, min: 1, max: 3600 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Top);
    const sample = () => this.call(flags, 'gateway.metrics', {});
    const intervalMs = flags.interval * 1000;
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(await sample(), null, 2)}\n`);
      return;
    }
    if (!process.stdout.isTTY || !process.stdin.isTTY) {
      const first = await sample();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      const second = await sample();
      const [{ topText }, { ratesBetween }] = await Promise.all([import('../cli/top/top-panels.js'), import('../cli/top/top-rates.js')]);
      process.stdout.write(`${topText(second, ratesBetween(first, second))}\n`);
      return;
    }
    const { runTopDashboard } = await import('../cli/top/top-dashboard.js');
    await runTopDashboard(sample, intervalMs);
  }
}
