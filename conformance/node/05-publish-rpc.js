'use strict';
// 05-publish-rpc: request/reply the way amqplib users write it.  A server
// consumes a request queue and answers to each request's replyTo with its
// correlationId; clients wait on exclusive reply queues and match answers
// by correlationId, with many requests in flight at once.

const assert = require('node:assert/strict');
const { test, run, unique, deferred, withTimeout } = require('../lib/harness');

// Start an RPC server on its own connection answering n -> n * n.  With
// swap, requests are answered in pairs, the second of each pair first (to
// scramble the order), so the number of requests must then be even.
async function startServer(t, queue, swap = false) {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  await ch.assertQueue(queue, { autoDelete: true });
  await ch.prefetch(10);
  let held = null;
  const answer = (m) => {
    const n = Number(m.content.toString());
    ch.sendToQueue(m.properties.replyTo, Buffer.from(String(n * n)), {
      correlationId: m.properties.correlationId,
      headers: { 'x-request': n },
    });
    ch.ack(m);
  };
  await ch.consume(queue, (m) => {
    if (m === null) return;
    if (!swap) {
      answer(m);
    } else if (held === null) {
      held = m;
    } else {
      answer(m);
      answer(held);
      held = null;
    }
  });
  return ch;
}

// An RPC client: call(n) resolves to the server's answer.
async function startClient(t, queue) {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const { queue: replyTo } = await ch.assertQueue('', { exclusive: true });
  const pending = new Map();
  let next = 0;
  await ch.consume(
    replyTo,
    (m) => {
      if (m === null) return;
      const d = pending.get(m.properties.correlationId);
      if (d === undefined) {
        throw new Error(`reply with unknown correlationId ${m.properties.correlationId}`);
      }
      pending.delete(m.properties.correlationId);
      d.resolve(m);
    },
    { noAck: true },
  );
  return {
    replyTo,
    call(n) {
      next += 1;
      const id = `${replyTo}-${next}`;
      const d = deferred();
      pending.set(id, d);
      ch.sendToQueue(queue, Buffer.from(String(n)), { replyTo, correlationId: id });
      return withTimeout(d.promise, 5000, `reply to request ${n}`);
    },
  };
}

test('one request, one reply with the correlationId', async (t) => {
  const queue = unique('node-rpc');
  await startServer(t, queue);
  const client = await startClient(t, queue);
  const m = await client.call(7);
  assert.equal(m.content.toString(), '49');
  assert.equal(m.fields.routingKey, client.replyTo);
  assert.equal(m.fields.exchange, '');
  assert.deepEqual(m.properties.headers, { 'x-request': 7 });
});

test('many requests in flight from several clients, answered out of order', async (t) => {
  const queue = unique('node-rpc');
  await startServer(t, queue, true);
  const clients = [];
  for (let i = 0; i < 3; i += 1) clients.push(await startClient(t, queue));
  const calls = [];
  for (let n = 1; n <= 60; n += 1) {
    const c = clients[n % clients.length];
    calls.push(c.call(n).then((m) => [n, Number(m.content.toString()), m.fields.routingKey, c.replyTo]));
  }
  const results = await Promise.all(calls);
  for (const [n, answer, routingKey, replyTo] of results) {
    assert.equal(answer, n * n, `answer to ${n}`);
    assert.equal(routingKey, replyTo, `reply to ${n} went to the wrong client`);
  }
});

run();
