import { z } from 'zod';
import type { BandwidthInterval, BandwidthRates, BandwidthSettings, BandwidthShow } from '../../rpc/api.js';
import { ratesAt, validateBandwidthSettings } from '../../storage/bandwidth-schedule.js';
import { savedBandwidth } from '../bandwidth-settings.js';
import type { DaemonContext } from '../context.js';
import { GatewayDrain } from '../gateway-drain.js';
import { metricsSnapshot } from '../metrics/metrics-snapshot.js';
import { parseParams, withoutParams } from './params.js';

const rates = z.object({ uploadBitsPerSecond: z.number().optional(), downloadBitsPerSecond: z.number().optional() }).strict();
const interval = rates.extend({
  daysOfWeek: z.array(z.number()).max(7),
  startHourOfDay: z.number(),
  startMinuteOfHour: z.number(),
  endHourOfDay: z.number(),
  endMinuteOfHour: z.number(),
}).strict();
const bandwidthParams = z.object({ rates, schedule: z.array(interval).max(100).optional() }).strict();

/** Gives the daemon a moment to send its answer before it stops taking requests. */
const STOP_DELAY_MS = 100;

export function operationsHandlers(ctx: DaemonContext) {
  const drain = new GatewayDrain(ctx);
  const show = (): BandwidthShow => {
    const settings = savedBandwidth(ctx.catalog);
    return { settings, now: ratesAt(settings, new Date()) };
  };
  return {
    'gateway.metrics': withoutParams(() => metricsSnapshot(ctx)),
    'gateway.drain': withoutParams(() => drain.start()),
    'gateway.drain.status': withoutParams(() => drain.status()),
    'gateway.stop': withoutParams(() => {
      ctx.log.info('stop requested over the control socket');
      // The same path as SIGTERM from systemd: requests running finish, then everything closes in order.
      setTimeout(() => process.kill(process.pid, 'SIGTERM'), STOP_DELAY_MS).unref();
      return { stopping: true as const, pid: process.pid };
    }),
    'gateway.bandwidth.show': withoutParams(show),
    'gateway.bandwidth.set': (params: unknown) => {
      const req = parseParams(bandwidthParams, params);
      const settings: BandwidthSettings = {
        rates: req.rates as BandwidthRates,
        schedule: (req.schedule ?? []) as BandwidthInterval[],
        timezone: ctx.catalog.gateway()?.timezone ?? 'UTC',
      };
      validateBandwidthSettings(settings);
      ctx.catalog.setBandwidth(settings);
      ctx.traffic.update(settings);
      ctx.log.info({ rates: settings.rates, intervals: settings.schedule.length }, 'bandwidth limits set');
      return show();
    },
    'gateway.bandwidth.clear': withoutParams(() => {
      ctx.catalog.setBandwidth(undefined);
      ctx.traffic.update(null);
      ctx.log.info('bandwidth limits cleared');
      return show();
    }),
  };
}

