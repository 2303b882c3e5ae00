import type { Method, Result } from '../rpc/api.js';
import { SgwCommand } from './sgw-command.js';
import { table, type View } from './view.js';

type ListMethod = { [M in Method]: Result<M> extends unknown[] ? M : never }[Method];

interface ListSpec<M extends ListMethod> {
  method: M;
  summary: string;
  example: string;
  columns: string[];
  row: (item: Result<M>[number]) => string[];
  empty: string;
}

/** The `list` commands of every topic: one call, one table. */
export function listCommand<M extends ListMethod>(spec: ListSpec<M>) {
  return class List extends SgwCommand {
    static override summary = spec.summary;
    static override examples = [spec.example];

    async run(): Promise<void> {
      const { flags } = await this.parse(List);
      const items = await this.call(flags, spec.method, {});
      await this.show(flags, items, (list): View => [table(spec.columns, (list as Array<Result<M>[number]>).map(spec.row), spec.empty)]);
    }
  };
}
