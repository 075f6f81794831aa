'use strict';
// 05-publish-roundtrip: a message published through amqplib with every
// property and a headers table of every JavaScript type arrives unchanged,
// by consume and by get, through the default exchange and a named one.

const assert = require('node:assert/strict');
const { test, run, unique, Inbox, waitFor } = require('../lib/harness');

// Every property amqplib can set; userId must be the connection's user.
function fullOptions(user) {
  return {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: {
      string: 'h\u00e9llo w\u00f6rld',
      empty: '',
      small: 7,
      negative: -100,
      short: 1000,
      int: 100000,
      long: 2 ** 40,
      negLong: -(2 ** 40),
      double: 3.25,
      yes: true,
      no: false,
      nothing: null,
      bytes: Buffer.from([0, 1, 2, 253, 254, 255]),
      table: { nested: 'value', deeper: { n: 1 } },
      array: ['one', 2, true, { in: 'array' }],
      emptyTable: {},
      emptyArray: [],
    },
    deliveryMode: 2,
    priority: 7,
    correlationId: 'corr-42',
    replyTo: 'reply.to.somewhere',
    expiration: '600000',
    messageId: 'message-1',
    timestamp: 1700000000,
    type: 'test.type',
    userId: user,
    appId: '05-publish-roundtrip.js',
  };
}

// The properties amqplib decodes, for fields we set.
function expectedProperties(opts) {
  return {
    contentType: opts.contentType,
    contentEncoding: opts.contentEncoding,
    headers: opts.headers,
    deliveryMode: opts.deliveryMode,
    priority: opts.priority,
    correlationId: opts.correlationId,
    replyTo: opts.replyTo,
    expiration: opts.expiration,
    messageId: opts.messageId,
    timestamp: opts.timestamp,
    type: opts.type,
    userId: opts.userId,
    appId: opts.appId,
    clusterId: undefined,
  };
}

// A body with every byte value.
function binaryBody(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 1) b[i] = (i * 7 + 3) & 0xff;
  return b;
}

test('every property and header type survives basic.consume', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const q = unique('node-roundtrip');
  await ch.assertQueue(q, { exclusive: true });
  const x = unique('node-roundtrip-x');
  await ch.assertExchange(x, 'direct', { autoDelete: true });
  await ch.bindQueue(q, x, 'the-key');
  const opts = fullOptions(t.broker.user);
  const body = binaryBody(5000);
  assert.equal(ch.publish(x, 'the-key', body, opts), true);

  const inbox = new Inbox('deliveries');
  const { consumerTag } = await ch.consume(q, (m) => inbox.push(m));
  const m = await inbox.take();
  assert.ok(m.content.equals(body), 'body differs');
  assert.deepEqual(m.properties, expectedProperties(opts));
  assert.deepEqual(m.fields, {
    consumerTag,
    deliveryTag: 1,
    redelivered: false,
    exchange: x,
    routingKey: 'the-key',
  });
  ch.ack(m);
});

test('every property and header type survives basic.get', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const q = unique('node-roundtrip');
  await ch.assertQueue(q, { exclusive: true });
  const opts = fullOptions(t.broker.user);
  const body = binaryBody(300);
  ch.sendToQueue(q, body, opts);
  ch.sendToQueue(q, Buffer.from('second'));
  const m = await waitFor(() => ch.get(q), 'basic.get-ok');
  assert.ok(m.content.equals(body), 'body differs');
  assert.deepEqual(m.properties, expectedProperties(opts));
  assert.equal(m.fields.exchange, '');
  assert.equal(m.fields.routingKey, q);
  assert.equal(m.fields.redelivered, false);
  assert.equal(m.fields.messageCount, 1, 'messages left behind the one got');
  ch.ack(m);
  const m2 = await ch.get(q, { noAck: true });
  assert.equal(m2.content.toString(), 'second');
  assert.equal(m2.fields.messageCount, 0);
  assert.equal(await ch.get(q), false, 'basic.get-empty');
});

test('no properties and an empty body', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  ch.sendToQueue(queue, Buffer.alloc(0));
  const inbox = new Inbox('deliveries');
  await ch.consume(queue, (m) => inbox.push(m), { noAck: true });
  const m = await inbox.take();
  assert.equal(m.content.length, 0);
  // amqplib always sends a headers table, empty here.
  assert.deepEqual(m.properties.headers, {});
  assert.equal(m.properties.contentType, undefined);
  assert.equal(m.properties.deliveryMode, undefined);
});

test('bodies around the frame size and of 1 MiB arrive whole and in order', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  const frame = conn.connection.frameMax - 8;
  const sizes = [frame - 1, frame, frame + 1, 2 * frame, 1024 * 1024];
  const bodies = sizes.map((n, i) => {
    const b = binaryBody(n);
    b[0] = i;
    return b;
  });
  for (const b of bodies) ch.sendToQueue(queue, b);
  const inbox = new Inbox('deliveries');
  await ch.consume(queue, (m) => inbox.push(m), { noAck: true });
  const got = await inbox.takeN(bodies.length);
  for (let i = 0; i < bodies.length; i += 1) {
    assert.equal(got[i].content.length, sizes[i], `message ${i} size`);
    assert.ok(got[i].content.equals(bodies[i]), `message ${i} differs`);
  }
});

test('a user-id that is not the connection user is refused with 406', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const closed = new Promise((resolve) => ch.on('error', resolve));
  const { queue } = await ch.assertQueue('', { exclusive: true });
  ch.sendToQueue(queue, Buffer.from('x'), { userId: 'somebody-else' });
  const e = await closed;
  assert.equal(e.code, 406);
  assert.ok(
    e.message.includes(
      `PRECONDITION_FAILED - user_id property set to 'somebody-else' but authenticated user was '${t.broker.user}'`,
    ),
    e.message,
  );
});

run();
