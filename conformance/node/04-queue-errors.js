'use strict';
// 04-queue-errors: channel errors as amqplib reports them.  The operation's
// promise rejects with the reply code, the class and method that failed and
// RabbitMQ's text; the channel emits 'error' and then 'close', refuses
// further use, and the connection carries on.

const assert = require('node:assert/strict');
const { test, run, unique, withTimeout } = require('../lib/harness');

// A channel with promises for its 'error' and 'close' events.
async function watchedChannel(conn) {
  const ch = await conn.createChannel();
  ch.errorEvent = new Promise((resolve) => ch.on('error', resolve));
  ch.closeEvent = new Promise((resolve) => ch.on('close', resolve));
  return ch;
}

// Check a rejection from an operation that closed its channel.
function expectError(code, name, method, text) {
  const codeName = { 403: 'ACCESS-REFUSED', 404: 'NOT-FOUND', 405: 'RESOURCE-LOCKED', 406: 'PRECONDITION-FAILED' }[code];
  return (e) => {
    assert.equal(e.code, code, `reply code in: ${e.message}`);
    assert.equal(`${e.classId}.${e.methodId}`, method, `failing method in: ${e.message}`);
    assert.equal(e.message, `Operation failed: ${name}; ${code} (${codeName}) with message "${text}"`);
    return true;
  };
}

// After a channel error: 'error' then 'close' fire, the channel refuses
// use, and the connection still opens channels that work.
async function expectClosed(conn, ch, code) {
  const e = await withTimeout(ch.errorEvent, 5000, "channel 'error' event");
  assert.equal(e.code, code);
  await withTimeout(ch.closeEvent, 5000, "channel 'close' event");
  await assert.rejects(ch.assertQueue('', { exclusive: true }), /Channel closed/);
  const fresh = await conn.createChannel();
  const { queue } = await fresh.assertQueue('', { exclusive: true });
  assert.ok(queue.length > 0);
  await fresh.close();
}

test('checkQueue of a missing queue: 404 NOT_FOUND', async (t) => {
  const conn = await t.connect();
  const ch = await watchedChannel(conn);
  const q = unique('node-missing');
  await assert.rejects(
    ch.checkQueue(q),
    expectError(404, 'QueueDeclare', '50.10', `NOT_FOUND - no queue '${q}' in vhost '/'`),
  );
  await expectClosed(conn, ch, 404);
});

test('assertQueue with different durable flag: 406 PRECONDITION_FAILED', async (t) => {
  const conn = await t.connect();
  const ch = await watchedChannel(conn);
  const q = unique('node-ineq');
  // Not exclusive: RabbitMQ ignores durable for exclusive queues (below).
  await ch.assertQueue(q, { durable: false });
  t.defer(async () => {
    const c = await conn.createChannel();
    await c.deleteQueue(q);
  });
  await assert.rejects(
    ch.assertQueue(q, { durable: true }),
    expectError(
      406,
      'QueueDeclare',
      '50.10',
      `PRECONDITION_FAILED - inequivalent arg 'durable' for queue '${q}' in vhost '/': received 'true' but current is 'false'`,
    ),
  );
  await expectClosed(conn, ch, 406);
});

test('exclusive queues: durable is not compared, exclusive is (405)', async (t) => {
  const conn = await t.connect();
  const ch = await watchedChannel(conn);
  const q = unique('node-excl');
  // RabbitMQ never makes an exclusive queue durable, so redeclaring one
  // with a different durable flag is accepted.
  await ch.assertQueue(q, { exclusive: true, durable: true });
  const r = await ch.assertQueue(q, { exclusive: true, durable: false });
  assert.deepEqual(r, { queue: q, messageCount: 0, consumerCount: 0 });
  // Redeclaring it without exclusive, even by its owner, is 405.
  await assert.rejects(ch.assertQueue(q, { exclusive: false }), (e) => {
    assert.equal(e.code, 405);
    assert.match(
      e.message,
      /RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '.*' in vhost '\/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration./,
    );
    return true;
  });
  await expectClosed(conn, ch, 405);
});

test('assertQueue with different arguments: 406 PRECONDITION_FAILED', async (t) => {
  const conn = await t.connect();
  const ch = await watchedChannel(conn);
  const q = unique('node-ineq');
  await ch.assertQueue(q, { exclusive: true, maxLength: 10 });
  await assert.rejects(
    ch.assertQueue(q, { exclusive: true, maxLength: 20 }),
    expectError(
      406,
      'QueueDeclare',
      '50.10',
      `PRECONDITION_FAILED - inequivalent arg 'x-max-length' for queue '${q}' in vhost '/': received '20' but current is '10'`,
    ),
  );
  await expectClosed(conn, ch, 406);
});

test('checkExchange of a missing exchange: 404 NOT_FOUND', async (t) => {
  const conn = await t.connect();
  const ch = await watchedChannel(conn);
  const x = unique('node-missing-x');
  await assert.rejects(
    ch.checkExchange(x),
    expectError(404, 'ExchangeDeclare', '40.10', `NOT_FOUND - no exchange '${x}' in vhost '/'`),
  );
  await expectClosed(conn, ch, 404);
});

test('assertExchange with a different type: 406 PRECONDITION_FAILED', async (t) => {
  const conn = await t.connect();
  const ch = await watchedChannel(conn);
  const x = unique('node-ineq-x');
  await ch.assertExchange(x, 'direct', { autoDelete: true, durable: false });
  // autoDelete exchanges vanish when their last binding goes; bind a
  // queue so this one stays for the second declare.
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, x, 'k');
  await assert.rejects(
    ch.assertExchange(x, 'fanout', { autoDelete: true, durable: false }),
    expectError(
      406,
      'ExchangeDeclare',
      '40.10',
      `PRECONDITION_FAILED - inequivalent arg 'type' for exchange '${x}' in vhost '/': received 'fanout' but current is 'direct'`,
    ),
  );
  await expectClosed(conn, ch, 406);
});

test('consume from a missing queue: 404; bind to a missing exchange: 404', async (t) => {
  const conn = await t.connect();
  let ch = await watchedChannel(conn);
  const q = unique('node-missing');
  await assert.rejects(
    ch.consume(q, () => {}),
    expectError(404, 'BasicConsume', '60.20', `NOT_FOUND - no queue '${q}' in vhost '/'`),
  );
  await expectClosed(conn, ch, 404);

  ch = await watchedChannel(conn);
  const { queue } = await ch.assertQueue('', { exclusive: true });
  const x = unique('node-missing-x');
  await assert.rejects(
    ch.bindQueue(queue, x, 'k'),
    expectError(404, 'QueueBind', '50.20', `NOT_FOUND - no exchange '${x}' in vhost '/'`),
  );
  await expectClosed(conn, ch, 404);
});

test('publish to a missing exchange: asynchronous 404 on the channel', async (t) => {
  const conn = await t.connect();
  const ch = await watchedChannel(conn);
  const x = unique('node-missing-x');
  ch.publish(x, 'k', Buffer.from('lost'));
  const e = await withTimeout(ch.errorEvent, 5000, "channel 'error' event");
  assert.equal(e.code, 404);
  assert.equal(`${e.classId}.${e.methodId}`, '60.40');
  assert.equal(e.message, `Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no exchange '${x}' in vhost '/'"`);
  await expectClosed(conn, ch, 404);
});

test("another connection's exclusive queue: 405 RESOURCE_LOCKED", async (t) => {
  const owner = await t.connect();
  const och = await owner.createChannel();
  const q = unique('node-exclusive');
  await och.assertQueue(q, { exclusive: true });
  const other = await t.connect();
  const ch = await watchedChannel(other);
  await assert.rejects(ch.checkQueue(q), (e) => {
    assert.equal(e.code, 405);
    assert.match(e.message, /RESOURCE_LOCKED - cannot obtain exclusive access to locked queue/);
    return true;
  });
  await expectClosed(other, ch, 405);
});

test('acking an unknown delivery tag: 406 PRECONDITION_FAILED', async (t) => {
  const conn = await t.connect();
  const ch = await watchedChannel(conn);
  ch.ack({ fields: { deliveryTag: 42 } });
  const e = await withTimeout(ch.errorEvent, 5000, "channel 'error' event");
  assert.equal(e.code, 406);
  assert.equal(`${e.classId}.${e.methodId}`, '60.80');
  assert.match(e.message, /PRECONDITION_FAILED - unknown delivery tag 42/);
  await expectClosed(conn, ch, 406);
});

test('deleteQueue of a missing queue succeeds with messageCount 0', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const r = await ch.deleteQueue(unique('node-never-existed'));
  assert.deepEqual(r, { messageCount: 0 });
});

run();
