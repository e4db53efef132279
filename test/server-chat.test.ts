// The chat server example: each line a client sends goes to every other client, whole lines only.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { run, serverShutdown } from 'kamaelia-xstate';
import { ChatRoom, ChatServer } from '../examples/chat-server.js';
import { connect, readBytes, until } from './server-helpers.js';

const sockets: net.Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

describe('chat server example', () => {
  it('sends each line to all the other clients, not back to its sender', async () => {
    const room = new ChatRoom();
    const server = run(ChatServer({ host: '127.0.0.1' }, room));
    const { port } = await server.next('listening', { timeoutMs: 5000 });
    const [alice, bob, carol] = [await connect(port), await connect(port), await connect(port)];
    sockets.push(alice, bob, carol);
    await until(() => room.size === 3, 'three members');
    const heardByAlice: Buffer[] = [];
    alice.on('data', (chunk: Buffer) => heardByAlice.push(chunk));

    alice.write('hel');
    alice.write('lo all\nsecond ');
    expect((await readBytes(bob, 10)).toString()).toBe('hello all\n');
    expect((await readBytes(carol, 10)).toString()).toBe('hello all\n');
    alice.write('line\n');
    bob.write('hi alice\n');
    expect((await readBytes(carol, 21)).toString()).toMatch(/^(second line\nhi alice\n|hi alice\nsecond line\n)$/);
    expect((await readBytes(alice, 9)).toString()).toBe('hi alice\n');
    expect(Buffer.concat(heardByAlice).toString()).not.toContain('hello all');

    bob.end();
    await until(() => room.size === 2, 'bob to leave the room');
    server.send('control', serverShutdown());
    for (const socket of [alice, carol]) socket.end();
    expect(await server.done).toEqual({ status: 'done' });
  });
});
