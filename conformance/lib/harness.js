'use strict';
// Conformance harness for the Node tests: a broker to test against and a
// small TAP runner, the JavaScript twin of harness.py.
//
// Without AMQP_URL, run() starts $WARREND on a free loopback port with a
// fresh data directory (BROKER_WRAPPER prefixes the command, e.g.
// "valgrind --error-exitcode=99") and stops it with SIGTERM at the end; one
// extra TAP case then checks that it exited cleanly.  With AMQP_URL the
// tests use that broker (RabbitMQ, to check the expectations are right).
//
//   const { test, run } = require('../lib/harness');
//   test('name', async (t) => { const conn = await t.connect(); ... });
//   run();
//
// Every case has a deadline (default 10 s); connections made with
// t.connect() are closed after the case whatever happened.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');

const START_TRIES = 5;
const START_TIMEOUT = 20000; // ms for warrend to accept connections
const STOP_TIMEOUT = 10000; // ms for warrend to exit after SIGTERM
const CASE_TIMEOUT = 10000; // ms for one test case
const CLEANUP_TIMEOUT = 3000; // ms to close a case's connections

let amqp = null;
let broker = null;
const tests = [];
let current = null; // the case running now, for stray errors

// The amqplib module, loaded lazily so a missing node_modules is one clear
// failure rather than a stack trace before the plan.
function amqplib() {
  if (amqp === null) amqp = require('amqplib');
  return amqp;
}

// Resolve after ms milliseconds (only between polls of a condition).
function delay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Settle like promise, or reject with "what timed out" after ms.
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Poll cond() (sync or async) until it returns a truthy value, which is
// returned; reject with what if the deadline passes first.
async function waitFor(cond, what, timeout = 5000, interval = 10) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() >= deadline) throw new Error(`${what}: not true within ${timeout} ms`);
    await delay(interval);
  }
}

// A queue or exchange name no other run uses.
let uniqueCounter = 0;
function unique(prefix) {
  uniqueCounter += 1;
  return `${prefix}-${process.pid}-${uniqueCounter}-${Date.now() % 1e9}`;
}

// A promise and its resolve/reject, for callbacks that complete a step.
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

// An unbounded queue of values pushed by callbacks (deliveries, events)
// and taken by the test with a deadline.
class Inbox {
  constructor(name) {
    this.name = name || 'inbox';
    this.items = [];
    this.waiters = [];
  }

  push(v) {
    const w = this.waiters.shift();
    if (w) w.resolve(v);
    else this.items.push(v);
  }

  get length() {
    return this.items.length;
  }

  // The next value, or reject after ms.
  take(ms = 5000) {
    if (this.items.length > 0) return Promise.resolve(this.items.shift());
    const d = deferred();
    this.waiters.push(d);
    return withTimeout(d.promise, ms, `${this.name}: waiting for an item`).catch((e) => {
      this.waiters = this.waiters.filter((w) => w !== d);
      throw e;
    });
  }

  // Resolve to n values, in order.
  async takeN(n, ms = 5000) {
    const deadline = Date.now() + ms;
    const out = [];
    while (out.length < n) {
      const left = deadline - Date.now();
      try {
        out.push(await this.take(Math.max(left, 0)));
      } catch (e) {
        throw new Error(`${this.name}: got ${out.length} of ${n} within ${ms} ms`);
      }
    }
    return out;
  }

  // Fail if anything arrives within ms (only a grace period can show
  // that something does not happen; keep it short).
  async expectNone(ms, what) {
    if (this.items.length === 0) await delay(ms);
    if (this.items.length > 0) {
      throw new Error(`${what || this.name}: unexpected ${util.inspect(this.items[0], { depth: 2 })}`);
    }
  }
}

// The broker under test.
class Broker {
  constructor(url, proc, datadir) {
    this.url = url;
    this.proc = proc || null;
    this.datadir = datadir || null;
    this.exit = null; // { code, signal } once the process is gone
    const u = new URL(url);
    this.host = u.hostname || '127.0.0.1';
    this.port = Number(u.port) || 5672;
    this.user = decodeURIComponent(u.username || 'guest');
    this.password = decodeURIComponent(u.password || 'guest');
    const vhost = u.pathname && u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : '/';
    this.vhost = vhost;
    if (proc) {
      proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
      });
    }
  }

  // Warren, for the few places where it differs from RabbitMQ on purpose.
  get isWarren() {
    return this.proc !== null || process.env.AMQP_IS_WARREN === '1';
  }

  alive() {
    return this.proc === null || this.exit === null;
  }

  // The end of warrend.log, when we started warrend.
  logTail(lines = 40) {
    if (!this.datadir) return [];
    try {
      const text = fs.readFileSync(path.join(this.datadir, 'warrend.log'), 'utf8');
      return text.replace(/\n$/, '').split('\n').slice(-lines);
    } catch (e) {
      return [];
    }
  }

  // SIGTERM the broker we started and wait for it; resolve to null if it
  // exited cleanly (status 0 or that SIGTERM), else a description.
  async stop() {
    let problem = null;
    if (this.proc !== null) {
      if (this.exit !== null) {
        problem = `exited during the tests (${describeExit(this.exit)})`;
      } else {
        const exited = new Promise((resolve) => this.proc.once('exit', resolve));
        this.proc.kill('SIGTERM');
        try {
          await withTimeout(exited, STOP_TIMEOUT, 'warrend exit');
          const { code, signal } = this.exit;
          if (code !== null && code !== 0) problem = `exited with status ${code} after SIGTERM`;
          if (signal !== null && signal !== 'SIGTERM') problem = `died of ${signal} after SIGTERM`;
        } catch (e) {
          this.proc.kill('SIGKILL');
          problem = `did not exit within ${STOP_TIMEOUT} ms of SIGTERM`;
        }
      }
    }
    return problem;
  }

  // Remove the data directory we made.
  removeDatadir() {
    if (this.datadir) fs.rmSync(this.datadir, { recursive: true, force: true });
    this.datadir = null;
  }
}

function describeExit(exit) {
  return exit.signal ? `signal ${exit.signal}` : `status ${exit.code}`;
}

// A loopback port nobody listens on right now.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Whether something accepts connections on host:port.
function portOpen(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.setTimeout(500);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}

// Start [BROKER_WRAPPER] $WARREND on a free port; resolve to a Broker once
// it accepts connections, or to null after it exits or the deadline passes.
async function spawnWarrend() {
  const warrend = process.env.WARREND || 'warrend';
  const port = await freePort();
  const datadir = fs.mkdtempSync(path.join(process.env.TMPDIR || os.tmpdir(), 'warren-conf-'));
  const logPath = path.join(datadir, 'warrend.log');
  const log = fs.openSync(logPath, 'w');
  const wrapper = (process.env.BROKER_WRAPPER || '').split(/\s+/).filter((w) => w !== '');
  const argv = [
    ...wrapper,
    warrend,
    '--listen',
    `127.0.0.1:${port}`,
    '--data-dir',
    datadir,
    '--log-level',
    process.env.WARREN_LOG_LEVEL || 'info',
  ];
  const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const b = new Broker(`amqp://guest:guest@127.0.0.1:${port}/`, proc, datadir);
  let spawnError = null;
  proc.on('error', (e) => {
    spawnError = e;
  });
  const deadline = Date.now() + START_TIMEOUT;
  while (Date.now() < deadline && spawnError === null && b.alive()) {
    if (await portOpen('127.0.0.1', port)) return b;
    await delay(20);
  }
  if (b.alive() && spawnError === null) proc.kill('SIGKILL');
  process.stdout.write(`# ${warrend} did not start on port ${port}${spawnError ? `: ${spawnError.message}` : ''}\n`);
  for (const line of b.logTail()) process.stdout.write(`# warrend: ${line}\n`);
  b.removeDatadir();
  return null;
}

// The broker for this file: AMQP_URL's, or a warrend we start.
async function startBroker() {
  if (broker !== null) return broker;
  if (process.env.AMQP_URL) {
    broker = new Broker(process.env.AMQP_URL);
    return broker;
  }
  for (let i = 0; i < START_TRIES; i += 1) {
    broker = await spawnWarrend();
    if (broker !== null) return broker;
  }
  throw new Error(`could not start ${process.env.WARREND || 'warrend'}`);
}

// What one test case gets: the broker, and helpers whose resources are
// released after the case.
class Context {
  constructor(name) {
    this.name = name;
    this.broker = broker;
    this.connections = [];
    this.errors = []; // errors emitted by connections and channels
    this.cleanups = [];
  }

  // amqplib.connect() to the broker with a connect timeout.  Connection
  // and channel 'error' events are recorded in t.errors (an unhandled
  // 'error' event would kill the process); tests that expect an error
  // listen for it themselves as well.
  async connect(options = {}) {
    const { query, ...socketOptions } = options;
    let url = broker.url;
    if (query) {
      const u = new URL(url);
      for (const [k, v] of Object.entries(query)) u.searchParams.set(k, String(v));
      url = u.toString();
    }
    const conn = await withTimeout(
      amqplib().connect(url, { timeout: CASE_TIMEOUT, ...socketOptions }),
      CASE_TIMEOUT,
      'connect',
    );
    this.connections.push(conn);
    conn.on('error', (e) => this.errors.push(e));
    for (const method of ['createChannel', 'createConfirmChannel']) {
      const orig = conn[method].bind(conn);
      conn[method] = async (...args) => {
        const ch = await orig(...args);
        ch.on('error', (e) => this.errors.push(e));
        return ch;
      };
    }
    return conn;
  }

  // Run fn after the case, pass or fail (deleting a shared queue, ...).
  defer(fn) {
    this.cleanups.push(fn);
  }

  // Close everything the case opened; errors here are not the case's.
  async cleanup() {
    for (const fn of this.cleanups.reverse()) {
      try {
        await withTimeout(Promise.resolve().then(fn), CLEANUP_TIMEOUT, 'cleanup');
      } catch (e) {
        process.stdout.write(`# cleanup: ${e.message}\n`);
      }
    }
    for (const conn of this.connections) {
      try {
        await withTimeout(conn.close(), CLEANUP_TIMEOUT, 'connection.close');
      } catch (e) {
        // already closed, or closed by the broker: nothing to do
      }
    }
  }
}

// Register a case: fn(t) returns a promise that rejects on failure.
function test(name, fn, options = {}) {
  tests.push({ name, fn, timeout: options.timeout || CASE_TIMEOUT });
}

// Print the lines of a failure as TAP diagnostics.
function diag(err) {
  const text = err && err.stack ? err.stack : util.inspect(err);
  for (const line of String(text).split('\n')) process.stdout.write(`# ${line}\n`);
}

// Run the registered cases and print TAP; exit 0 (the driver counts).
async function run() {
  // A stray error (an amqplib event nobody handled) fails the running case
  // instead of killing the process.
  const stray = (err) => {
    if (current !== null) current.reject(err);
    else diag(err);
  };
  process.on('uncaughtException', stray);
  process.on('unhandledRejection', stray);

  try {
    amqplib();
  } catch (e) {
    process.stdout.write(`Bail out! ${e.message.split('\n')[0]} (run: npm ci --prefix conformance)\n`);
    process.exit(0);
  }
  try {
    await startBroker();
  } catch (e) {
    process.stdout.write(`Bail out! ${e.message}\n`);
    process.exit(0);
  }
  const checkExit = broker.proc !== null;
  process.stdout.write(`1..${tests.length + (checkExit ? 1 : 0)}\n`);
  for (let i = 0; i < tests.length; i += 1) {
    const { name, fn, timeout } = tests[i];
    const t = new Context(name);
    const d = deferred();
    current = d;
    let failure = null;
    try {
      await withTimeout(Promise.race([Promise.resolve().then(() => fn(t)), d.promise]), timeout, name);
    } catch (e) {
      failure = e;
    }
    current = null;
    await t.cleanup();
    if (failure === null) {
      process.stdout.write(`ok ${i + 1} - ${name}\n`);
    } else {
      process.stdout.write(`not ok ${i + 1} - ${name}\n`);
      diag(failure);
      for (const e of t.errors) process.stdout.write(`# (error event: ${e.message})\n`);
      if (!broker.alive()) {
        process.stdout.write(`# broker died (${describeExit(broker.exit)}); its log:\n`);
        for (const line of broker.logTail()) process.stdout.write(`# warrend: ${line}\n`);
        // every later case would fail for the same reason
        for (let j = i + 1; j < tests.length; j += 1) {
          process.stdout.write(`not ok ${j + 1} - ${tests[j].name} # broker died\n`);
        }
        break;
      }
    }
  }
  if (checkExit) {
    const problem = await broker.stop();
    const n = tests.length + 1;
    if (problem === null) {
      process.stdout.write(`ok ${n} - broker exits cleanly on SIGTERM\n`);
    } else {
      process.stdout.write(`not ok ${n} - broker exits cleanly on SIGTERM\n# ${problem}\n`);
      for (const line of broker.logTail()) process.stdout.write(`# warrend: ${line}\n`);
    }
    broker.removeDatadir();
  }
  process.exit(0);
}

// Stop the broker we started if the process is interrupted.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (broker !== null && broker.proc !== null && broker.alive()) broker.proc.kill('SIGKILL');
    if (broker !== null) broker.removeDatadir();
    process.exit(1);
  });
}

module.exports = {
  amqplib,
  test,
  run,
  unique,
  waitFor,
  withTimeout,
  delay,
  deferred,
  Inbox,
  startBroker,
  get broker() {
    return broker;
  },
};
