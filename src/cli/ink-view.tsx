import { Box, Text, render } from 'ink';
import type { Section, View } from './view.js';

function Fields({ section }: { section: Extract<Section, { kind: 'fields' }> }) {
  const width = Math.max(0, ...section.fields.map(([label]) => label.length));
  return (
    <Box flexDirection="column">
      {section.fields.map(([label, value]) => (
        <Box key={label}>
          <Text color="gray">{label.padEnd(width + 2)}</Text>
          <Text>{value}</Text>
        </Box>
      ))}
    </Box>
  );
}

function Table({ section }: { section: Extract<Section, { kind: 'table' }> }) {
  if (section.rows.length === 0) return <Text color="gray">{section.empty}</Text>;
  const widths = section.columns.map((column, i) => Math.max(column.length, ...section.rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return (
    <Box flexDirection="column">
      <Text bold>{line(section.columns)}</Text>
      {section.rows.map((row, i) => (
        <Text key={i}>{line(row)}</Text>
      ))}
    </Box>
  );
}

function ViewBody({ view }: { view: View }) {
  return (
    <Box flexDirection="column" gap={1}>
      {view.map((section, i) => (
        <Box key={i} flexDirection="column">
          {section.title ? <Text bold underline>{section.title}</Text> : null}
          {section.kind === 'fields' ? <Fields section={section} /> : <Table section={section} />}
        </Box>
      ))}
    </Box>
  );
}

/** Draws the view once and returns when ink has flushed it. */
export async function renderView(view: View): Promise<void> {
  const instance = render(<ViewBody view={view} />, { patchConsole: false });
  instance.unmount();
  await instance.waitUntilExit();
}
