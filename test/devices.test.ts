import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { MMIO_FAULT, MmioBus, MmioFault, type MmioDevice } from '../src/machine/devices/mmio.js';
import {
  IER_RDI,
  IER_THRI,
  IIR_CTI,
  IIR_NO_INT,
  IIR_RDI,
  IIR_THRI,
  LSR_BI,
  LSR_DR,
  LSR_OE,
  LSR_TEMT,
  LSR_THRE,
  MCR_LOOP,
  Uart16550,
  UART_DLL,
  UART_DLM,
  UART_FCR,
  UART_IER,
  UART_IIR,
  UART_LCR,
  UART_LSR,
  UART_MCR,
  UART_MSR,
  UART_RBR,
  UART_SCR,
  UART_THR,
} from '../src/machine/devices/uart16550.js';
import { Plic, PLIC_CONTEXT_M } from '../src/machine/devices/plic.js';
import {
  MachineTimer,
  NO_DEADLINE,
  nsToTicks,
  ticksToNs,
  ticksToUs,
  timerPrecisionTicks,
  usToTicks,
} from '../src/machine/devices/timer.js';
import {
  defaultVirtConfig,
  deviceRegions,
  deviceUntypedRanges,
  deviceUntypeds,
  GiB,
  isUserIrq,
  kernelAvailableRam,
  kernelDeviceFrames,
  kernelElfPaddr,
  kernelFreeRam,
  MiB,
  PADDR_USER_DEVICE_TOP,
  physBase,
  ramRegions,
  SEL4_KERNEL_TIMER_IRQ,
  SEL4_PLIC_MAX_IRQ,
  sbiRegion,
  UART0_IRQ,
  untypedBlocks,
  createVirtDeviceModels,
  virtDevices,
  VIRTIO_IRQ,
} from '../src/machine/virt.js';
import { PhysicalMemory } from '../src/machine/memory.js';

const UART = 0x10000000;
const PLIC = 0x0c000000;

function uartOnBus() {
  const out: number[] = [];
  const irq: boolean[] = [];
  const uart = new Uart16550({ onTransmit: (b) => out.push(b), onIrq: (l) => irq.push(l) });
  const bus = new MmioBus();
  bus.attach(uart);
  const r = (reg: number) => bus.read(UART + reg, 1);
  const w = (reg: number, v: number) => bus.write(UART + reg, 1, v);
  return { uart, bus, out, irq, r, w };
}

describe('UART 16550A', () => {
  it('resets like qemu', () => {
    const { r } = uartOnBus();
    assert.equal(r(UART_IER), 0);
    assert.equal(r(UART_IIR), IIR_NO_INT);
    assert.equal(r(UART_LCR), 0);
    assert.equal(r(UART_MCR), 0x08); // OUT2
    assert.equal(r(UART_LSR), LSR_THRE | LSR_TEMT);
    assert.equal(r(UART_MSR), 0xb0); // DCD | DSR | CTS
    assert.equal(r(UART_SCR), 0);
  });

  it('DLAB switches offsets 0/1 to the divisor latch', () => {
    const { uart, r, w, out } = uartOnBus();
    assert.equal(uart.divisor, 0x0c);
    w(UART_IER, 0x05);
    w(UART_LCR, 0x83); // DLAB + 8N1
    assert.equal(r(UART_DLL), 0x0c);
    assert.equal(r(UART_DLM), 0x00);
    w(UART_DLL, 0x34);
    w(UART_DLM, 0x12);
    assert.equal(uart.divisor, 0x1234);
    assert.equal(r(UART_DLL), 0x34);
    assert.equal(r(UART_DLM), 0x12);
    assert.deepEqual(out, [], 'a DLL write is not a transmission');
    w(UART_LCR, 0x03);
    assert.equal(r(UART_LCR), 0x03);
    assert.equal(r(UART_IER), 0x05, 'IER kept while DLAB was set');
    assert.equal(uart.divisor, 0x1234);
  });

  it('transmits bytes in order and THR is always empty again', () => {
    const { r, w, out } = uartOnBus();
    for (const c of 'seL4\n') {
      w(UART_THR, c.charCodeAt(0));
      assert.equal(r(UART_LSR) & (LSR_THRE | LSR_TEMT), LSR_THRE | LSR_TEMT);
    }
    assert.equal(new TextDecoder().decode(new Uint8Array(out)), 'seL4\n');
  });

  it('wide accesses reach the single byte register', () => {
    const { bus, out } = uartOnBus();
    assert.equal(bus.write(UART + UART_THR, 4, 0x12345641), MmioFault.None);
    assert.deepEqual(out, [0x41]);
    assert.equal(bus.read(UART + UART_MCR, 4), 0x08);
    assert.equal(bus.read(UART + UART_RBR, 8), 0);
    assert.equal(bus.read(UART + UART_LSR, 1), LSR_THRE | LSR_TEMT);
    // qemu decodes 8 bytes; the rest of the 0x100 device-tree window is unassigned.
    assert.equal(bus.read(UART + 8, 1), MMIO_FAULT);
    assert.equal(bus.lastFault, MmioFault.Unmapped);
  });

  it('LSR.DR follows queued input, bytes come out in order', () => {
    const { uart, r } = uartOnBus();
    assert.equal(r(UART_LSR) & LSR_DR, 0);
    uart.inject('hi!');
    assert.equal(uart.pendingInput, 3);
    const got: number[] = [];
    while (r(UART_LSR) & LSR_DR) got.push(r(UART_RBR));
    assert.equal(new TextDecoder().decode(new Uint8Array(got)), 'hi!');
    assert.equal(uart.pendingInput, 0);
    assert.equal(r(UART_LSR) & LSR_OE, 0, 'host input never overruns');
  });

  it('raises the receive interrupt only when IER.RDI is set', () => {
    const { uart, r, w, irq } = uartOnBus();
    uart.inject([0x61]);
    assert.equal(uart.irqLevel, false);
    assert.equal(r(UART_IIR) & 0x0f, IIR_NO_INT);
    w(UART_IER, IER_RDI);
    assert.equal(uart.irqLevel, true);
    assert.equal(r(UART_IIR) & 0x0f, IIR_RDI);
    assert.equal(r(UART_RBR), 0x61);
    assert.equal(uart.irqLevel, false);
    assert.deepEqual(irq, [true, false]);
    uart.inject([0x62, 0x63]);
    assert.equal(uart.irqLevel, true);
    assert.equal(r(UART_RBR), 0x62);
    assert.equal(uart.irqLevel, true, 'second byte moves into RBR');
    assert.equal(r(UART_RBR), 0x63);
    assert.equal(uart.irqLevel, false);
  });

  it('THRE interrupt: raised by enabling IER.THRI, cleared by reading IIR', () => {
    const { uart, r, w } = uartOnBus();
    w(UART_IER, IER_THRI);
    assert.equal(uart.irqLevel, true);
    assert.equal(r(UART_IIR) & 0x0f, IIR_THRI);
    assert.equal(uart.irqLevel, false);
    assert.equal(r(UART_IIR) & 0x0f, IIR_NO_INT);
    w(UART_THR, 0x41);
    assert.equal(uart.irqLevel, true, 'THR empties at once and interrupts again');
  });

  it('receive data has priority over THRE in IIR', () => {
    const { uart, r, w } = uartOnBus();
    w(UART_IER, IER_THRI | IER_RDI);
    uart.inject([1]);
    assert.equal(r(UART_IIR) & 0x0f, IIR_RDI);
    r(UART_RBR);
    assert.equal(r(UART_IIR) & 0x0f, IIR_THRI);
  });

  it('FIFO mode: IIR reports the FIFO, RDI at the trigger level, CTI below it', () => {
    const { uart, r, w } = uartOnBus();
    w(UART_FCR, 0x41); // enable, trigger level 4
    assert.equal(r(UART_IIR) & 0xc0, 0xc0);
    w(UART_IER, IER_RDI);
    uart.inject([1, 2]);
    assert.equal(r(UART_IIR) & 0x0f, IIR_CTI);
    uart.inject([3, 4, 5]);
    assert.equal(r(UART_IIR) & 0x0f, IIR_RDI);
    const got: number[] = [];
    while (r(UART_LSR) & LSR_DR) got.push(r(UART_RBR));
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    assert.equal(uart.irqLevel, false);
    w(UART_FCR, 0x00);
    assert.equal(r(UART_IIR) & 0xc0, 0);
  });

  it('FIFO holds 16 bytes, the rest waits on the host side', () => {
    const { uart, r, w } = uartOnBus();
    w(UART_FCR, 0x01);
    const data = Array.from({ length: 40 }, (_, i) => i);
    uart.inject(data);
    assert.equal(uart.pendingInput, 40);
    const got: number[] = [];
    while (r(UART_LSR) & LSR_DR) got.push(r(UART_RBR));
    assert.deepEqual(got, data);
  });

  it('loopback sends THR into RBR and not to the console', () => {
    const { uart, r, w, out } = uartOnBus();
    w(UART_MCR, MCR_LOOP | 0x0b);
    assert.equal(r(UART_MSR), 0xb0, 'OUT2->DCD, RTS->CTS, DTR->DSR');
    w(UART_THR, 0x5a);
    assert.deepEqual(out, []);
    assert.equal(r(UART_LSR) & LSR_DR, LSR_DR);
    assert.equal(r(UART_RBR), 0x5a);
    uart.inject([0x11]);
    assert.equal(r(UART_LSR) & LSR_DR, 0, 'host input waits while in loopback');
    w(UART_MCR, 0x08);
    assert.equal(r(UART_LSR) & LSR_DR, LSR_DR, 'leaving loopback reconnects the host');
    assert.equal(r(UART_RBR), 0x11);
  });

  it('break sets BI, which LSR reads clear', () => {
    const { uart, r } = uartOnBus();
    uart.injectBreak();
    assert.equal(r(UART_LSR) & (LSR_BI | LSR_DR), LSR_BI | LSR_DR);
    assert.equal(r(UART_LSR) & LSR_BI, 0);
    assert.equal(r(UART_RBR), 0);
  });

  it('scratch register', () => {
    const { r, w } = uartOnBus();
    w(UART_SCR, 0xa5);
    assert.equal(r(UART_SCR), 0xa5);
  });
});

describe('PLIC', () => {
  function plic() {
    const seip: boolean[] = [];
    const p = new Plic({ onExternalInterrupt: (l) => seip.push(l) });
    return { p, seip };
  }

  it('claims by priority, ties to the lowest id', () => {
    const { p } = plic();
    for (const irq of [3, 5, 7, 9]) {
      p.enable(irq);
      p.setLevel(irq, true);
    }
    p.setPriority(3, 2);
    p.setPriority(5, 6);
    p.setPriority(7, 2);
    p.setPriority(9, 6);
    assert.equal(p.claim(), 5);
    assert.equal(p.claim(), 9);
    assert.equal(p.claim(), 3);
    assert.equal(p.claim(), 7);
    assert.equal(p.claim(), 0);
  });

  it('priority 0 and sources at or below the threshold never interrupt', () => {
    const { p } = plic();
    p.enable(1);
    p.enable(2);
    p.setLevel(1, true);
    p.setLevel(2, true);
    assert.equal(p.hasPending(), false, 'priority 0 is "never"');
    p.setPriority(1, 3);
    p.setPriority(2, 4);
    p.setThreshold(3);
    assert.equal(p.hasPending(), true);
    assert.equal(p.claim(), 2);
    assert.equal(p.hasPending(), false, 'source 1 is at the threshold');
    assert.equal(p.claim(), 0);
    p.setThreshold(2);
    assert.equal(p.claim(), 1);
  });

  it('disabled sources stay pending but are not delivered', () => {
    const { p } = plic();
    p.setPriority(4, 1);
    p.setLevel(4, true);
    assert.equal(p.isPending(4), true);
    assert.equal(p.hasPending(), false);
    assert.equal(p.claim(), 0);
    p.enable(4);
    assert.equal(p.hasPending(), true);
    p.disable(4);
    assert.equal(p.hasPending(), false);
  });

  it('a claimed source is masked until it is completed', () => {
    const { p, seip } = plic();
    p.setPriority(UART0_IRQ, 1);
    p.enable(UART0_IRQ);
    p.setLevel(UART0_IRQ, true);
    assert.deepEqual(seip, [true]);
    assert.equal(p.claim(), UART0_IRQ);
    assert.equal(p.isClaimed(UART0_IRQ), true);
    assert.equal(p.hasPending(), false);
    // The line is still high, and even re-asserted, but nothing is offered.
    p.setLevel(UART0_IRQ, true);
    assert.equal(p.hasPending(), false);
    assert.equal(p.claim(), 0);
    p.complete(UART0_IRQ);
    assert.equal(p.hasPending(), true, 'level still high: pending again after completion');
    assert.equal(p.claim(), UART0_IRQ);
    p.setLevel(UART0_IRQ, false);
    p.complete(UART0_IRQ);
    assert.equal(p.hasPending(), false);
    assert.deepEqual(seip, [true, false, true, false]);
  });

  it('lowering a line withdraws an unclaimed request', () => {
    const { p } = plic();
    p.setPriority(8, 1);
    p.enable(8);
    p.setLevel(8, true);
    p.setLevel(8, false);
    assert.equal(p.isPending(8), false);
    assert.equal(p.claim(), 0);
  });

  it('priorities and threshold are WARL modulo 8; bad ids are ignored', () => {
    const { p } = plic();
    p.setPriority(2, 9);
    assert.equal(p.getPriority(2), 1);
    p.setThreshold(15);
    assert.equal(p.getThreshold(), 7);
    p.setPriority(500, 1);
    p.enable(0);
    p.enable(-1);
    p.setLevel(96, true);
    p.complete(4000);
    assert.equal(p.getPriority(500), 0);
    assert.equal(p.isEnabled(0), false);
    assert.equal(p.claim(), 0);
  });

  it('MMIO registers at the standard offsets (S context of hart 0)', () => {
    const { p } = plic();
    const bus = new MmioBus();
    bus.attach(p);
    bus.write(PLIC + 4 * VIRTIO_IRQ, 4, 5); // priority of source 1
    bus.write(PLIC + 4 * UART0_IRQ, 4, 3);
    assert.equal(bus.read(PLIC + 4 * VIRTIO_IRQ, 4), 5);
    bus.write(PLIC + 0x2080, 4, (1 << VIRTIO_IRQ) | (1 << UART0_IRQ)); // enable, context 1
    assert.equal(p.isEnabled(UART0_IRQ), true);
    assert.equal(p.isEnabled(UART0_IRQ, PLIC_CONTEXT_M), false);
    bus.write(PLIC + 0x201000, 4, 2); // threshold
    assert.equal(bus.read(PLIC + 0x201000, 4), 2);
    p.setLevel(VIRTIO_IRQ, true);
    p.setLevel(UART0_IRQ, true);
    assert.equal(bus.read(PLIC + 0x1000, 4), (1 << VIRTIO_IRQ) | (1 << UART0_IRQ));
    assert.equal(bus.read(PLIC + 0x201004, 4), VIRTIO_IRQ); // claim
    assert.equal(bus.read(PLIC + 0x201004, 4), UART0_IRQ);
    assert.equal(bus.read(PLIC + 0x201004, 4), 0);
    assert.equal(bus.read(PLIC + 0x1000, 4), 0, 'claimed sources are no longer pending');
    p.setLevel(VIRTIO_IRQ, false);
    bus.write(PLIC + 0x201004, 4, VIRTIO_IRQ); // complete
    bus.write(PLIC + 0x201004, 4, UART0_IRQ);
    assert.equal(bus.read(PLIC + 0x201004, 4), UART0_IRQ, 'UART line still high');
    bus.write(PLIC + 0x1000, 4, 0xffffffff); // pending is read-only
    assert.equal(p.isPending(3), false);
    assert.equal(bus.read(PLIC + 0x300000, 4), 0, 'unimplemented register reads 0');
  });

  it('only 4-byte accesses are valid', () => {
    const { p } = plic();
    const bus = new MmioBus();
    bus.attach(p);
    assert.equal(bus.read(PLIC + 4, 1), MMIO_FAULT);
    assert.equal(bus.lastFault, MmioFault.BadAccess);
    assert.equal(bus.write(PLIC + 8, 8, 1), MmioFault.BadAccess);
    assert.equal(bus.read(PLIC + 4, 4), 0);
    assert.equal(bus.lastFault, MmioFault.None);
  });

  it('claim agrees with a reference model', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ irq: fc.integer({ min: 1, max: 95 }), prio: fc.integer({ min: 0, max: 7 }), en: fc.boolean(), on: fc.boolean() }), { maxLength: 30 }),
        fc.integer({ min: 0, max: 7 }),
        (srcs, threshold) => {
          const p = new Plic();
          const state = new Map<number, { prio: number; en: boolean; on: boolean }>();
          for (const s of srcs) {
            p.setPriority(s.irq, s.prio);
            p.setEnabled(s.irq, s.en);
            p.setLevel(s.irq, s.on);
            state.set(s.irq, { prio: s.prio, en: s.en, on: s.on });
          }
          p.setThreshold(threshold);
          let want = 0;
          let best = threshold;
          for (const [irq, s] of [...state].sort((a, b) => a[0] - b[0])) {
            if (s.en && s.on && s.prio > best) {
              best = s.prio;
              want = irq;
            }
          }
          assert.equal(p.hasPending(), want !== 0);
          assert.equal(p.claim(), want);
        },
      ),
    );
  });

  it('UART interrupt reaches the PLIC as source 10', () => {
    const p = new Plic();
    const uart = new Uart16550({ onIrq: (l) => p.setLevel(UART0_IRQ, l) });
    p.setPriority(UART0_IRQ, 1);
    p.enable(UART0_IRQ);
    uart.write(UART_IER, 1, IER_RDI);
    uart.inject('x');
    assert.equal(p.hasPending(), true);
    const irq = p.claim();
    assert.equal(irq, UART0_IRQ);
    assert.equal(uart.read(UART_RBR, 1), 0x78);
    p.complete(irq);
    assert.equal(p.hasPending(), false);
  });
});

describe('machine timer', () => {
  it('fires when the counter reaches the deadline', () => {
    const events: boolean[] = [];
    const t = new MachineTimer({ onTimerInterrupt: (l) => events.push(l) });
    assert.equal(t.now(), 0);
    t.setDeadline(1000);
    assert.equal(t.advanceTo(999), false);
    assert.equal(t.ticksUntilDeadline(), 1);
    assert.equal(t.advanceTo(1000), true);
    assert.equal(t.pending, true);
    assert.equal(t.ticksUntilDeadline(), 0);
    assert.deepEqual(events, [true]);
  });

  it('set_timer acknowledges the pending interrupt', () => {
    const t = new MachineTimer();
    t.setDeadline(10);
    t.advanceBy(20);
    assert.equal(t.pending, true);
    t.setDeadline(50);
    assert.equal(t.pending, false);
    assert.equal(t.advanceBy(29), false);
    assert.equal(t.advanceBy(1), true);
  });

  it('a deadline already in the past is pending at once', () => {
    const t = new MachineTimer({ start: 500 });
    t.setDeadline(100);
    assert.equal(t.pending, true);
  });

  it('no deadline never fires; time never goes backwards', () => {
    const t = new MachineTimer();
    assert.equal(t.advanceTo(1e12), false);
    t.setDeadline(NO_DEADLINE);
    assert.equal(t.advanceBy(1e12), false);
    assert.equal(t.ticksUntilDeadline(), Infinity);
    t.advanceTo(5);
    assert.equal(t.now(), 2e12);
    t.setDeadline(3e12);
    t.clearDeadline();
    assert.equal(t.advanceTo(4e12), false);
  });

  it('converts like seL4 at 10 MHz', () => {
    assert.equal(usToTicks(1), 10);
    assert.equal(timerPrecisionTicks(), 10);
    assert.equal(ticksToUs(19), 1);
    assert.equal(ticksToUs(20), 2);
    assert.equal(ticksToNs(1), 100);
    assert.equal(nsToTicks(199), 1);
    assert.equal(ticksToNs(10_000_000), 1e9);
    assert.equal(ticksToNs(7, 3), 2333333333);
    assert.equal(nsToTicks(1e9, 3), 3);
    const t = new MachineTimer();
    t.advanceTo(usToTicks(1500));
    assert.equal(t.nowUs(), 1500);
    assert.equal(t.nowNs(), 1_500_000);
  });
});

describe('MMIO bus', () => {
  class Reg implements MmioDevice {
    readonly writes: [number, number, number][] = [];
    constructor(readonly base: number, readonly size: number, readonly name: string) {}
    read(offset: number): number {
      return 0xabcd0000 + offset;
    }
    write(offset: number, size: 1 | 2 | 4 | 8, value: number): void {
      this.writes.push([offset, size, value]);
    }
  }

  it('routes by address and passes offsets', () => {
    const bus = new MmioBus();
    const a = new Reg(0x1000, 0x100, 'a');
    const b = new Reg(0x3000, 0x1000, 'b');
    bus.attach(b);
    bus.attach(a);
    assert.deepEqual(bus.devices.map((d) => d.name), ['a', 'b']);
    assert.equal(bus.deviceAt(0x10ff), a);
    assert.equal(bus.deviceAt(0x1100), null);
    assert.equal(bus.read(0x1010, 4), 0xabcd0010);
    assert.equal(bus.read(0x3ff0, 2), 0x0ff0, 'truncated to the access size');
    assert.equal(bus.write(0x3008, 1, 0x1ff), MmioFault.None);
    assert.deepEqual(b.writes, [[8, 1, 0xff]]);
  });

  it('reports unmapped, misaligned, out-of-window and bad-size accesses without throwing', () => {
    const bus = new MmioBus();
    bus.attach(new Reg(0x1000, 0x100, 'a'));
    assert.equal(bus.read(0x2000, 4), MMIO_FAULT);
    assert.equal(bus.lastFault, MmioFault.Unmapped);
    assert.equal(bus.faultAddr, 0x2000);
    assert.equal(bus.write(0x5000, 8, 1), MmioFault.Unmapped);
    assert.equal(bus.read(0x1002, 4), MMIO_FAULT);
    assert.equal(bus.lastFault, MmioFault.Misaligned);
    assert.equal(bus.read(0x10fc, 8), MMIO_FAULT);
    assert.equal(bus.lastFault, MmioFault.Misaligned);
    assert.equal(bus.read(0x10f8, 8), 0xabcd00f8);
    bus.attach(new Reg(0x3000, 4, 'small'));
    assert.equal(bus.read(0x3000, 8), MMIO_FAULT, 'aligned but runs past the device');
    assert.equal(bus.lastFault, MmioFault.BadAccess);
    assert.equal(bus.read(0x3000, 4), 0xabcd0000);
    assert.equal(bus.read(0x1000, 3 as 1), MMIO_FAULT);
    assert.equal(bus.lastFault, MmioFault.BadSize);
    assert.equal(bus.isMapped(0x10ff, 1), true);
    assert.equal(bus.isMapped(0x10ff, 2), false);
  });

  it('rejects overlapping devices at construction', () => {
    const bus = new MmioBus();
    bus.attach(new Reg(0x1000, 0x100, 'a'));
    assert.throws(() => bus.attach(new Reg(0x10f0, 0x20, 'b')), RangeError);
    bus.attach(new Reg(0x1100, 0x100, 'c'));
  });
});

describe('qemu virt memory map', () => {
  it('defaults', () => {
    const cfg = defaultVirtConfig();
    assert.equal(cfg.ramBase, 0x80000000);
    assert.equal(cfg.ramSize, 256 * MiB);
    assert.equal(cfg.timerFrequencyHz, 10_000_000);
    assert.deepEqual(ramRegions(cfg), [{ base: 0x80000000, size: 0x10000000 }]);
    assert.equal(SEL4_PLIC_MAX_IRQ, 128);
    assert.equal(SEL4_KERNEL_TIMER_IRQ, 129);
    assert.equal(isUserIrq(0), false);
    assert.equal(isUserIrq(128), true);
    assert.equal(isUserIrq(129), false);
    assert.throws(() => defaultVirtConfig({ ramSize: 1000 }), RangeError);
  });

  it('devices and interrupts', () => {
    const devs = new Map(virtDevices().map((d) => [d.name, d]));
    assert.deepEqual(
      [devs.get('uart0')!.base, devs.get('uart0')!.size, devs.get('uart0')!.irqs],
      [0x10000000, 0x100, [10]],
    );
    assert.deepEqual([devs.get('rtc')!.base, devs.get('rtc')!.irqs], [0x101000, [11]]);
    for (let i = 0; i < 8; i++) {
      const v = devs.get(`virtio${i}`)!;
      assert.deepEqual([v.base, v.size, v.irqs], [0x10001000 + i * 0x1000, 0x1000, [1 + i]]);
    }
    assert.equal(devs.get('plic')!.base, 0x0c000000);
    assert.equal(devs.get('plic')!.kernel, true);
    assert.equal(devs.get('clint')!.base, 0x02000000);
    assert.equal(devs.get('clint')!.kernel, true);
    assert.equal(devs.get('pcie-mmio-high')!.base, 16 * GiB);
  });

  it('kernel-reserved device frames are 2 MiB aligned', () => {
    assert.deepEqual(
      kernelDeviceFrames().map((f) => [f.name, f.base, f.size]),
      [
        ['clint', 0x2000000, 0x200000],
        ['plic', 0xc000000, 0x600000],
      ],
    );
  });

  it('RAM: SBI megapage, physBase, kernel image', () => {
    const cfg = defaultVirtConfig();
    assert.deepEqual(sbiRegion(cfg), { base: 0x80000000, size: 0x200000 });
    assert.equal(physBase(cfg), 0x80000000);
    assert.equal(kernelElfPaddr(cfg), 0x84000000);
    assert.deepEqual(kernelAvailableRam(cfg), [{ base: 0x80200000, size: 0x0fe00000 }]);
    const free = kernelFreeRam(cfg);
    assert.deepEqual(free, [
      { base: 0x80200000, size: 0x84000000 - 0x80200000 },
      { base: 0x84100000, size: 0x90000000 - 0x84100000 },
    ]);
  });

  it('device untypeds cover everything but kernel RAM and kernel devices (2 GiB matches seL4 PR #1403)', () => {
    const ranges = deviceUntypedRanges(defaultVirtConfig({ ramSize: 2 * GiB })).map((r) => [r.base, r.base + r.size]);
    assert.deepEqual(ranges, [
      [0x0, 0x2000000],
      [0x2200000, 0xc000000],
      [0xc600000, 0x80200000],
      [0x100000000, 0x8000000000],
    ]);
    const blocks = deviceUntypeds();
    assert.deepEqual(blocks[0], { paddr: 0, sizeBits: 25 });
    const total = blocks.reduce((s, b) => s + 2 ** b.sizeBits, 0);
    const want = deviceUntypedRanges().reduce((s, r) => s + r.size, 0);
    assert.equal(total, want);
    assert.equal(want, PADDR_USER_DEVICE_TOP - 0x0fe00000 - 0x200000 - 0x600000);
    // The UART page is inside a device untyped; the PLIC is not.
    const inUntyped = (pa: number) => blocks.some((b) => pa >= b.paddr && pa < b.paddr + 2 ** b.sizeBits);
    assert.equal(inUntyped(0x10000000), true);
    assert.equal(inUntyped(0x80000000), true, 'SBI region is device memory to seL4');
    assert.equal(inUntyped(0x0c000000), false);
    assert.equal(inUntyped(0x80200000), false);
  });

  it('untyped blocks are aligned, bounded and tile the range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 35 }), fc.integer({ min: 1, max: 2 ** 36 }), (s, len) => {
        const start = s * 16;
        const end = start + len * 16;
        let cur = start;
        for (const b of untypedBlocks(start, end)) {
          assert.equal(b.paddr, cur);
          assert.ok(b.sizeBits >= 4 && b.sizeBits <= 38);
          assert.equal(b.paddr % 2 ** b.sizeBits, 0);
          cur += 2 ** b.sizeBits;
        }
        assert.equal(cur, end);
      }),
    );
  });

  it('device regions are page aligned and usable by PhysicalMemory', () => {
    const regs = deviceRegions();
    assert.ok(regs.every((r) => r.base % 4096 === 0 && r.size % 4096 === 0));
    assert.ok(!regs.some((r) => r.name === 'plic' || r.name === 'clint'));
    assert.deepEqual(
      regs.find((r) => r.name === 'uart0'),
      { name: 'uart0', base: 0x10000000, size: 0x1000 },
    );
    assert.deepEqual(regs.find((r) => r.name === 'fw-cfg'), { name: 'fw-cfg', base: 0x10100000, size: 0x1000 });
    const cfg = defaultVirtConfig({ ramSize: 128 * MiB });
    const mem = new PhysicalMemory(ramRegions(cfg), deviceRegions(cfg));
    assert.equal(mem.isRam(0x80000000), true);
    assert.equal(mem.isRam(0x10000000), false);
  });

  it('device models are wired as qemu wires them', () => {
    const out: number[] = [];
    let seip = false;
    const m = createVirtDeviceModels(defaultVirtConfig(), { onTransmit: (b) => out.push(b), onExternalInterrupt: (l) => (seip = l) });
    m.bus.write(0x10000000, 1, 0x4f);
    assert.deepEqual(out, [0x4f]);
    m.bus.write(0x0c000000 + 4 * UART0_IRQ, 4, 1);
    m.bus.write(0x0c002080, 4, 1 << UART0_IRQ);
    m.bus.write(0x10000001, 1, IER_RDI);
    m.uart.inject('k');
    assert.equal(seip, true);
    assert.equal(m.bus.read(0x0c201004, 4), UART0_IRQ);
    assert.equal(m.bus.read(0x10000000, 1), 0x6b);
    m.bus.write(0x0c201004, 4, UART0_IRQ);
    assert.equal(seip, false);
    assert.equal(m.bus.read(0x10001000, 4), MMIO_FAULT, 'virtio-mmio is not modelled');
    assert.equal(m.timer.frequencyHz, 10_000_000);
  });
});
