'use strict';
// 06-consume-prefetch: channel.prefetch(n) bounds the unacked deliveries a
// consumer holds.  Exactly n arrive while nothing is acked (only a short
// grace period can show that no more come), each ack lets one more in, and
// a consumer that acks as it goes never holds more than n.

const assert = require('node:assert/strict');
const { test, run, unique, Inbox } = require('../lib/harness');

const GRACE = 250; // ms to wait for a delivery that must not come

// Fill a fresh exclusive queue with bodies 0..n-1.
async function filledQueue(ch, n) {
  const q = unique('node-prefetch');
  await ch.assertQueue(q, { exclusive: true });
  for (let i = 0; i < n; i += 1) ch.sendToQueue(q, Buffer.from(String(i)));
  return q;
}

test('prefetch 3: three deliveries, then one per ack, in queue order', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const q = await filledQueue(ch, 8);
  await ch.prefetch(3);
  const inbox = new Inbox('deliveries');
  await ch.consume(q, (m) => inbox.push(m));
  const first = await inbox.takeN(3);
  assert.deepEqual(
    first.map((m) => m.content.toString()),
    ['0', '1', '2'],
  );
  await inbox.expectNone(GRACE, 'a 4th delivery with prefetch 3');
  ch.ack(first[0]);
  const fourth = await inbox.take();
  assert.equal(fourth.content.toString(), '3');
  await inbox.expectNone(GRACE, 'a delivery beyond the one freed');
  // ackAll frees every slot: the next three arrive.
  ch.ackAll();
  const next = await inbox.takeN(3);
  assert.deepEqual(
    next.map((m) => m.content.toString()),
    ['4', '5', '6'],
  );
  ch.ack(next[2], true); // multiple: acks 4, 5 and 6
  const last = await inbox.take();
  assert.equal(last.content.toString(), '7');
  ch.ack(last);
  await inbox.expectNone(GRACE, 'after the last message');
  const { messageCount } = await ch.checkQueue(q);
  assert.equal(messageCount, 0);
});

test('a consumer acking as it goes never holds more than the prefetch', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const n = 200;
  const q = await filledQueue(ch, n);
  await ch.prefetch(5);
  let outstanding = 0;
  let maxOutstanding = 0;
  let acked = 0;
  const seen = [];
  const done = new Inbox('done');
  await ch.consume(q, (m) => {
    outstanding += 1;
    maxOutstanding = Math.max(maxOutstanding, outstanding);
    seen.push(Number(m.content.toString()));
    // Ack on a later turn so several can be in flight at once.
    setImmediate(() => {
      outstanding -= 1;
      ch.ack(m);
      acked += 1;
      if (acked === n) done.push(true);
    });
  });
  await done.take(8000);
  assert.ok(maxOutstanding <= 5, `held ${maxOutstanding} unacked with prefetch 5`);
  assert.deepEqual(
    seen,
    Array.from({ length: n }, (_, i) => i),
  );
});

test('prefetch 0 means no limit', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const q = await filledQueue(ch, 50);
  await ch.prefetch(0);
  const inbox = new Inbox('deliveries');
  await ch.consume(q, (m) => inbox.push(m));
  const all = await inbox.takeN(50);
  assert.equal(all.length, 50);
  ch.ackAll();
});

run();
