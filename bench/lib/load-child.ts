/**
 * One autocannon run, in its own process so the load generator does not share an event loop with
 * the SQL endpoint and the model server. Reads its job as JSON (argv[2]); every request takes the
 * next path, body and API key in turn. Prints the summary as one JSON line.
 */
import autocannon from 'autocannon';

export type LoadJob = {
  url: string;
  method: 'GET' | 'POST';
  paths: string[];
  bodies?: string[];
  keys: string[];
  organizationId: string;
  connections: number;
  durationSec: number;
};

const job = JSON.parse(process.argv[2] ?? '{}') as LoadJob;
let n = 0;
const cpuAtStart = process.cpuUsage();

const instance = autocannon(
  {
    url: job.url,
    connections: job.connections,
    duration: job.durationSec,
    timeout: 10,
    requests: [
      {
        setupRequest: (req) => {
          const i = n++;
          const headers: Record<string, string> = {
            'x-organization-id': job.organizationId,
            'x-api-key': job.keys[i % job.keys.length] ?? '',
          };
          const body = job.bodies?.[i % job.bodies.length];
          if (body !== undefined) headers['content-type'] = 'application/json';
          return {
            ...req,
            method: job.method,
            path: job.paths[i % job.paths.length] ?? '/',
            headers,
            ...(body !== undefined ? { body } : {}),
          };
        },
      },
    ],
  },
  (error, result) => {
    if (error) {
      console.error(error);
      process.exit(1);
    }
    const statusCodes: Record<string, number> = {};
    for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
      statusCodes[code] = (stats as { count: number }).count;
    }
    console.log(
      JSON.stringify({
        total: result.requests.total,
        durationSec: result.duration,
        ok2xx: result['2xx'],
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        statusCodes,
        cpuMs: (() => {
          const used = process.cpuUsage(cpuAtStart);
          return (used.user + used.system) / 1000;
        })(),
        latency: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      }),
    );
  },
);
process.once('SIGTERM', () => instance.stop());
