/**
 * Example: an echo server and two clients.
 *
 * The root task creates an endpoint, a reply object and two badged copies of
 * the endpoint cap, one per client. The server blocks in seL4_Recv with its
 * reply object; each client sends a word per character with seL4_Call and
 * blocks until the reply. The server answers with seL4_ReplyRecv: the reply
 * goes to whichever client is linked to the reply object, and the server
 * waits for the next call in the same system call. The badge tells the
 * server which client is calling.
 */
import { Machine, MachineOptions } from '../machine/machine.js';
import * as s from '../user/index.js';

const CNODE = s.seL4_CapInitThreadCNode;

function putMessage(text: string): number {
  for (let i = 0; i < text.length; i++) s.seL4_SetMR(i, text.charCodeAt(i));
  return text.length;
}

function getMessage(info: s.seL4_MessageInfo_t): string {
  let out = '';
  for (let i = 0; i < s.seL4_MessageInfo_get_length(info); i++) out += String.fromCharCode(s.seL4_GetMR(i));
  return out;
}

/** Build the echo system on a freshly booted machine, run it to completion and return the console output. */
export function runEchoExample(opts: MachineOptions = {}): string {
  const m = new Machine(opts);
  const bi = m.booted.bootInfo;

  m.startRoot(function* root() {
    const vka = new s.Vka(bi);
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    const reply = yield* vka.allocObject(s.seL4_ReplyObject);

    const server = m.registerProgram(function* server() {
      const badge = new s.WordOut();
      let info = yield* s.seL4_Recv(ep, badge, reply);
      for (;;) {
        const text = getMessage(info);
        yield* s.seL4_DebugPutString(`server: client ${badge.number} says "${text}"\n`);
        const length = putMessage(text);
        info = yield* s.seL4_ReplyRecv(ep, s.seL4_MessageInfo_new(0, 0, 0, length), badge, reply);
      }
    });

    const client = (name: string, cap: number, lines: string[]) =>
      m.registerProgram(function* clientProgram() {
        for (const line of lines) {
          const info = yield* s.seL4_Call(cap, s.seL4_MessageInfo_new(0, 0, 0, putMessage(line)));
          yield* s.seL4_DebugPutString(`${name}: echoed "${getMessage(info)}"\n`);
        }
      });

    const caps: number[] = [];
    for (const badge of [1, 2]) {
      const slot = vka.allocSlot();
      const err = yield* s.seL4_CNode_Mint(CNODE, slot, 64, CNODE, ep, 64, s.seL4_AllRights, badge);
      if (err !== 0) throw new Error(`echo: mint failed (${err})`);
      caps.push(slot);
    }
    yield* vka.createThread({ entry: server, priority: 200 });
    yield* vka.createThread({ entry: client('client 1', caps[0]!, ['hello', 'seL4']), priority: 100 });
    yield* vka.createThread({ entry: client('client 2', caps[1]!, ['echo']), priority: 90 });
    yield* s.seL4_DebugPutString('root: echo system started\n');
  });

  m.run({ untilNs: 1_000_000_000 });
  return m.console;
}
