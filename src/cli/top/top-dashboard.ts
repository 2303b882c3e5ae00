import type { MetricsSnapshot } from '../../rpc/api.js';
import { GAUGE_TITLES, RESOURCE_COLUMNS, RESOURCE_WIDTHS, bandwidthLine, gaugePanels, percentText, queueLine, resourceRows } from './top-panels.js';
import { type GatewayRates, RateHistory, ratesBetween } from './top-rates.js';

const HISTORY = 60;
const ROWS = 24;
const MiB = 2 ** 20;

/**
 * The live dashboard: throughput charts, the local disks' gauges, every volume, share and drive, the upload queue
 * and the bandwidth in force. Laid out on a 12x12 grid of the terminal, so it fills whatever size it gets and still
 * fits 80x24. Resolves once the user quits and the terminal is restored.
 */
export async function runTopDashboard(sample: () => Promise<MetricsSnapshot>, intervalMs: number): Promise<void> {
  // Unicode box drawing where the locale is UTF-8 and plain ASCII elsewhere, never the DEC line-drawing set: blessed
  // misreads the ncurses 6 terminfo of tmux and current xterms and would draw borders as "lqqk".
  process.env.NCURSES_NO_UTF8_ACS ??= '1';
  const { default: blessed } = await import('blessed');
  const contrib = await import('blessed-contrib');
  const screen = blessed.screen({ smartCSR: true, title: 'sgw top', warnings: false });
  // One grid row is one line of an 80x24 terminal; larger terminals stretch every panel alike.
  const grid = new contrib.grid({ rows: ROWS, cols: 12, screen });
  const chart = { showLegend: false, numYLabels: 3, xLabelPadding: 2, xPadding: 3, style: { text: 'white', baseline: 'white' } };
  const client = grid.set(0, 0, 7, 6, contrib.line, { ...chart, label: ' Client ' });
  const cloud = grid.set(0, 6, 7, 6, contrib.line, { ...chart, label: ' Cloud ' });
  // A gauge draws its bar on the third and fourth lines of its canvas: six lines with the border.
  const gauges = GAUGE_TITLES.map((title, i) => grid.set(7, i * 4, 6, 4, contrib.gauge, { label: ` ${title} `, stroke: 'green', fill: 'white' }));
  const resources = grid.set(13, 0, 9, 12, contrib.table, {
    label: ' Volumes, shares and tape drives ', columnWidth: RESOURCE_WIDTHS, columnSpacing: 2, interactive: false, fg: 'white',
  });
  // The last two rows, without a border: the upload queue and the limits in force.
  const status = blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 2, tags: true });

  const history = new RateHistory(HISTORY);
  // A tick every 15 s of the minute the charts show, counted back from now.
  const xLabels = Array.from({ length: HISTORY }, (_, i) => ((HISTORY - i) % 15 === 0 ? `-${HISTORY - i}s` : ' '));
  let previous: MetricsSnapshot | undefined;
  let latest: { snapshot: MetricsSnapshot; rates: GatewayRates } | undefined;

  const draw = (): void => {
    if (!latest) return;
    const { snapshot, rates } = latest;
    client.setLabel(chartLabel('Client', ['read', rates.client.read], ['write', rates.client.write]));
    client.setData([
      { title: 'read', x: xLabels, y: history.values('read').map((v) => v / MiB), style: { line: 'green' } },
      { title: 'write', x: xLabels, y: history.values('write').map((v) => v / MiB), style: { line: 'yellow' } },
    ]);
    cloud.setLabel(chartLabel('Cloud', ['up', rates.cloud.up], ['down', rates.cloud.down]));
    cloud.setData([
      { title: 'up', x: xLabels, y: history.values('up').map((v) => v / MiB), style: { line: 'cyan' } },
      { title: 'down', x: xLabels, y: history.values('down').map((v) => v / MiB), style: { line: 'magenta' } },
    ]);
    gaugePanels(snapshot).forEach((panel, i) => {
      const gauge = gauges[i]!;
      gauge.setLabel(` ${panel.title} ${percentText(panel.percent)} `);
      gauge.options.showLabel = panel.percent !== null;
      gauge.setPercent(gaugePercent(panel.percent));
    });
    resources.setData({ headers: RESOURCE_COLUMNS, data: resourceRows(snapshot, rates) });
    status.setContent(blessed.escape(`${queueLine(snapshot)}\n${bandwidthLine(snapshot)}  (q quits)`));
    screen.render();
  };

  const tick = async (): Promise<void> => {
    try {
      const snapshot = await sample();
      const rates = ratesBetween(previous ?? snapshot, snapshot);
      previous = snapshot;
      history.push('read', rates.client.read);
      history.push('write', rates.client.write);
      history.push('up', rates.cloud.up);
      history.push('down', rates.cloud.down);
      latest = { snapshot, rates };
      draw();
    } catch (err) {
      status.setContent(`{red-fg}${blessed.escape((err as Error).message)}{/red-fg}`);
      screen.render();
    }
  };

  await new Promise<void>((resolve) => {
    const timer = setInterval(() => void tick(), intervalMs);
    screen.key(['q', 'C-c', 'escape'], () => {
      clearInterval(timer);
      // destroy() leaves the alternate screen and shows the cursor again: the shell gets its terminal back as it was.
      screen.destroy();
      resolve();
    });
    screen.on('resize', draw);
    void tick();
  });
}

/**
 * blessed-contrib's gauge reads values up to 1.001 as fractions, so a real 0.5 % would be drawn as 50 %; values in
 * that range are drawn as 1 % (the panel's label still says the true figure).
 */
function gaugePercent(percent: number | null): number {
  if (percent === null || percent <= 0) return 0;
  return Math.max(percent, 1.01);
}

/** Short enough for half of an 80-column terminal: the figures are in the charts' unit, MiB/s. */
function chartLabel(title: string, ...series: Array<[name: string, bytesPerSecond: number]>): string {
  return ` ${title}  ${series.map(([name, value]) => `${name} ${(value / MiB).toFixed(1)}`).join('  ')} MiB/s `;
}
