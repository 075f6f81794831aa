'use strict';
// 06-consume-cancel: ending consumers.  Deleting a queue cancels its
// consumers with a basic.cancel from the server (amqplib hands the
// callback null, because it advertises consumer_cancel_notify); a client
// cancel stops deliveries and leaves the messages queued; consumer tags
// and exclusive consumers are enforced.

const assert = require('node:assert/strict');
const { test, run, unique, deferred, withTimeout, Inbox } = require('../lib/harness');

test('deleting the queue cancels its consumers: the callback gets null', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const q = unique('node-cancel');
  await ch.assertQueue(q, { exclusive: true });
  const inbox = new Inbox('consumer callback');
  const cancelEvent = deferred();
  ch.on('cancel', (fields) => cancelEvent.resolve(fields));
  const { consumerTag } = await ch.consume(q, (m) => inbox.push(m), { noAck: true });
  ch.sendToQueue(q, Buffer.from('before'));
  assert.equal((await inbox.take()).content.toString(), 'before');

  const other = await conn.createChannel();
  await other.deleteQueue(q);
  assert.equal(await inbox.take(), null, 'the consumer was not told');
  const fields = await withTimeout(cancelEvent.promise, 5000, "channel 'cancel' event");
  assert.equal(fields.consumerTag, consumerTag);
  // The channel is still open and usable.
  const { queue } = await ch.assertQueue('', { exclusive: true });
  assert.ok(queue.length > 0);
  assert.deepEqual(t.errors, []);
});

test('a client cancel stops deliveries and leaves messages queued', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const q = unique('node-cancel');
  await ch.assertQueue(q, { exclusive: true });
  const inbox = new Inbox('consumer callback');
  const { consumerTag } = await ch.consume(q, (m) => inbox.push(m), { noAck: true, consumerTag: 'my-tag' });
  assert.equal(consumerTag, 'my-tag');
  ch.sendToQueue(q, Buffer.from('1'));
  await inbox.take();
  const ok = await ch.cancel(consumerTag);
  assert.deepEqual(ok, { consumerTag: 'my-tag' });
  ch.sendToQueue(q, Buffer.from('2'));
  ch.sendToQueue(q, Buffer.from('3'));
  // The count proves both arrived; none went to the cancelled consumer.
  let count = 0;
  const deadline = Date.now() + 5000;
  while (count !== 2 && Date.now() < deadline) count = (await ch.checkQueue(q)).messageCount;
  assert.equal(count, 2);
  assert.equal(inbox.length, 0, 'delivery after cancel-ok');
  const { consumerCount } = await ch.checkQueue(q);
  assert.equal(consumerCount, 0);
});

test('server-generated consumer tags are unique', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  const tags = new Set();
  for (let i = 0; i < 10; i += 1) {
    const { consumerTag } = await ch.consume(queue, () => {});
    assert.ok(consumerTag.length > 0);
    tags.add(consumerTag);
  }
  assert.equal(tags.size, 10);
  assert.equal((await ch.checkQueue(queue)).consumerCount, 10);
});

test('an exclusive consumer locks out others: 403 ACCESS_REFUSED', async (t) => {
  const conn = await t.connect();
  const ch = await conn.createChannel();
  const q = unique('node-cancel');
  await ch.assertQueue(q, { exclusive: true });
  await ch.consume(q, () => {}, { exclusive: true });
  const ch2 = await conn.createChannel();
  await assert.rejects(ch2.consume(q, () => {}), (e) => {
    assert.equal(e.code, 403);
    assert.equal(
      e.message,
      `Operation failed: BasicConsume; 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - queue '${q}' in vhost '/' in exclusive use"`,
    );
    return true;
  });
});

test('reusing a consumer tag on a channel closes the connection: 530', async (t) => {
  const conn = await t.connect();
  const closed = deferred();
  conn.on('close', (err) => closed.resolve(err));
  const ch = await conn.createChannel();
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.consume(queue, () => {}, { consumerTag: 'dup' });
  await assert.rejects(ch.consume(queue, () => {}, { consumerTag: 'dup' }));
  const err = await withTimeout(closed.promise, 5000, "connection 'close' event");
  assert.equal(err.code, 530);
  assert.equal(err.message, `Connection closed: 530 (NOT-ALLOWED) with message "NOT_ALLOWED - attempt to reuse consumer tag 'dup'"`);
});

run();
