import http from 'node:http';
import type { MetricsSnapshot } from '../../rpc/api.js';
import type { Logger } from '../logger.js';

/** `GET /metrics` in Prometheus' text format on a loopback port (--metrics-listen); everything else is 404. */
export class MetricsEndpoint {
  private constructor(private readonly server: http.Server) {}

  static async listen(at: { host: string; port: number }, snapshot: () => Promise<MetricsSnapshot>, log: Logger): Promise<MetricsEndpoint> {
    const { PrometheusMetrics } = await import('./prometheus-metrics.js');
    const metrics = new PrometheusMetrics(snapshot);
    const server = http.createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('metrics are at GET /metrics\n');
        return;
      }
      metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (err: unknown) => {
          log.error({ err }, 'metrics scrape failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('the metrics could not be read; see the sgwd log\n');
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(at.port, at.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new MetricsEndpoint(server);
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
