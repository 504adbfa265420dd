// node --expose-gc bench/in-process.mjs ROUNDS label=DIR ... (label `bare`: a bare Express 5 app on
// DIR's express install; any other: DIR's built app, dist/, with its in-app features).
// The JavaScript cost of one GET /api/hello through each app, without sockets: requests are made
// in the process and handed to the app, so HTTP parsing and the kernel (the same for every app)
// are left out, and so is most of a shared machine's noise. Round after round, each app handles
// N requests in turn after a full GC (so that no app pays for another's garbage); prints the
// median CPU time per request and the ratio to the first app. Run it with two orders of the apps
// to see what position costs.
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { pathToFileURL } from 'node:url';

const [rounds = '25', ...specs] = process.argv.slice(2);
const N = 2000;
Object.assign(process.env, {
  NODE_ENV: 'production',
  LOG_LEVEL: 'info',
  RATE_LIMIT_MAX: '1000000',
  RATE_LIMIT_WINDOW_MS: '60000',
});
const load = (dir, file) => import(pathToFileURL(`${dir}/${file}`).href);

const apps = [];
for (const spec of specs) {
  const [label, dir] = spec.split('=');
  let app;
  if (label === 'bare') {
    const { default: express } = await load(dir, 'node_modules/express/index.js');
    app = express();
    app.get('/api/hello', (_req, res) => {
      res.json({ message: 'Hello, world!' });
    });
  } else {
    process.chdir(dir);
    const { loadConfig } = await load(dir, 'dist/config.js');
    const { createContext } = await load(dir, 'dist/context.js');
    const { features } = await load(dir, 'dist/features/index.js');
    const { createApp } = await load(dir, 'dist/app.js');
    const inApp = features.filter((f) => !f.launch); // no cluster: one process, no IPC
    app = await createApp(createContext(loadConfig(), inApp), inApp);
  }
  apps.push({ label, app, us: [] });
}

const socket = new Socket();
Object.defineProperty(socket, 'remoteAddress', { value: '127.0.0.1' });
function request(app) {
  const req = new IncomingMessage(socket);
  Object.assign(req, { method: 'GET', url: '/api/hello', complete: true });
  req.headers = { host: '127.0.0.1', 'user-agent': 'bench' };
  req.push(null);
  const res = new ServerResponse(req);
  app(req, res);
  return res;
}
const settle = () => new Promise((resolve) => setImmediate(resolve));

for (const a of apps) for (let i = 0; i < N; i++) request(a.app); // warm-up
await settle();
for (const a of apps) {
  const res = request(a.app);
  await settle();
  if (res.statusCode !== 200) throw new Error(`${a.label} answered ${res.statusCode}`);
}
for (let r = 0; r < Number(rounds); r++) {
  for (const a of apps) {
    globalThis.gc?.();
    const before = process.cpuUsage();
    for (let i = 0; i < N; i++) request(a.app);
    await settle(); // async middleware (a rate limit's store) finishes its work
    const used = process.cpuUsage(before);
    a.us.push((used.user + used.system) / N);
  }
}
const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const first = median(apps[0].us);
for (const a of apps) {
  const m = median(a.us);
  console.log(
    `${a.label.padEnd(14)} ${m.toFixed(1).padStart(6)} µs/request (${Math.min(...a.us).toFixed(1)}–${Math.max(...a.us).toFixed(1)})  ${apps[0].label}/x ${(first / m).toFixed(2)}×`,
  );
}
if (!globalThis.gc)
  console.log('(run with --expose-gc: without it, GC lands on whichever app is next)');
process.exit(0); // features keep timers (metrics' default collectors)
