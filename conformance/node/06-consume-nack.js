'use strict';
// 06-consume-nack: giving messages back.  nack or reject with requeue
// redelivers the same message with redelivered set; without requeue it is
// dropped; nack with allUpTo covers every earlier unacked delivery and
// requeued messages keep their queue order; recover redelivers everything
// unacked on the channel.

const assert = require('node:assert/strict');
const { test, run, unique, Inbox } = require('../lib/harness');

// An exclusive queue holding bodies, and an Inbox consuming it.
async function setup(t, bodies, prefetch = 0) {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const q = unique('node-nack');
  await ch.assertQueue(q, { exclusive: true });
  for (const b of bodies) ch.sendToQueue(q, Buffer.from(b), { messageId: `id-${b}`, headers: { b } });
  if (prefetch) await ch.prefetch(prefetch);
  const inbox = new Inbox('deliveries');
  await ch.consume(q, (m) => inbox.push(m));
  return { ch, q, inbox };
}

const text = (m) => m.content.toString();

test('nack with requeue: redelivered, same content and properties', async (t) => {
  const { ch, q, inbox } = await setup(t, ['one']);
  const m = await inbox.take();
  assert.equal(m.fields.redelivered, false);
  ch.nack(m, false, true);
  const again = await inbox.take();
  assert.equal(again.fields.redelivered, true);
  assert.equal(text(again), 'one');
  assert.equal(again.properties.messageId, 'id-one');
  assert.deepEqual(again.properties.headers, { b: 'one' });
  assert.ok(again.fields.deliveryTag > m.fields.deliveryTag, 'redelivery reused a delivery tag');
  ch.ack(again);
  await inbox.expectNone(200, 'after the ack');
  assert.equal((await ch.checkQueue(q)).messageCount, 0);
});

test('reject with requeue redelivers; reject and nack without requeue drop', async (t) => {
  const { ch, q, inbox } = await setup(t, ['a', 'b', 'c']);
  const [a, b, c] = await inbox.takeN(3);
  assert.deepEqual([a, b, c].map(text), ['a', 'b', 'c']);
  ch.reject(a, true);
  ch.reject(b, false);
  ch.nack(c, false, false);
  const again = await inbox.take();
  assert.equal(text(again), 'a');
  assert.equal(again.fields.redelivered, true);
  ch.ack(again);
  await inbox.expectNone(200, 'dropped messages must not come back');
  assert.equal((await ch.checkQueue(q)).messageCount, 0);
});

test('nack allUpTo requeues every earlier delivery, in queue order', async (t) => {
  const { ch, inbox } = await setup(t, ['0', '1', '2', '3', '4']);
  const first = await inbox.takeN(5);
  ch.ack(first[1]); // one already settled: not requeued
  ch.nack(first[3], true, true); // 0, 2 and 3
  const again = await inbox.takeN(3);
  assert.deepEqual(again.map(text), ['0', '2', '3']);
  assert.ok(again.every((m) => m.fields.redelivered));
  ch.nackAll(false); // 4 and the three redeliveries: dropped
  await inbox.expectNone(200, 'after nackAll without requeue');
});

test('a requeued message goes back ahead of later ones', async (t) => {
  const { ch, inbox } = await setup(t, ['0', '1', '2', '3'], 1);
  const m0 = await inbox.take();
  assert.equal(text(m0), '0');
  ch.nack(m0, false, true);
  const order = [];
  for (let i = 0; i < 4; i += 1) {
    const m = await inbox.take();
    order.push(`${text(m)}${m.fields.redelivered ? '*' : ''}`);
    ch.ack(m);
  }
  assert.deepEqual(order, ['0*', '1', '2', '3']);
});

test('recover redelivers every unacked message on the channel', async (t) => {
  const { ch, inbox } = await setup(t, ['x', 'y']);
  await inbox.takeN(2);
  await ch.recover();
  const again = await inbox.takeN(2);
  assert.deepEqual(again.map(text).sort(), ['x', 'y']);
  assert.ok(again.every((m) => m.fields.redelivered));
  ch.ackAll();
});

test('closing a channel requeues its unacked messages for other consumers', async (t) => {
  const conn = await t.connect();
  const owner = await conn.createChannel();
  const q = unique('node-nack');
  await owner.assertQueue(q, { exclusive: true });
  owner.sendToQueue(q, Buffer.from('held'));
  const first = await conn.createChannel();
  const got = new Inbox('first consumer');
  await first.consume(q, (m) => got.push(m));
  await got.take();
  await first.close();
  const second = new Inbox('second consumer');
  await owner.consume(q, (m) => second.push(m), { noAck: true });
  const m = await second.take();
  assert.equal(text(m), 'held');
  assert.equal(m.fields.redelivered, true);
});

run();
