// blessed-contrib ships no types: the widgets sgw top uses, as far as it uses them.
declare module 'blessed-contrib' {
  import type { Widgets } from 'blessed';

  type Factory<W> = (options: Record<string, unknown>) => W;

  interface LineSeries {
    title: string;
    x: string[];
    y: number[];
    style?: { line: string };
  }

  export interface LineWidget extends Widgets.BoxElement {
    setData(series: LineSeries[]): void;
  }

  export interface GaugeWidget extends Widgets.BoxElement {
    options: { showLabel: boolean };
    setPercent(percent: number): void;
  }

  export interface TableWidget extends Widgets.BoxElement {
    setData(data: { headers: string[]; data: string[][] }): void;
  }

  export const line: Factory<LineWidget>;
  export const gauge: Factory<GaugeWidget>;
  export const table: Factory<TableWidget>;

  export class grid {
    constructor(options: { rows: number; cols: number; screen: Widgets.Screen; hideBorder?: boolean; color?: string });
    set<W>(row: number, col: number, rowSpan: number, colSpan: number, widget: Factory<W>, options: Record<string, unknown>): W;
  }
}
