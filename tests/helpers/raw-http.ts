// One HTTP exchange over a raw socket to a server on 127.0.0.1, so malformed requests go out exactly
// as written: resolves with what came back once the server closed, went quiet after answering, or
// the time ran out (never rejects: a reset is an answer too).
import { connect } from 'node:net';

export function rawExchange(port: number, bytes: string | Buffer, options: { timeoutMs: number; quietMs: number }): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let quiet: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(quiet);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    socket.setTimeout(options.timeoutMs, done);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      clearTimeout(quiet);
      quiet = setTimeout(done, options.quietMs);
    });
    socket.on('error', done);
    socket.on('close', done);
    socket.write(bytes);
  });
}
