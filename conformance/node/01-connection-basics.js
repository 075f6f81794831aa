'use strict';
// 01-connection-basics: opening, tuning and closing connections and
// channels with amqplib, and a refused login.

const assert = require('node:assert/strict');
const { test, run, unique, withTimeout, deferred, Inbox, amqplib } = require('../lib/harness');

test('connect, open a channel, close cleanly', async (t) => {
  const conn = await t.connect();
  const closed = deferred();
  conn.on('close', (err) => closed.resolve(err));
  const ch = await conn.createChannel();
  const chClosed = deferred();
  ch.on('close', () => chClosed.resolve());
  await ch.close();
  await withTimeout(chClosed.promise, 5000, 'channel close event');
  await conn.close();
  const err = await withTimeout(closed.promise, 5000, 'connection close event');
  assert.equal(err, undefined, `clean close reported an error: ${err}`);
  assert.deepEqual(t.errors, []);
});

test('server properties advertise the capabilities clients rely on', async (t) => {
  const conn = await t.connect();
  const props = conn.connection.serverProperties;
  assert.equal(typeof props.product, 'string');
  assert.equal(typeof props.version, 'string');
  for (const cap of [
    'publisher_confirms',
    'exchange_exchange_bindings',
    'basic.nack',
    'consumer_cancel_notify',
    'connection.blocked',
    'per_consumer_qos',
    'authentication_failure_close',
  ]) {
    assert.equal(props.capabilities[cap], true, `capability ${cap}`);
  }
});

test('tune: defaults, and a smaller frameMax asked by the client', async (t) => {
  const conn = await t.connect();
  assert.equal(conn.connection.frameMax, 131072, 'frame_max');
  assert.ok(conn.connection.channelMax > 0, 'channel_max');
  const small = await t.connect({ query: { frameMax: 4096, heartbeat: 0 } });
  assert.equal(small.connection.frameMax, 4096, 'negotiated frame_max');
  assert.equal(small.connection.heartbeat, 0, 'heartbeat off');

  // A 200 KB body crosses ~50 frames each way.
  const ch = await small.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  const body = Buffer.alloc(200 * 1024);
  for (let i = 0; i < body.length; i += 1) body[i] = (i * 31 + (i >> 12)) & 0xff;
  ch.sendToQueue(queue, body);
  const inbox = new Inbox('deliveries');
  await ch.consume(queue, (m) => inbox.push(m), { noAck: true });
  const m = await inbox.take();
  assert.ok(m.content.equals(body), 'body changed on the way');
});

test('many channels: open, use, close some, reuse the connection', async (t) => {
  const conn = await t.connect();
  const channels = [];
  for (let i = 0; i < 20; i += 1) channels.push(await conn.createChannel());
  const q = unique('node-chan');
  await channels[0].assertQueue(q, { exclusive: true });
  for (let i = 0; i < 20; i += 2) await channels[i].close();
  for (let i = 1; i < 20; i += 2) channels[i].sendToQueue(q, Buffer.from(String(i)));
  const check = channels[1];
  const seen = [];
  for (let i = 0; i < 10; i += 1) {
    let m = false;
    const deadline = Date.now() + 5000;
    while (m === false && Date.now() < deadline) m = await check.get(q, { noAck: true });
    assert.notEqual(m, false, `message ${i} missing`);
    seen.push(Number(m.content.toString()));
  }
  seen.sort((a, b) => a - b);
  assert.deepEqual(seen, [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
});

test('closing the connection closes its channels and consumers', async (t) => {
  const conn = await t.connect();
  const ch1 = await conn.createChannel();
  const ch2 = await conn.createChannel();
  const closes = new Inbox('channel close events');
  ch1.on('close', () => closes.push(1));
  ch2.on('close', () => closes.push(2));
  const { queue } = await ch1.assertQueue('', { exclusive: true });
  await ch2.consume(queue, () => {});
  await conn.close();
  const got = await closes.takeN(2);
  assert.deepEqual(got.sort(), [1, 2]);
  await assert.rejects(ch1.checkQueue(queue), /Channel closed/);

  // The exclusive queue went with its connection.
  const other = await t.connect();
  const ch = await other.createChannel();
  await assert.rejects(ch.checkQueue(queue), (e) => e.code === 404);
});

test('a wrong password is refused with 403 ACCESS_REFUSED', async (t) => {
  const u = new URL(t.broker.url);
  u.password = 'definitely-not-the-password';
  await assert.rejects(
    withTimeout(amqplib().connect(u.toString()), 5000, 'connect with a bad password'),
    (e) => {
      assert.match(
        e.message,
        /^Handshake terminated by server: 403 \(ACCESS-REFUSED\) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN/,
      );
      return true;
    },
  );
});

run();
