'use strict';
// 03-exchange-pubsub: routing through fanout, direct, topic and headers
// exchanges and exchange-to-exchange bindings, seen by amqplib consumers.
// Completeness is shown by order, not by waiting: after the test messages,
// an END marker goes to every queue through the default exchange on the
// same channel, and messages from one channel to one queue keep their
// order, so when END arrives everything routed before it has arrived.

const assert = require('node:assert/strict');
const { test, run, unique, deferred, withTimeout } = require('../lib/harness');

// Declare one exclusive queue per binding list; bind each with every
// [exchange, key, args] in its list.
async function queuesFor(ch, bindingLists) {
  const queues = [];
  for (const bindings of bindingLists) {
    const { queue } = await ch.assertQueue('', { exclusive: true });
    for (const [x, key, args] of bindings) await ch.bindQueue(queue, x, key, args);
    queues.push(queue);
  }
  return queues;
}

// Send END to each queue, consume them all (no-ack) and resolve to the
// bodies each queue received before its END, in arrival order.
async function collect(ch, queues) {
  for (const q of queues) ch.sendToQueue(q, Buffer.from('END'));
  const results = [];
  for (const q of queues) {
    const got = [];
    const done = deferred();
    await ch.consume(
      q,
      (m) => {
        if (m === null) done.reject(new Error(`consumer of ${q} cancelled`));
        else if (m.content.toString() === 'END') done.resolve();
        else got.push(m.content.toString());
      },
      { noAck: true },
    );
    results.push(withTimeout(done.promise, 5000, `END marker on ${q}`).then(() => got));
  }
  return Promise.all(results);
}

test('fanout: every bound queue gets every message once, whatever the key', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const x = unique('node-fanout');
  await ch.assertExchange(x, 'fanout', { autoDelete: true });
  // The third queue is bound twice: still one copy per message.
  const queues = await queuesFor(ch, [
    [[x, '']],
    [[x, 'ignored']],
    [
      [x, 'a'],
      [x, 'b'],
    ],
  ]);
  for (const key of ['', 'a', 'x.y.z']) ch.publish(x, key, Buffer.from(`key=${key}`));
  const got = await collect(ch, queues);
  for (const g of got) assert.deepEqual(g, ['key=', 'key=a', 'key=x.y.z']);
});

test('direct: exact key match, several keys per queue, several queues per key', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const x = unique('node-direct');
  await ch.assertExchange(x, 'direct', { autoDelete: true });
  const queues = await queuesFor(ch, [
    [
      [x, 'k1'],
      [x, 'k2'],
    ],
    [[x, 'k2']],
    [[x, '']],
  ]);
  for (const key of ['k1', 'k2', 'k3', '', 'K1', 'k1.x']) ch.publish(x, key, Buffer.from(key));
  const got = await collect(ch, queues);
  assert.deepEqual(got, [['k1', 'k2'], ['k2'], ['']]);
});

// RabbitMQ's topic semantics, edge cases included: a key is split on '.',
// the empty key has no words (so '*' does not match it but '#' does),
// 'a.' is the two words 'a' and '', and only a whole word '*' or '#' is a
// wildcard ('ab*' is literal).
const KEYS = ['', 'a', 'b', 'a.b', 'a.c', 'a.b.c', 'a.x.b', 'a.x.y.b', 'b.a', 'x.a.b', 'a..b', '.a', 'a.', 'ab*', 'abc', 'a.b.c.d'];
const ALL = KEYS;
const ALL_BUT_EMPTY = KEYS.filter((k) => k !== '');
const TOPIC = {
  '': [''],
  a: ['a'],
  'a.b': ['a.b'],
  '*': ['a', 'b', 'ab*', 'abc'],
  '#': ALL,
  'a.*': ['a.b', 'a.c', 'a.'],
  '*.b': ['a.b'],
  'a.#': ['a', 'a.b', 'a.c', 'a.b.c', 'a.x.b', 'a.x.y.b', 'a..b', 'a.', 'a.b.c.d'],
  '#.b': ['b', 'a.b', 'a.x.b', 'a.x.y.b', 'x.a.b', 'a..b'],
  'a.#.b': ['a.b', 'a.x.b', 'a.x.y.b', 'a..b'],
  'a.*.b': ['a.x.b', 'a..b'],
  '*.*': ['a.b', 'a.c', 'b.a', '.a', 'a.'],
  '*.#': ALL_BUT_EMPTY,
  '#.*': ALL_BUT_EMPTY,
  '#.#': ALL,
  'ab*': ['ab*'],
  'a.*.#': ['a.b', 'a.c', 'a.b.c', 'a.x.b', 'a.x.y.b', 'a..b', 'a.', 'a.b.c.d'],
  '#.a.#': ['a', 'a.b', 'a.c', 'a.b.c', 'a.x.b', 'a.x.y.b', 'b.a', 'x.a.b', 'a..b', '.a', 'a.', 'a.b.c.d'],
  '*.a.#': ['b.a', 'x.a.b', '.a'],
};

test('topic: * and # wildcards, RabbitMQ edge cases included', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const x = unique('node-topic');
  await ch.assertExchange(x, 'topic', { autoDelete: true });
  const patterns = Object.keys(TOPIC);
  const queues = await queuesFor(
    ch,
    patterns.map((p) => [[x, p]]),
  );
  for (const key of KEYS) ch.publish(x, key, Buffer.from(key));
  const got = await collect(ch, queues);
  const wrong = [];
  patterns.forEach((p, i) => {
    if (JSON.stringify(got[i]) !== JSON.stringify(TOPIC[p])) {
      wrong.push(`pattern '${p}': got ${JSON.stringify(got[i])}, expected ${JSON.stringify(TOPIC[p])}`);
    }
  });
  assert.deepEqual(wrong, []);
});

test('topic: overlapping bindings of one queue deliver one copy', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const x = unique('node-topic');
  await ch.assertExchange(x, 'topic', { autoDelete: true });
  const queues = await queuesFor(ch, [
    [
      [x, 'a.*'],
      [x, 'a.#'],
      [x, '#'],
      [x, 'a.b'],
    ],
  ]);
  for (const key of ['a.b', 'a.c', 'z']) ch.publish(x, key, Buffer.from(key));
  await ch.unbindQueue(queues[0], x, '#');
  ch.publish(x, 'z', Buffer.from('z-after-unbind'));
  ch.publish(x, 'a.b', Buffer.from('a.b-after-unbind'));
  const got = await collect(ch, queues);
  assert.deepEqual(got[0], ['a.b', 'a.c', 'z', 'a.b-after-unbind']);
});

test('headers: x-match all and any', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const x = unique('node-headers');
  await ch.assertExchange(x, 'headers', { autoDelete: true });
  const queues = await queuesFor(ch, [
    [[x, '', { 'x-match': 'all', format: 'pdf', type: 'report' }]],
    [[x, '', { 'x-match': 'any', format: 'pdf', type: 'log' }]],
    [[x, '', { format: 'zip' }]], // x-match defaults to all
  ]);
  const messages = [
    ['pdf-report', { format: 'pdf', type: 'report' }],
    ['pdf-report-extra', { format: 'pdf', type: 'report', size: 'big' }],
    ['pdf-log', { format: 'pdf', type: 'log' }],
    ['zip-log', { format: 'zip', type: 'log' }],
    ['zip', { format: 'zip' }],
    ['report-only', { type: 'report' }],
    ['none', {}],
  ];
  for (const [body, headers] of messages) ch.publish(x, 'key-ignored', Buffer.from(body), { headers });
  const got = await collect(ch, queues);
  assert.deepEqual(got[0], ['pdf-report', 'pdf-report-extra']);
  assert.deepEqual(got[1], ['pdf-report', 'pdf-report-extra', 'pdf-log', 'zip-log']);
  assert.deepEqual(got[2], ['zip-log', 'zip']);
});

test('exchange-to-exchange bindings route through to queues', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const source = unique('node-e2e-src');
  const dest = unique('node-e2e-dst');
  await ch.assertExchange(source, 'topic', { autoDelete: true });
  await ch.assertExchange(dest, 'fanout', { autoDelete: true });
  await ch.bindExchange(dest, source, 'a.*');
  const queues = await queuesFor(ch, [[[dest, '']], [[source, '#']]]);
  for (const key of ['a.b', 'b.c', 'a.c']) ch.publish(source, key, Buffer.from(key));
  await ch.unbindExchange(dest, source, 'a.*');
  ch.publish(source, 'a.d', Buffer.from('a.d'));
  const got = await collect(ch, queues);
  assert.deepEqual(got[0], ['a.b', 'a.c']);
  assert.deepEqual(got[1], ['a.b', 'b.c', 'a.c', 'a.d']);
});

run();
