/**
 * RISC-V ELF threads on the emulated hart, loaded by the user-level ELF
 * loader into VSpaces of their own, making real seL4 system calls to
 * TypeScript threads (sel4test's PAGEFAULT100x "inter-AS" intents: the
 * faulting thread lives in another address space than its handler).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runRoot } from './support/harness.js';
import { Asm, a0, a1, a2, a3, a4, a5, s0, s1, s2, ra, zero, add, addi, bne, ld, lr, sd, jalr, ebreak } from './support/rv64asm.js';
import { CODE_BASE, li, programElf, putString, setCall, syscall, SYS, PF_R, PF_W } from './support/sel4prog.js';
import { mapPageWithTables, seL4_RISCV_ExecuteNever, spawnElfThread } from '../src/user/elfloader.js';
import {
  seL4_EndpointObject,
  seL4_NotificationObject,
  seL4_ReplyObject,
  seL4_RISCV_4K_Page,
  seL4_ReadWrite,
  seL4_RISCV_Page_Map,
  seL4_RISCV_Page_Unmap,
  sel4ts_Store,
  seL4_Recv,
  seL4_ReplyRecv,
  seL4_GetMR,
  seL4_GetMRWord,
  seL4_SetMR,
  seL4_MessageInfo_new,
  seL4_MessageInfo_get_label,
  seL4_MessageInfo_get_length,
  seL4_TCB_ReadRegisters,
  WordOut,
} from '../src/user/index.js';
import { ThreadState } from '../src/kernel/object/tcb.js';

const seL4_Fault_UnknownSyscall = 2;
const seL4_Fault_UserException = 3;
const seL4_Fault_VMFault = 6;
const seL4_CanRead = 2;

test('ELF thread: DebugPutChar, Call and Send with MRs in a2..a5 to a TypeScript server', () => {
  let done = false;
  const { m } = runRoot(function* ({ vka }) {
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const ntfn = yield* vka.allocObject(seL4_NotificationObject);
    const reply = yield* vka.allocObject(seL4_ReplyObject);
    const asm = new Asm(CODE_BASE);
    asm.i(addi(s0, a0, 0), addi(s1, a1, 0));
    putString(asm, 'Hi!\n');
    setCall(asm, s0, 7, 4);
    asm.i(li(a2, 40), li(a3, 2), li(a4, -1), li(a5, 0x1234));
    syscall(asm, SYS.Call);
    // The reply's MR0 arrives in a2: send it back plus one, with the reply label.
    asm.i(addi(a3, a1, 0), addi(a2, a2, 1));
    setCall(asm, s0, 1, 2);
    syscall(asm, SYS.Send);
    asm.i(addi(a0, s1, 0));
    syscall(asm, SYS.Wait); // blocks for good
    const t = yield* spawnElfThread(vka, programElf(asm), { priority: 100, args: [ep, ntfn] });
    const badge = new WordOut();
    let info = yield* seL4_Recv(ep, badge, reply);
    assert.equal(seL4_MessageInfo_get_label(info), 7);
    assert.equal(seL4_MessageInfo_get_length(info), 4);
    assert.equal(seL4_GetMR(0), 40);
    assert.equal(seL4_GetMR(1), 2);
    assert.equal(seL4_GetMRWord(2), 0xffffffffffffffffn);
    assert.equal(seL4_GetMR(3), 0x1234);
    seL4_SetMR(0, 42);
    info = yield* seL4_ReplyRecv(ep, seL4_MessageInfo_new(5, 0, 0, 1), badge, reply);
    assert.equal(seL4_MessageInfo_get_label(info), 1);
    assert.equal(seL4_MessageInfo_get_length(info), 2);
    assert.equal(seL4_GetMR(0), 43);
    // a1 after the Call held the reply's message info (label 5, length 1).
    assert.equal(seL4_GetMR(1), 5 * 4096 + 1);
    // The ELF thread is now blocked on its notification.
    const regs: bigint[] = [];
    assert.equal(yield* seL4_TCB_ReadRegisters(t.tcb, false, 0, 32, regs), 0);
    assert.equal(regs[2], BigInt(t.stackTop), 'sp untouched');
    done = true;
  });
  assert.ok(done, 'root task finished');
  assert.equal(m.console, 'Hi!\n');
  const elf = [...m.kernel.tcbs].find((t) => t.state === ThreadState.BlockedOnNotification);
  assert.ok(elf !== undefined, 'the ELF thread waits on its notification');
});

test('PAGEFAULT1001/1002 (hart): read and write faults of an ELF thread are handled by a TypeScript fault handler', () => {
  let done = false;
  const FAULT_VADDR = 0x5000_0000;
  runRoot(function* ({ vka }) {
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const faultEP = yield* vka.allocObject(seL4_EndpointObject);
    const ntfn = yield* vka.allocObject(seL4_NotificationObject);
    const reply = yield* vka.allocObject(seL4_ReplyObject);
    // s2 = FAULT_VADDR; load from +8 (read fault), store 0x77 there (write fault
    // on the read-only mapping), load it back and send it.
    const p = new Asm(CODE_BASE);
    p.i(addi(s0, a0, 0), addi(s1, a1, 0));
    p.i(li(s2, FAULT_VADDR));
    p.i(li(a2, 0x77));
    p.label('load').i(ld(a4, s2, 8));
    p.label('store').i(sd(a2, s2, 8));
    p.i(ld(a3, s2, 8));
    p.i(ld(a5, s2, 0x7f8)); // same page: no fault
    p.i(addi(a2, a3, 0));
    setCall(p, s0, 9, 1);
    syscall(p, SYS.Send);
    p.i(addi(a0, s1, 0));
    syscall(p, SYS.Wait);
    const t = yield* spawnElfThread(vka, programElf(p), { priority: 100, args: [ep, ntfn], faultEP });
    const badge = new WordOut();
    let info = yield* seL4_Recv(faultEP, badge, reply);
    assert.equal(seL4_MessageInfo_get_label(info), seL4_Fault_VMFault);
    assert.equal(seL4_MessageInfo_get_length(info), 4);
    assert.equal(seL4_GetMR(0), p.addr('load'), 'IP = the faulting load');
    assert.equal(seL4_GetMR(1), FAULT_VADDR + 8, 'Addr = stval');
    assert.equal(seL4_GetMR(2), 0, 'not a prefetch fault');
    assert.equal(seL4_GetMR(3), 5, 'FSR: load');
    // Map a frame read-only in the faulting thread's VSpace, then let it retry.
    const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
    const tables: number[] = [];
    assert.equal(yield* mapPageWithTables(vka, frame, t.vspace, FAULT_VADDR, seL4_CanRead, 0, tables), 0);
    assert.equal(tables.length, 1, 'one level-2 table was needed (the 1 GiB slot already had one)');
    info = yield* seL4_ReplyRecv(faultEP, seL4_MessageInfo_new(0, 0, 0, 0), badge, reply);
    assert.equal(seL4_MessageInfo_get_label(info), seL4_Fault_VMFault);
    assert.equal(seL4_GetMR(0), p.addr('store'), 'the load went through; the store faults');
    assert.equal(seL4_GetMR(1), FAULT_VADDR + 8);
    assert.equal(seL4_GetMR(3), 7, 'FSR: store');
    // Remap at the same address with write rights (allowed for a mapped frame).
    assert.equal(yield* seL4_RISCV_Page_Map(frame, t.vspace, FAULT_VADDR, seL4_ReadWrite, 0), 0);
    info = yield* seL4_ReplyRecv(ep, seL4_MessageInfo_new(0, 0, 0, 0), badge, reply);
    assert.equal(seL4_MessageInfo_get_label(info), 9);
    assert.equal(seL4_GetMR(0), 0x77, 'the restarted store wrote, the load read it back');
    done = true;
  });
  assert.ok(done);
});

test('PAGEFAULT1003 (hart): executing an unmapped address is a VMFault with PrefetchFault and FSR 1', () => {
  let done = false;
  const TARGET = 0x6000_0000;
  runRoot(function* ({ vka }) {
    const faultEP = yield* vka.allocObject(seL4_EndpointObject);
    const reply = yield* vka.allocObject(seL4_ReplyObject);
    const p = new Asm(CODE_BASE);
    p.i(li(s2, TARGET));
    p.label('jump').i(jalr(ra, s2, 0));
    yield* spawnElfThread(vka, programElf(p), { priority: 100, faultEP });
    const info = yield* seL4_Recv(faultEP, null, reply);
    assert.equal(seL4_MessageInfo_get_label(info), seL4_Fault_VMFault);
    assert.equal(seL4_GetMR(0), TARGET, 'IP = the address fetched');
    assert.equal(seL4_GetMR(1), TARGET);
    assert.equal(seL4_GetMR(2), 1, 'PrefetchFault');
    assert.equal(seL4_GetMR(3), 1, 'FSR: instruction');
    done = true;
  });
  assert.ok(done);
});

test('PAGEFAULT1004 (hart): an unknown syscall is an UnknownSyscall fault with the registers; the reply resumes it', () => {
  let done = false;
  runRoot(function* ({ vka }) {
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const faultEP = yield* vka.allocObject(seL4_EndpointObject);
    const ntfn = yield* vka.allocObject(seL4_NotificationObject);
    const reply = yield* vka.allocObject(seL4_ReplyObject);
    const p = new Asm(CODE_BASE);
    p.i(addi(s0, a0, 0), addi(s1, a1, 0));
    p.i(li(ra, 0x111), li(a0, 0x100), li(a1, 0x101), li(a2, 0x102), li(a3, 0x103), li(a4, 0x104), li(a5, 0x105), li(16, 0x106));
    p.label('sys');
    syscall(p, 42);
    p.label('after');
    // a0 was rewritten by the handler: send it.
    p.i(addi(a2, a0, 0));
    setCall(p, s0, 3, 1);
    syscall(p, SYS.Send);
    p.i(addi(a0, s1, 0));
    syscall(p, SYS.Wait);
    const t = yield* spawnElfThread(vka, programElf(p), { priority: 100, args: [ep, ntfn], faultEP });
    let info = yield* seL4_Recv(faultEP, null, reply);
    assert.equal(seL4_MessageInfo_get_label(info), seL4_Fault_UnknownSyscall);
    assert.equal(seL4_MessageInfo_get_length(info), 11);
    const ecallPc = p.addr('after') - 4;
    assert.equal(seL4_GetMR(0), ecallPc, 'FaultIP = the ecall');
    assert.equal(seL4_GetMR(1), t.stackTop, 'SP');
    assert.equal(seL4_GetMR(2), 0x111, 'RA');
    for (let i = 0; i < 7; i++) assert.equal(seL4_GetMR(3 + i), 0x100 + i, `a${i}`);
    assert.equal(seL4_GetMR(10), 42, 'Syscall = a7');
    // Resume after the ecall with a0 = 99.
    seL4_SetMR(0, ecallPc + 4);
    seL4_SetMR(1, t.stackTop);
    seL4_SetMR(2, 0x111);
    seL4_SetMR(3, 99);
    info = yield* seL4_ReplyRecv(ep, seL4_MessageInfo_new(0, 0, 0, 4), null, reply);
    assert.equal(seL4_MessageInfo_get_label(info), 3);
    assert.equal(seL4_GetMR(0), 99);
    done = true;
  });
  assert.ok(done);
});

test('PAGEFAULT1005 (hart): an illegal instruction and an ebreak are UserException faults (FaultIP, SP, scause, 0)', () => {
  let done = false;
  runRoot(function* ({ vka }) {
    const faultEP = yield* vka.allocObject(seL4_EndpointObject);
    const reply = yield* vka.allocObject(seL4_ReplyObject);
    const p = new Asm(CODE_BASE);
    p.label('bad').i(0x00000000); // all-zero parcel: illegal
    p.label('brk').i(ebreak());
    const t = yield* spawnElfThread(vka, programElf(p), { priority: 100, faultEP });
    let info = yield* seL4_Recv(faultEP, null, reply);
    assert.equal(seL4_MessageInfo_get_label(info), seL4_Fault_UserException);
    assert.equal(seL4_MessageInfo_get_length(info), 4);
    assert.equal(seL4_GetMR(0), p.addr('bad'));
    assert.equal(seL4_GetMR(1), t.stackTop);
    assert.equal(seL4_GetMR(2), 2, 'Number = scause (illegal instruction)');
    assert.equal(seL4_GetMR(3), 0, 'Code');
    // Skip the bad instruction: reply label 0 with FaultIP moved on.
    seL4_SetMR(0, p.addr('brk'));
    seL4_SetMR(1, t.stackTop);
    info = yield* seL4_ReplyRecv(faultEP, seL4_MessageInfo_new(0, 0, 0, 2), null, reply);
    assert.equal(seL4_MessageInfo_get_label(info), seL4_Fault_UserException);
    assert.equal(seL4_GetMR(0), p.addr('brk'));
    assert.equal(seL4_GetMR(2), 3, 'Number = scause (breakpoint)');
    done = true;
  });
  assert.ok(done);
});

test('an ELF thread computing in a loop is preempted by its budget and still finishes', () => {
  let done = false;
  const { m } = runRoot(function* ({ vka }) {
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const reply = yield* vka.allocObject(seL4_ReplyObject);
    // sum n..1 into a2 with n = 300000: well over one 100 us budget at 1 ns per instruction.
    const loop = new Asm(CODE_BASE);
    loop.i(addi(s0, a0, 0), li(a3, 300000), li(a2, 0));
    loop.label('loop');
    loop.i(add(a2, a2, a3), addi(a3, a3, -1));
    loop.to('loop', (off) => bne(a3, zero, off));
    setCall(loop, s0, 1, 1);
    syscall(loop, SYS.Send);
    syscall(loop, SYS.Wait);
    yield* spawnElfThread(vka, programElf(loop), { priority: 100, args: [ep], budgetUs: 100, periodUs: 200 });
    const info = yield* seL4_Recv(ep, null, reply);
    assert.equal(seL4_MessageInfo_get_label(info), 1);
    assert.equal(seL4_GetMRWord(0), (300000n * 300001n) / 2n);
    done = true;
  });
  assert.ok(done);
  assert.ok(m.now > 900_000, `900k instructions took ${m.now} ns of simulated time`);
});


test('FRAMEXN0001 (hart): code in an execute-never frame faults at its first instruction; remapped executable it runs', () => {
  let done = false;
  const Z = 0x4400_0000;
  runRoot(function* ({ vka }) {
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const ntfn = yield* vka.allocObject(seL4_NotificationObject);
    const faultEP = yield* vka.allocObject(seL4_EndpointObject);
    const reply = yield* vka.allocObject(seL4_ReplyObject);
    // The code that will live at Z: send 5, then wait for good.
    const code = new Asm(Z);
    code.i(li(a2, 5));
    setCall(code, s0, 1, 1);
    syscall(code, SYS.Send);
    code.i(addi(a0, s1, 0));
    syscall(code, SYS.Wait);
    const bytes = code.bytes();
    // Write it into a fresh frame through a temporary mapping of our own.
    const frame = yield* vka.allocObject(seL4_RISCV_4K_Page);
    const tmp = yield* vka.mapFrame(frame);
    for (let i = 0; i < bytes.length; i += 4) {
      yield* sel4ts_Store(tmp + i, new DataView(bytes.buffer).getUint32(i, true), 4);
    }
    assert.equal(yield* seL4_RISCV_Page_Unmap(frame), 0);
    // The ELF program jumps to Z.
    const p = new Asm(CODE_BASE);
    p.i(addi(s0, a0, 0), addi(s1, a1, 0), li(s2, Z), jalr(zero, s2, 0));
    const t = yield* spawnElfThread(vka, programElf(p), { priority: 100, args: [ep, ntfn], faultEP });
    assert.equal(yield* mapPageWithTables(vka, frame, t.vspace, Z, seL4_ReadWrite, seL4_RISCV_ExecuteNever, []), 0);
    let info = yield* seL4_Recv(faultEP, null, reply);
    assert.equal(seL4_MessageInfo_get_label(info), seL4_Fault_VMFault);
    assert.deepEqual([seL4_GetMR(0), seL4_GetMR(1), seL4_GetMR(2), seL4_GetMR(3)], [Z, Z, 1, 1], 'instruction fault at Z');
    assert.equal(yield* seL4_RISCV_Page_Map(frame, t.vspace, Z, seL4_ReadWrite, 0), 0);
    info = yield* seL4_ReplyRecv(ep, seL4_MessageInfo_new(0, 0, 0, 0), null, reply);
    assert.equal(seL4_MessageInfo_get_label(info), 1);
    assert.equal(seL4_GetMR(0), 5, 'the code ran once executable');
    done = true;
  });
  assert.ok(done);
});

test('PT0002 (hart): remapping a virtual address to another frame flushes the hart TLB', () => {
  let done = false;
  const X1 = 0x20000;
  const X2 = 0x21000;
  runRoot(function* ({ vka }) {
    const ep = yield* vka.allocObject(seL4_EndpointObject);
    const ntfn = yield* vka.allocObject(seL4_NotificationObject);
    const reply = yield* vka.allocObject(seL4_ReplyObject);
    const p = new Asm(CODE_BASE);
    p.i(addi(s0, a0, 0), addi(s1, a1, 0), li(s2, X1));
    p.i(ld(a2, s2, 0));
    setCall(p, s0, 1, 1);
    syscall(p, SYS.Call);
    p.i(ld(a2, s2, 0));
    setCall(p, s0, 2, 1);
    syscall(p, SYS.Send);
    p.i(addi(a0, s1, 0));
    syscall(p, SYS.Wait);
    const page = (v: number) => {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setUint32(0, v, true);
      return b;
    };
    const elf = programElf(p, [
      { vaddr: X1, data: page(1), flags: PF_R | PF_W, memsz: 4096 },
      { vaddr: X2, data: page(2), flags: PF_R | PF_W, memsz: 4096 },
    ]);
    const t = yield* spawnElfThread(vka, elf, { priority: 100, args: [ep, ntfn] });
    let info = yield* seL4_Recv(ep, null, reply);
    assert.equal(seL4_MessageInfo_get_label(info), 1);
    assert.equal(seL4_GetMR(0), 1);
    const f1 = t.frames.get(X1)!;
    const f2 = t.frames.get(X2)!;
    assert.equal(yield* seL4_RISCV_Page_Unmap(f1), 0);
    assert.equal(yield* seL4_RISCV_Page_Unmap(f2), 0);
    assert.equal(yield* seL4_RISCV_Page_Map(f2, t.vspace, X1, seL4_ReadWrite, seL4_RISCV_ExecuteNever), 0);
    info = yield* seL4_ReplyRecv(ep, seL4_MessageInfo_new(0, 0, 0, 0), null, reply);
    assert.equal(seL4_MessageInfo_get_label(info), 2);
    assert.equal(seL4_GetMR(0), 2, 'the second load saw the new frame, not a stale TLB entry');
    done = true;
  });
  assert.ok(done);
});

test('a misaligned LR in an ELF thread is a UserException with scause 4 (load address misaligned)', () => {
  let done = false;
  runRoot(function* ({ vka }) {
    const faultEP = yield* vka.allocObject(seL4_EndpointObject);
    const reply = yield* vka.allocObject(seL4_ReplyObject);
    const p = new Asm(CODE_BASE);
    p.i(addi(s2, 2, -15)); // s2 = sp - 15: mapped stack, not 8-byte aligned
    p.label('lr').i(lr('d', a0, s2));
    const t = yield* spawnElfThread(vka, programElf(p), { priority: 100, faultEP });
    const info = yield* seL4_Recv(faultEP, null, reply);
    assert.equal(seL4_MessageInfo_get_label(info), seL4_Fault_UserException);
    assert.deepEqual([seL4_GetMR(0), seL4_GetMR(1), seL4_GetMR(2), seL4_GetMR(3)], [p.addr('lr'), t.stackTop, 4, 0]);
    done = true;
  });
  assert.ok(done);
});
