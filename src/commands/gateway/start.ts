import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SgwCommand } from '../../cli/sgw-command.js';
import { SgwError } from '../../errors.js';
import { defaultSocketPath } from '../../paths.js';

export default class GatewayStart extends SgwCommand {
  static override summary = 'Start sgwd in the background on this control socket, unless it runs already.';
  static override description = 'Runs sgwd, which detaches once its socket answers; its state dir is SGW_STATE_DIR or the default. Where systemd manages sgwd, use systemctl start sgwd instead.';
  static override examples = ['<%= config.bin %> gateway start'];

  async run(): Promise<void> {
    const { flags } = await this.parse(GatewayStart);
    const running = await this.call(flags, 'ping', {}).catch(() => undefined);
    if (running) {
      process.stderr.write(`sgwd is already running (pid ${running.pid})\n`);
      return;
    }
    const sgwd = fileURLToPath(new URL('../../../bin/sgwd.js', import.meta.url));
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, [sgwd, '--socket', flags.socket ?? defaultSocketPath()], { stdio: 'inherit' });
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) throw new SgwError('SGW_DAEMON_START_FAILED', `sgwd did not start (exit status ${code}); its message is above`);
  }
}
