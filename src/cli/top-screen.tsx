import { Box, Text, render, useApp, useInput } from 'ink';
import { useEffect, useState } from 'react';
import type { Disk, GatewayInfo } from '../rpc/api.js';
import { diskTable } from './disk-view.js';
import { gatewayInfoView } from './gateway-view.js';
import { ViewBody } from './ink-view.js';

export interface TopSample {
  info: GatewayInfo;
  disks: Disk[];
}

function TopScreen({ sample, intervalMs }: { sample: () => Promise<TopSample>; intervalMs: number }) {
  const { exit } = useApp();
  const [state, setState] = useState<{ data?: TopSample; error?: string; at?: Date }>({});
  useInput((input, key) => {
    if (input === 'q' || key.escape || (key.ctrl && input === 'c')) exit();
  });
  useEffect(() => {
    let alive = true;
    const tick = () => sample().then(
      (data) => alive && setState({ data, at: new Date() }),
      (err: Error) => alive && setState((s) => ({ ...s, error: err.message, at: new Date() })),
    );
    void tick();
    const timer = setInterval(tick, intervalMs);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [sample, intervalMs]);
  return (
    <Box flexDirection="column" gap={1}>
      <Text inverse>{` sgw top  ${state.at?.toLocaleTimeString() ?? ''}  (q to quit) `}</Text>
      {state.error ? <Text color="red">{state.error}</Text> : null}
      {state.data ? <ViewBody view={[...gatewayInfoView(state.data.info), ...diskTable(state.data.disks)]} /> : <Text>connecting…</Text>}
    </Box>
  );
}

/** Redraws the gateway's state every interval until the user quits. */
export async function runTop(sample: () => Promise<TopSample>, intervalMs: number): Promise<void> {
  const instance = render(<TopScreen sample={sample} intervalMs={intervalMs} />);
  await instance.waitUntilExit();
}
