// node bench/cpu-per-request.mjs ROUNDS SECONDS 'label=DIR[:ARGS]' ... (ARGS: `dist/main.js` unless
// given; space-separated, NAME=value words first set that server's environment, the rest are node's
// argv, e.g. 'otel=/tmp/app:OTEL_TRACES_SAMPLER=always_on --import ./dist/features/otel/register.js
// dist/main.js'; the first server is the reference, such as a bare Express app). Every server gets
// OTEL_EXPORTER_OTLP_ENDPOINT of a loopback OTLP receiver run here, which reads and drops spans.
// Measured as bench/interleaved.mjs says (every server on CPU 0, wrk on CPU 1, round after round,
// server CPU per request from /proc). Prints medians with the range. Linux, taskset, wrk.
// Also the ratio of the fastest rounds: other load on the machine only adds CPU per request
// (cache misses, migrations), so the minimum is the steadier estimate when the machine is busy.
import { createServer as createHttpServer } from 'node:http';
import { freePort, interleave, median, startPinned, stopAll } from './interleaved.mjs';

const [rounds, seconds, ...specs] = process.argv.slice(2);
const sink = createHttpServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}'));
});
const sinkPort = await freePort();
await new Promise((r) => sink.listen(sinkPort, '127.0.0.1', r));
const env = {
  ...process.env,
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`,
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'info',
  WEB_CONCURRENCY: '1',
  RATE_LIMIT_MAX: '1000000',
  RATE_LIMIT_WINDOW_MS: '60000',
};
const servers = [];
try {
  for (const spec of specs) {
    const label = spec.slice(0, spec.indexOf('='));
    const rest = spec.slice(spec.indexOf('=') + 1);
    const [dir, args = 'dist/main.js'] = rest.split(':');
    const words = args.split(' ').filter(Boolean);
    const isEnv = (w) => /^[A-Z_]+=/.test(w);
    const own = Object.fromEntries(
      words.filter(isEnv).map((w) => [w.split('=')[0], w.slice(w.indexOf('=') + 1)]),
    );
    servers.push(
      await startPinned(
        label,
        dir,
        words.filter((w) => !isEnv(w)),
        { ...env, ...own },
      ),
    );
  }
  interleave(servers, Number(rounds), Number(seconds), (r) =>
    process.stderr.write(`round ${r} done\n`),
  );
} finally {
  await stopAll(servers);
  sink.close();
}
const [bare] = servers;
for (const s of servers) {
  const [lo, hi] = [Math.min(...s.us), Math.max(...s.us)];
  console.log(
    `${s.label.padEnd(18)} CPU/req ${median(s.us).toFixed(1).padStart(6)} µs (${lo.toFixed(1)}–${hi.toFixed(1)})  ` +
      `req/s ${Math.round(median(s.rps)).toString().padStart(6)} (${Math.round(Math.min(...s.rps))}–${Math.round(Math.max(...s.rps))})  ` +
      `bare/x CPU ${(median(bare.us) / median(s.us)).toFixed(2)}× (fastest rounds ${(Math.min(...bare.us) / lo).toFixed(2)}×)  req/s ${(median(s.rps) / median(bare.rps)).toFixed(2)}×`,
  );
}
