/**
 * The example programs of src/examples (echo server, notification-driven
 * producer/consumer over a shared frame, a parent handling its child's page
 * faults) run to completion with the invariant checker on and print exactly
 * the expected console output.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkInvariants } from '../src/kernel/invariants/index.js';
import { runEchoExample } from '../src/examples/echo.js';
import { runProdConsExample } from '../src/examples/prodcons.js';
import { runFaultHandlerExample } from '../src/examples/faulthandler.js';

const opts = { checkInvariants, virt: { ramSize: 128 * 1024 * 1024 } };

describe('examples', () => {
  it('echo: two badged clients Call, the server answers with ReplyRecv', () => {
    assert.equal(
      runEchoExample(opts),
      [
        'root: echo system started',
        'server: client 1 says "hello"',
        'client 1: echoed "hello"',
        'server: client 1 says "seL4"',
        'client 1: echoed "seL4"',
        'server: client 2 says "echo"',
        'client 2: echoed "echo"',
        '',
      ].join('\n'),
    );
  });

  it('prodcons: every item arrives once, in order, through a 4-slot ring', () => {
    const out = runProdConsExample(opts);
    const got = out
      .split('\n')
      .filter((l) => l.startsWith('consumer: got '))
      .map((l) => Number(l.slice('consumer: got '.length)));
    assert.deepEqual(got, [1, 4, 9, 16, 25, 36, 49, 64, 81, 100]);
    assert.match(out, /producer: produced 10 items\n/);
    assert.match(out, /consumer: sum 385\n$/);
    // The producer ran ahead and had to wait for free slots (notification `empty`).
    assert.ok(out.includes('producer: ring full, waiting\n'));
  });

  it('faulthandler: three write faults are handled by mapping pages; the child then completes', () => {
    assert.equal(
      runFaultHandlerExample(opts),
      [
        'child: writing to three unmapped pages',
        'parent: write fault at 0x20000008 (badge 0xc41d), mapping 0x20000000',
        'parent: write fault at 0x20001008 (badge 0xc41d), mapping 0x20001000',
        'parent: write fault at 0x20002008 (badge 0xc41d), mapping 0x20002000',
        'parent: done handling faults',
        'child: read back, sum 3003',
        '',
      ].join('\n'),
    );
  });
});
