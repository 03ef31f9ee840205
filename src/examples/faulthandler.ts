/**
 * Example: a parent handles its child's page faults (demand paging).
 *
 * The root task (the parent) creates a child thread whose fault endpoint
 * (set with TCB_SetSpace, badged so the parent knows who faulted) is an
 * endpoint the parent receives on with a reply object. The child writes to
 * and reads from pages that are not mapped. Each access raises a VM fault:
 * the kernel blocks the child and sends the parent a seL4_VMFault message
 * (IP, Addr, PrefetchFault, FSR). The parent retypes a frame, maps it at the
 * faulting page and replies; a reply to a VM fault always restarts the
 * child, which re-executes the access, now successfully.
 */
import { Machine, MachineOptions } from '../machine/machine.js';
import * as s from '../user/index.js';
import { seL4_FaultType, seL4_VMFault_Msg } from '../abi/constants.js';

const CNODE = s.seL4_CapInitThreadCNode;
const VSPACE = s.seL4_CapInitThreadVSpace;
const CHILD_BADGE = 0xc41d;
/** An unmapped region of the shared address space the child uses. */
const HEAP = 0x20000000;

/** Build the parent/child system, run it to completion and return the console output. */
export function runFaultHandlerExample(opts: MachineOptions = {}): string {
  const m = new Machine(opts);
  const bi = m.booted.bootInfo;

  m.startRoot(function* parent() {
    const vka = new s.Vka(bi);
    const ep = yield* vka.allocObject(s.seL4_EndpointObject);
    const reply = yield* vka.allocObject(s.seL4_ReplyObject);
    const faultEP = vka.allocSlot();
    let err = yield* s.seL4_CNode_Mint(CNODE, faultEP, 64, CNODE, ep, 64, s.seL4_AllRights, CHILD_BADGE);
    if (err !== 0) throw new Error(`faulthandler: mint failed (${err})`);

    const child = m.registerProgram(function* child() {
      yield* s.seL4_DebugPutString('child: writing to three unmapped pages\n');
      for (let page = 0; page < 3; page++) yield* s.sel4ts_Store(HEAP + page * 4096 + 8, 1000 + page);
      let sum = 0n;
      for (let page = 0; page < 3; page++) sum += yield* s.sel4ts_Load(HEAP + page * 4096 + 8);
      yield* s.seL4_DebugPutString(`child: read back, sum ${sum}\n`);
    });
    const t = yield* vka.createThread({ entry: child, priority: 100, suspended: true });
    err = yield* s.seL4_TCB_SetSpace(t.tcb, faultEP, CNODE, 0, VSPACE, 0);
    if (err !== 0) throw new Error(`faulthandler: TCB_SetSpace failed (${err})`);
    err = yield* s.seL4_TCB_Resume(t.tcb);
    if (err !== 0) throw new Error(`faulthandler: TCB_Resume failed (${err})`);

    const badge = new s.WordOut();
    let info = yield* s.seL4_Recv(ep, badge, reply);
    for (let handled = 0; ; handled++) {
      if (s.seL4_MessageInfo_get_label(info) !== seL4_FaultType.seL4_Fault_VMFault || badge.number !== CHILD_BADGE) {
        yield* s.seL4_DebugPutString('parent: unexpected message\n');
        return;
      }
      const addr = s.seL4_GetMR(seL4_VMFault_Msg.Addr);
      const fsr = s.seL4_GetMR(seL4_VMFault_Msg.FSR);
      const page = addr - (addr % 4096);
      yield* s.seL4_DebugPutString(
        `parent: ${fsr === 7 ? 'write' : 'read'} fault at 0x${addr.toString(16)} (badge 0x${badge.number.toString(16)}), mapping 0x${page.toString(16)}\n`,
      );
      const frame = yield* vka.allocObject(s.seL4_RISCV_4K_Page);
      yield* vka.mapFrameAt(frame, page);
      if (handled === 2) {
        // The last fault: reply, and stop handling (the child now runs to completion).
        yield* s.seL4_Send(reply, s.seL4_MessageInfo_new(0, 0, 0, 0));
        break;
      }
      info = yield* s.seL4_ReplyRecv(ep, s.seL4_MessageInfo_new(0, 0, 0, 0), badge, reply);
    }
    yield* s.seL4_DebugPutString('parent: done handling faults\n');
  });

  m.run({ untilNs: 1_000_000_000 });
  return m.console;
}
