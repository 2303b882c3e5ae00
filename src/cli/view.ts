/**
 * What a command shows a person, independent of how it is drawn: labelled fields and tables. Commands build a
 * View from their result; ink draws it on a terminal, and scripts get the result itself as JSON instead.
 */
export type Section =
  | { kind: 'fields'; title?: string; fields: Array<[label: string, value: string]> }
  | { kind: 'table'; title?: string; columns: string[]; rows: string[][]; empty: string };

export type View = Section[];

export function fields(title: string | undefined, entries: Array<[string, string | number | undefined | null]>): Section {
  const shown = entries
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== null && entry[1] !== '')
    .map(([label, value]): [string, string] => [label, String(value)]);
  return title === undefined ? { kind: 'fields', fields: shown } : { kind: 'fields', title, fields: shown };
}

export function table(columns: string[], rows: string[][], empty: string): Section {
  return { kind: 'table', columns, rows, empty };
}
