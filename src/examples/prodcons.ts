/**
 * Example: a producer and a consumer sharing a frame, driven by notifications.
 *
 * The root task maps one 4 KiB frame twice (through two caps to it), once for
 * the producer and once for the consumer, and creates two notifications:
 * `full` (an item was added) and `empty` (an item was taken). The frame holds
 * a ring buffer of SLOTS words with a head and a tail counter. The producer
 * writes items and signals `full`; when the ring is full it waits on
 * `empty`. The consumer takes items and signals `empty`; when the ring is
 * empty it waits on `full`. Signals that arrive while nobody waits are
 * remembered by the notification, so no wake-up is lost.
 */
import { Machine, MachineOptions } from '../machine/machine.js';
import * as s from '../user/index.js';

const CNODE = s.seL4_CapInitThreadCNode;
/** Ring layout in the shared frame: head (items produced), tail (items consumed), then the slots. */
const HEAD = 0;
const TAIL = 8;
const DATA = 16;
const SLOTS = 4;

/** Build the producer/consumer system, run it to completion and return the console output. */
export function runProdConsExample(opts: MachineOptions & { items?: number } = {}): string {
  const m = new Machine(opts);
  const bi = m.booted.bootInfo;
  const items = opts.items ?? 10;

  m.startRoot(function* root() {
    const vka = new s.Vka(bi);
    const full = yield* vka.allocObject(s.seL4_NotificationObject);
    const empty = yield* vka.allocObject(s.seL4_NotificationObject);
    const frame = yield* vka.allocObject(s.seL4_RISCV_4K_Page);
    const frame2 = vka.allocSlot();
    const err = yield* s.seL4_CNode_Copy(CNODE, frame2, 64, CNODE, frame, 64, s.seL4_AllRights);
    if (err !== 0) throw new Error(`prodcons: copy of the frame cap failed (${err})`);
    const producerView = yield* vka.mapFrame(frame);
    const consumerView = yield* vka.mapFrame(frame2);

    const producer = m.registerProgram(function* producer() {
      const ring = producerView;
      for (let i = 1; i <= items; i++) {
        for (;;) {
          const head = yield* s.sel4ts_Load(ring + HEAD);
          const tail = yield* s.sel4ts_Load(ring + TAIL);
          if (head - tail < BigInt(SLOTS)) break;
          yield* s.seL4_DebugPutString('producer: ring full, waiting\n');
          yield* s.seL4_Wait(empty, null);
        }
        const head = yield* s.sel4ts_Load(ring + HEAD);
        yield* s.sel4ts_Store(ring + DATA + 8 * Number(head % BigInt(SLOTS)), i * i);
        yield* s.sel4ts_Store(ring + HEAD, head + 1n);
        yield* s.seL4_Signal(full);
      }
      yield* s.seL4_DebugPutString(`producer: produced ${items} items\n`);
    });

    const consumer = m.registerProgram(function* consumer() {
      const ring = consumerView;
      let sum = 0n;
      for (let taken = 0; taken < items; ) {
        const head = yield* s.sel4ts_Load(ring + HEAD);
        const tail = yield* s.sel4ts_Load(ring + TAIL);
        if (head === tail) {
          const word = new s.WordOut();
          yield* s.seL4_Wait(full, word);
          continue;
        }
        const v = yield* s.sel4ts_Load(ring + DATA + 8 * Number(tail % BigInt(SLOTS)));
        yield* s.sel4ts_Store(ring + TAIL, tail + 1n);
        yield* s.seL4_Signal(empty);
        sum += v;
        taken++;
        yield* s.seL4_DebugPutString(`consumer: got ${v}\n`);
      }
      yield* s.seL4_DebugPutString(`consumer: sum ${sum}\n`);
    });

    // The producer runs first and fills the ring; the consumer drains it as items arrive.
    yield* vka.createThread({ entry: producer, priority: 100 });
    yield* vka.createThread({ entry: consumer, priority: 90 });
  });

  m.run({ untilNs: 1_000_000_000 });
  return m.console;
}
