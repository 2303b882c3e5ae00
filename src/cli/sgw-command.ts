import { Command, Flags, type Interfaces } from '@oclif/core';
import { SgwError, asSgwError } from '../errors.js';
import { defaultSocketPath } from '../paths.js';
import type { Method, Params, Result } from '../rpc/api.js';
import { progressLines, type Progress, type ProgressDisplay } from './progress-model.js';
import type { View } from './view.js';

/**
 * The base of every sgw command: the global --socket and --json flags, one call to sgwd, and output that is a
 * drawn view on a terminal and plain JSON everywhere else. Every failure ends as one line and a meaningful status.
 */
export abstract class SgwCommand extends Command {
  static override baseFlags = {
    socket: Flags.string({
      description: 'control socket of sgwd [env: SGW_SOCKET]',
      helpGroup: 'GLOBAL',
    }),
    json: Flags.boolean({
      description: 'print the result as JSON',
      helpGroup: 'GLOBAL',
    }),
  };

  protected async call<M extends Method>(flags: Interfaces.InferredFlags<typeof SgwCommand.baseFlags>, method: M, params: Params<M>): Promise<Result<M>> {
    const { DaemonClient } = await import('../client/daemon-client.js');
    return DaemonClient.call(flags.socket ?? defaultSocketPath(), method, params);
  }

  /** JSON for --json and pipes; the view, drawn by ink, for a person at a terminal. */
  protected async show<T>(flags: { json?: boolean }, result: T, toView: (result: T) => View): Promise<void> {
    if (flags.json || !process.stdout.isTTY) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const { renderView } = await import('./ink-view.js');
    await renderView(toView(result));
  }

  /**
   * Polls `next` every half second while `busy`, reporting each change of progress. On a terminal a bar on stderr,
   * redrawn in place and left showing how it ended. Otherwise lines: a JSON line on stdout with --json or into a
   * pipe, or with `lines` 'stderr' a text line on stderr, for commands whose stdout scripts parse as one document.
   * A `progress` of words alone measures nothing. Returns the last state.
   */
  protected async follow<T>(flags: { json?: boolean }, state: T, busy: (s: T) => boolean, next: () => Promise<T>,
    progress: (s: T) => Progress | string, lines: 'stdout' | 'stderr' = 'stdout'): Promise<T> {
    const reading = (s: T): Progress => {
      const p = progress(s);
      return typeof p === 'string' ? { label: p } : p;
    };
    const display = await progressDisplay(flags, lines);
    try {
      while (busy(state)) {
        display.show(reading(state));
        await new Promise((resolve) => setTimeout(resolve, 500));
        state = await next();
      }
    } catch (err) {
      await display.end();
      throw err;
    }
    await display.end(reading(state));
    return state;
  }

  protected warning(message: string): void {
    process.stderr.write(`Warning: ${message}\n`);
  }

  protected override async catch(err: Error & { code?: string; oclif?: { exit?: number } }): Promise<never> {
    if (err.code === 'EEXIT') throw err;
    const failure = toFailure(err);
    process.stderr.write(`Error: ${failure.message}\n`);
    return this.exit(failure.exitCode);
  }
}

async function progressDisplay(flags: { json?: boolean }, lines: 'stdout' | 'stderr'): Promise<ProgressDisplay> {
  if (!flags.json && process.stdout.isTTY && process.stderr.isTTY) return (await import('./progress-bar.js')).progressBar(process.stderr);
  return progressLines(lines === 'stdout' && (flags.json || !process.stdout.isTTY) ? 'stdout' : 'stderr');
}

/**
 * oclif's own parse errors are usage errors (exit 2); everything else is an SgwError or a defect. oclif spreads a
 * parse error over several lines ("Parsing --size", the reason, a pointer to --help), also when the reason is an
 * SgwError thrown by a flag parser, so every message is folded to one line.
 */
function toFailure(err: Error & { oclif?: { exit?: number } }): { message: string; exitCode: number } {
  const exitCode = err instanceof SgwError ? err.exitCode : err.oclif?.exit !== undefined ? 2 : asSgwError(err).exitCode;
  const text = err instanceof SgwError || err.oclif?.exit !== undefined ? err.message : asSgwError(err).message;
  const message = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('See more help'))
    .join(' ')
    .replace(/^Parsing (--\S+)/, '$1:')
    .replace(/^The following errors? occurred: /, '');
  return { message, exitCode };
}
