import type { Socket } from 'node:net';
import type { Channel } from 'ssh2';

const EMPTY = Buffer.alloc(0);

/**
 * Pipes a TCP socket and an SSH channel both ways, keeping TCP half-close
 * semantics (EOF travels as EOF), and tears both down when either side is
 * finished or fails. `onClose` runs once, when both are gone.
 *
 * The socket must have been created with `allowHalfOpen: true` and must
 * already have an `error` listener (the caller attaches one at once so that a
 * reset before the channel opens cannot crash the process).
 */
export function splice(socket: Socket, channel: Channel, onClose: () => void): void {
  let socketClosed = false;
  let channelClosed = false;
  let reported = false;
  const maybeDone = () => {
    if (socketClosed && channelClosed && !reported) {
      reported = true;
      onClose();
    }
  };

  // Sends EOF once everything written before has been handed to the SSH
  // transport, then runs `then` (if given). (`end()` would do it for client
  // channels, but ssh2 closes *server-side* channels on `end()`, which would
  // cut the reply to a peer that half-closes its sending side.) Writes are
  // processed in order, so the callback of an empty write runs after every
  // earlier chunk has gone out, or never, if the channel closes first.
  // Callbacks rather than a promise, and `on` rather than `once` for events
  // that come once anyway: this runs for every connection.
  let eof: 'none' | 'pending' | 'sent' = 'none';
  let afterEof: (() => void) | undefined;
  const sendEof = (then?: () => void): void => {
    if (eof === 'sent' || (eof === 'none' && (channelClosed || channel.writableEnded))) {
      eof = 'sent';
      then?.();
      return;
    }
    if (then !== undefined) afterEof = then;
    if (eof === 'pending') return;
    eof = 'pending';
    channel.write(EMPTY, () => {
      channel.eof();
      eof = 'sent';
      afterEof?.();
    });
  };

  // Both directions by hand rather than with pipe(): the same flow control
  // (pause the reader while the writer's buffer is full), a fraction of the
  // listeners and closures pipe() sets up, which counts once per connection.
  const toChannel = (chunk: Buffer) => {
    if (!channel.write(chunk)) socket.pause();
  };
  const resumeSocket = () => socket.resume();
  socket.on('data', toChannel);
  channel.on('drain', resumeSocket);
  // A peer that half-closed at once may have ended the socket before the channel opened.
  if (socket.readableEnded) sendEof();
  else
    socket.on('end', () => {
      sendEof();
    });
  // Channel EOF (or close) ends the socket's writable side after the data before it.
  channel.on('data', (chunk: Buffer) => {
    if (!socket.destroyed && !socket.write(chunk)) channel.pause();
  });
  socket.on('drain', () => channel.resume());
  channel.on('end', () => {
    if (!socket.destroyed) socket.end();
  });

  socket.on('close', (hadError) => {
    socketClosed = true;
    if (channelClosed) {
      // Nothing left to tell the peer.
    } else if (hadError) channel.close();
    else
      sendEof(() => {
        channel.close();
      });
    maybeDone();
  });
  channel.on('close', () => {
    channelClosed = true;
    socket.off('data', toChannel);
    channel.off('drain', resumeSocket);
    // Whatever the socket still sends has nowhere to go; keep it flowing so that its end and close come.
    socket.resume();
    // Let what the channel still holds reach the socket, then drop the socket.
    if (socket.writableFinished || socket.destroyed) socket.destroy();
    else
      socket.on('finish', () => {
        socket.destroy();
      });
    maybeDone();
  });
  channel.on('error', () => {
    // Once closed, the close handler above owns the teardown (and must not lose
    // data still queued for the socket); before that, an error ends both.
    if (!channelClosed) socket.destroy();
  });
}

/**
 * Makes the writes made to `socket` within one turn of the event loop leave
 * in one system call (a `writev`): the socket is corked at the first write
 * and uncorked by `setImmediate`, once the I/O callbacks of this turn have
 * run. ssh2 writes every SSH packet on its own (and, without its native
 * crypto binding, a packet's length, body and tag as three writes), so
 * several packets made in one turn, for one stream or for many, cost one
 * system call instead of one each. The bytes and their order are unchanged;
 * `end()` flushes at once, and `destroy()` drops what is not sent (as it
 * would drop what the kernel had not taken).
 */
export function coalesceWrites(socket: Socket): void {
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  let corked = false;
  const flush = () => {
    corked = false;
    // end() may have uncorked already; uncork() is then a no-op.
    socket.uncork();
  };
  socket.write = (...args: unknown[]): boolean => {
    if (!corked) {
      corked = true;
      socket.cork();
      setImmediate(flush);
    }
    return write(...args);
  };
}
