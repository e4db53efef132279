#!/usr/bin/env node
// The `kamaelia-xstate` command: demo, connect, serve. Each subcommand has --help.
import { connect } from './connect.js';
import { EXIT_USAGE, UsageError } from './command.js';
import { serve } from './serve.js';

const usage = `usage: kamaelia-xstate <command> [options]
  demo                     servers and clients on loopback, watched live in the inspector
  connect <host> <port>    netcat over a TCPClient: stdin to the server, the server to stdout
  serve <port>             an echo (or --chat) server
Run kamaelia-xstate <command> --help for a command's options.`;

const [command, ...args] = process.argv.slice(2);

async function main(): Promise<void> {
  switch (command) {
    case 'demo':
      // The demo reads its options from process.argv, as `npm start -- ...` passes them.
      process.argv.splice(2, 1);
      await import('./demo.js');
      return;
    case 'connect':
      return connect(args);
    case 'serve':
      return serve(args);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${usage}\n`);
      process.exit(command === undefined ? EXIT_USAGE : 0);
      return;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`kamaelia-xstate${command && command !== 'demo' ? ` ${command}` : ''}: ${error.message}\nRun kamaelia-xstate ${command === 'connect' || command === 'serve' ? `${command} ` : ''}--help for usage.\n`);
    process.exit(EXIT_USAGE);
  }
  process.stderr.write(`kamaelia-xstate: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
