import { Text, render, type Instance } from 'ink';
import { amountOf, percentOf, type Progress, type ProgressDisplay } from './progress-model.js';

const BAR_MIN = 10;
const BAR_MAX = 40;

/**
 * `label [#######-----]  42%  12.0 MiB / 28.5 MiB`, the bar taking what the line leaves of `columns`; where even
 * the narrowest bar does not fit, the label is cut short rather than the line wrapped. Without a total there is
 * nothing to fill: the label and the amount done so far.
 */
export function ProgressBar({ progress, columns }: { progress: Progress; columns: number }) {
  const { label, done, total, unit } = progress;
  const percent = percentOf(progress);
  if (done === undefined || percent === undefined) {
    return <Text>{done === undefined ? label : `${label}  ${amountOf(done, unit)}`}</Text>;
  }
  const figures = `${String(percent).padStart(3)}%${unit === undefined || total === undefined ? '' : `  ${amountOf(done, unit)} / ${amountOf(total, unit)}`}`;
  const room = columns - figures.length - 4;
  const width = Math.min(BAR_MAX, Math.max(BAR_MIN, room - label.length));
  const shown = label.length <= room - width ? label : `${label.slice(0, Math.max(0, room - width - 1))}…`;
  const filled = Math.round((width * percent) / 100);
  return (
    <Text>
      {shown} [<Text color="green">{'#'.repeat(filled)}</Text><Text dimColor>{'-'.repeat(width - filled)}</Text>] {figures}
    </Text>
  );
}

/** Draws readings on a terminal, each over the one before; the last stays on screen as the final line. */
export function progressBar(stream: NodeJS.WriteStream): ProgressDisplay {
  let instance: Instance | undefined;
  const draw = (progress: Progress) => <ProgressBar progress={progress} columns={stream.columns || 80} />;
  return {
    show(progress) {
      if (instance) instance.rerender(draw(progress));
      else instance = render(draw(progress), { stdout: stream, patchConsole: false });
    },
    async end(last) {
      if (!instance) return;
      if (last) instance.rerender(draw(last));
      instance.unmount();
      await instance.waitUntilExit();
    },
  };
}
