import { Flags } from '@oclif/core';
import { SgwCommand } from '../cli/sgw-command.js';

export default class Top extends SgwCommand {
  static override summary = 'Watch the gateway live: its state, disks and what it holds.';
  static override description = 'Redraws every --interval seconds until you press q. Without a terminal (or with --json) it prints one sample as JSON and exits, for scripts.';
  static override examples = ['<%= config.bin %> top', '<%= config.bin %> top --interval 5', '<%= config.bin %> top --json'];
  static override flags = {
    interval: Flags.integer({ description: 'seconds between refreshes', default: 1, min: 1, max: 3600 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Top);
    const sample = async () => {
      const [info, disks] = await Promise.all([this.call(flags, 'gateway.info', {}), this.call(flags, 'disk.list', {})]);
      return { info, disks };
    };
    if (flags.json || !process.stdout.isTTY || !process.stdin.isTTY) {
      process.stdout.write(`${JSON.stringify(await sample(), null, 2)}\n`);
      return;
    }
    const { runTop } = await import('../cli/top-screen.js');
    await runTop(sample, flags.interval * 1000);
  }
}
