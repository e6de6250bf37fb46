// `dynamics serve`: the UI and API for a browser, loopback-only unless --allow-remote.
import path from 'node:path';
import { createCore } from '../../bootstrap';
import { appRoot, resolveDataDir } from '../../paths';
import { startServer } from '../../serve/server';
import { isLoopbackHost, remoteAccessWarning } from '../../serve/security';
import { parseCommandArgs, parseIntegerOption, type Command } from '../command';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the UI and API to a browser',
  usage: `dynamics serve [--host 127.0.0.1] [--port N] [--allow-remote]

Serves the app's UI and API over HTTP on this machine. Every API call needs the token printed in
the URL. Binding to a non-loopback address needs --allow-remote: then anyone who can reach the port
and knows the token can drive training and read any file this user can read, and plain HTTP carries
the token unencrypted.

Trainers of your own (PyTorch, several GPUs, the Hugging Face Trainer) reach the mixture controller
at the same address with the same token: see docs/controller-protocol.md and integrations/python.`,
  async run(argv, io) {
    const { values } = parseCommandArgs('serve', argv, {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      'allow-remote': { type: 'boolean', default: false },
    }, false);
    const host = values.host;
    const port = parseIntegerOption('port', values.port, 0, 65535) ?? 0;
    const allowRemote = values['allow-remote'];
    const core = createCore({
      dataDir: resolveDataDir(io.env),
      logError: (method, err) => io.err(`internal error in ${method}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`),
    });
    const server = await startServer({ core, host, port, allowRemote, staticDir: path.join(appRoot(), 'out', 'renderer') });
    if (allowRemote && !isLoopbackHost(host)) {
      io.err(remoteAccessWarning(host));
    }
    io.out(`DynaMiCS Studio is served at ${server.openUrl}`);
    io.out(`data directory: ${core.layout.root}`);
    io.out('press Ctrl-C to stop');
    await io.untilInterrupted();
    await server.close();
    await core.close();
    return 0;
  },
};
