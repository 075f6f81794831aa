'use strict';
// 07-confirm-channel: amqplib's ConfirmChannel.  Every publish callback is
// called once with no error, waitForConfirms resolves, a returned mandatory
// message is also acked, and a channel error fails what is outstanding.

const assert = require('node:assert/strict');
const { test, run, unique, withTimeout, Inbox } = require('../lib/harness');

test('500 publishes: every callback acked once, waitForConfirms resolves', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createConfirmChannel();
  const q = unique('node-confirm');
  await ch.assertQueue(q, { exclusive: true });
  const acks = new Inbox('ack events');
  ch.on('ack', (fields) => acks.push(fields));
  ch.on('nack', (fields) => {
    throw new Error(`nack for ${fields.deliveryTag}`);
  });
  const calls = new Array(500).fill(0);
  const errors = [];
  for (let i = 0; i < 500; i += 1) {
    ch.sendToQueue(q, Buffer.from(`m${i}`), { persistent: i % 2 === 0 }, (err) => {
      calls[i] += 1;
      if (err) errors.push(err);
    });
  }
  await withTimeout(ch.waitForConfirms(), 5000, 'waitForConfirms');
  assert.deepEqual(errors, []);
  assert.ok(
    calls.every((c) => c === 1),
    `callbacks called ${JSON.stringify(calls.filter((c) => c !== 1).length)} times wrong`,
  );
  // The broker's acks cover 1..500, each confirming its own tag for the
  // first time; a multiple ack covers everything up to its tag.  (Order is
  // not checked: the spec allows any.)
  const confirmed = new Set();
  while (acks.length > 0) {
    const { deliveryTag, multiple } = await acks.take();
    assert.ok(deliveryTag >= 1 && deliveryTag <= 500, `ack for tag ${deliveryTag}`);
    assert.ok(!confirmed.has(deliveryTag), `tag ${deliveryTag} confirmed twice`);
    for (let tag = multiple ? 1 : deliveryTag; tag <= deliveryTag; tag += 1) confirmed.add(tag);
  }
  assert.equal(confirmed.size, 500, 'acks did not cover every tag');
  const { messageCount } = await ch.checkQueue(q);
  assert.equal(messageCount, 500);
});

test('an unroutable mandatory message is returned, then acked', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createConfirmChannel();
  const events = new Inbox('events');
  ch.on('return', (m) => events.push(['return', m]));
  const key = unique('node-nowhere');
  ch.publish('amq.direct', key, Buffer.from('back to sender'), { mandatory: true, messageId: 'r1' }, (err) =>
    events.push(['confirm', err]),
  );
  const [first, m] = await events.take();
  assert.equal(first, 'return');
  assert.equal(m.fields.replyCode, 312);
  assert.equal(m.fields.replyText, 'NO_ROUTE');
  assert.equal(m.fields.exchange, 'amq.direct');
  assert.equal(m.fields.routingKey, key);
  assert.equal(m.properties.messageId, 'r1');
  assert.equal(m.content.toString(), 'back to sender');
  const [second, err] = await events.take();
  assert.equal(second, 'confirm');
  assert.equal(err, null, 'a returned message is still acked, not nacked');
  await withTimeout(ch.waitForConfirms(), 5000, 'waitForConfirms');
});

test('unroutable non-mandatory messages are acked and dropped', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createConfirmChannel();
  ch.on('return', () => {
    throw new Error('non-mandatory message returned');
  });
  for (let i = 0; i < 20; i += 1) ch.publish('amq.topic', unique('node-nowhere'), Buffer.from('x'));
  await withTimeout(ch.waitForConfirms(), 5000, 'waitForConfirms');
});

test('a channel error fails outstanding confirms', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createConfirmChannel();
  const closed = new Promise((resolve) => ch.on('error', resolve));
  const x = unique('node-missing-x');
  const results = new Inbox('publish callbacks');
  ch.publish(x, 'k', Buffer.from('lost'), {}, (err) => results.push(err));
  const e = await withTimeout(closed, 5000, "channel 'error' event");
  assert.equal(e.code, 404);
  assert.equal(e.message, `Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no exchange '${x}' in vhost '/'"`);
  const err = await results.take();
  assert.ok(err instanceof Error, 'callback of the lost message got no error');
  await assert.rejects(ch.waitForConfirms());
});

run();
