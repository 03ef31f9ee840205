/**
 * NS16550A UART as qemu's serial device presents it to the guest on the
 * riscv virt machine (UART0 at 0x10000000, PLIC source 10, regshift 0).
 *
 * Register semantics follow qemu's hw/char/serial.c:
 *  - offset 0: RBR (read) / THR (write); DLL when LCR.DLAB is set
 *  - offset 1: IER (low 4 bits); DLM when LCR.DLAB is set
 *  - offset 2: IIR (read) / FCR (write)
 *  - offset 3: LCR, 4: MCR (low 5 bits), 5: LSR, 6: MSR, 7: SCR
 * Only the low three address bits select a register; qemu maps the device as
 * an 8-byte region (8 << regshift), so that is the decoded size here, while
 * the device tree describes a 0x100-byte window. Any access width reaches the
 * single addressed byte register, zero-extended on reads and truncated to 8
 * bits on writes.
 *
 * Timing is collapsed to zero: a byte written to THR leaves immediately
 * (THRE and TEMT are set again before the write returns), and the receive
 * FIFO's character-timeout fires as soon as data is below the trigger level.
 * Host input is queued without limit and moved into RBR / the 16-byte FIFO
 * as the guest drains it, like qemu's chardev back-pressure, so host input
 * never overruns.
 */

import type { AccessSize, MmioDevice } from './mmio.js';

export const UART_RBR = 0;
export const UART_THR = 0;
export const UART_DLL = 0;
export const UART_IER = 1;
export const UART_DLM = 1;
export const UART_IIR = 2;
export const UART_FCR = 2;
export const UART_LCR = 3;
export const UART_MCR = 4;
export const UART_LSR = 5;
export const UART_MSR = 6;
export const UART_SCR = 7;

export const LCR_DLAB = 0x80;

export const IER_RDI = 0x01;
export const IER_THRI = 0x02;
export const IER_RLSI = 0x04;
export const IER_MSI = 0x08;

export const IIR_NO_INT = 0x01;
export const IIR_ID_MASK = 0x06;
export const IIR_MSI = 0x00;
export const IIR_THRI = 0x02;
export const IIR_RDI = 0x04;
export const IIR_RLSI = 0x06;
export const IIR_CTI = 0x0c;
export const IIR_FIFO_ENABLED = 0xc0;

export const FCR_FE = 0x01;
export const FCR_RFR = 0x02;
export const FCR_XFR = 0x04;
export const FCR_DMS = 0x08;
export const FCR_ITL_MASK = 0xc0;

export const MCR_DTR = 0x01;
export const MCR_RTS = 0x02;
export const MCR_OUT1 = 0x04;
export const MCR_OUT2 = 0x08;
export const MCR_LOOP = 0x10;

export const LSR_DR = 0x01;
export const LSR_OE = 0x02;
export const LSR_PE = 0x04;
export const LSR_FE = 0x08;
export const LSR_BI = 0x10;
export const LSR_THRE = 0x20;
export const LSR_TEMT = 0x40;
/** Status bits that raise the receiver line status interrupt. */
export const LSR_INT_ANY = 0x1e;

export const MSR_DCTS = 0x01;
export const MSR_DDSR = 0x02;
export const MSR_TERI = 0x04;
export const MSR_DDCD = 0x08;
export const MSR_CTS = 0x10;
export const MSR_DSR = 0x20;
export const MSR_RI = 0x40;
export const MSR_DCD = 0x80;
export const MSR_ANY_DELTA = 0x0f;

/** Depth of the 16550A receive and transmit FIFOs. */
export const UART_FIFO_LENGTH = 16;
/** Input clock qemu gives the virt UART (serial_mm_init baudbase); the device tree says clock-frequency 3686400. */
export const UART_BAUDBASE = 399193;

export interface Uart16550Options {
  /** Physical base address (default 0x10000000, qemu virt UART0). */
  base?: number;
  /** Receives every transmitted byte, in order. */
  onTransmit?: (byte: number) => void;
  /** Interrupt line towards the PLIC; called when the level changes. */
  onIrq?: (level: boolean) => void;
  name?: string;
}

function fifoTriggerLevel(fcr: number): number {
  switch (fcr & FCR_ITL_MASK) {
    case 0x00:
      return 1;
    case 0x40:
      return 4;
    case 0x80:
      return 8;
    default:
      return 14;
  }
}

export class Uart16550 implements MmioDevice {
  readonly name: string;
  readonly base: number;
  /** qemu's serial region is 8 << regshift bytes; regshift is 0 on virt. */
  readonly size = 8;

  onTransmit: ((byte: number) => void) | null;
  onIrq: ((level: boolean) => void) | null;

  private rbr = 0;
  private ier = 0;
  private iir = IIR_NO_INT;
  private lcr = 0;
  private mcr = MCR_OUT2;
  private lsr = LSR_TEMT | LSR_THRE;
  private msr = MSR_DCD | MSR_DSR | MSR_CTS;
  private scr = 0;
  private fcr = 0;
  private divider = 0x0c;
  private thrIPending = false;
  private timeoutIPending = false;
  private itl = 1;
  /** Receive FIFO contents (used when FCR.FE is set). */
  private rxFifo: number[] = [];
  /** Host input not yet accepted by the UART. */
  private hostQueue: number[] = [];
  private hostHead = 0;
  private level = false;

  constructor(opts: Uart16550Options = {}) {
    this.base = opts.base ?? 0x10000000;
    this.name = opts.name ?? 'uart0';
    this.onTransmit = opts.onTransmit ?? null;
    this.onIrq = opts.onIrq ?? null;
  }

  /** Current level of the interrupt output. */
  get irqLevel(): boolean {
    return this.level;
  }

  /** The 16-bit baud divisor latch (DLM:DLL). */
  get divisor(): number {
    return this.divider;
  }

  /** Bytes of host input not yet read by the guest (RBR/FIFO plus the host queue). */
  get pendingInput(): number {
    const inUart = this.fcr & FCR_FE ? this.rxFifo.length : this.lsr & LSR_DR ? 1 : 0;
    return inUart + (this.hostQueue.length - this.hostHead);
  }

  /** Return to qemu's reset state (callbacks are kept, queued host input is dropped). */
  reset(): void {
    this.rbr = 0;
    this.ier = 0;
    this.iir = IIR_NO_INT;
    this.lcr = 0;
    this.lsr = LSR_TEMT | LSR_THRE;
    this.msr = MSR_DCD | MSR_DSR | MSR_CTS;
    this.divider = 0x0c;
    this.mcr = MCR_OUT2;
    this.scr = 0;
    this.fcr = 0;
    this.itl = 1;
    this.thrIPending = false;
    this.timeoutIPending = false;
    this.rxFifo.length = 0;
    this.hostQueue.length = 0;
    this.hostHead = 0;
    this.setLevel(false);
  }

  /** Queue host input (keyboard, test harness) for the guest. */
  inject(bytes: Iterable<number> | string): void {
    if (typeof bytes === 'string') {
      for (const b of new TextEncoder().encode(bytes)) this.hostQueue.push(b);
    } else {
      for (const b of bytes) this.hostQueue.push(b & 0xff);
    }
    this.acceptInput();
  }

  /** Host signals a line break: a NUL byte with LSR.BI (qemu serial_receive_break). */
  injectBreak(): void {
    this.rbr = 0;
    this.rxPutFifo(0);
    this.lsr |= LSR_BI | LSR_DR;
    this.updateIrq();
  }

  read(offset: number, _size: AccessSize): number {
    switch (offset & 7) {
      case 0:
        return this.readRbr();
      case 1:
        return this.lcr & LCR_DLAB ? (this.divider >> 8) & 0xff : this.ier;
      case 2: {
        const ret = this.iir;
        // Reading IIR while it reports THRE clears that interrupt.
        if ((ret & IIR_ID_MASK) === IIR_THRI) {
          this.thrIPending = false;
          this.updateIrq();
        }
        return ret;
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5: {
        const ret = this.lsr;
        if (this.lsr & (LSR_BI | LSR_OE)) {
          this.lsr &= ~(LSR_BI | LSR_OE);
          this.updateIrq();
        }
        return ret;
      }
      case 6: {
        if (this.mcr & MCR_LOOP) {
          // Loopback: OUT2/OUT1 -> DCD/RI, RTS -> CTS, DTR -> DSR.
          return ((this.mcr & 0x0c) << 4) | ((this.mcr & 0x02) << 3) | ((this.mcr & 0x01) << 5);
        }
        const ret = this.msr;
        if (this.msr & MSR_ANY_DELTA) {
          this.msr &= 0xf0;
          this.updateIrq();
        }
        return ret;
      }
      default:
        return this.scr;
    }
  }

  write(offset: number, _size: AccessSize, value: number): void {
    const v = value & 0xff;
    switch (offset & 7) {
      case 0:
        if (this.lcr & LCR_DLAB) {
          this.divider = (this.divider & 0xff00) | v;
        } else {
          this.transmit(v);
        }
        break;
      case 1:
        if (this.lcr & LCR_DLAB) {
          this.divider = (this.divider & 0x00ff) | (v << 8);
        } else {
          this.ier = v & 0x0f;
          // Enabling THRI while the holding register is empty interrupts at once.
          if (this.lsr & LSR_THRE) this.thrIPending = true;
          this.updateIrq();
        }
        break;
      case 2:
        this.writeFcr(v);
        break;
      case 3:
        this.lcr = v;
        break;
      case 4:
        this.mcr = v & 0x1f;
        // Leaving loopback reconnects the receive line to the host.
        if (!(this.mcr & MCR_LOOP)) this.acceptInput();
        break;
      case 5:
      case 6:
        // LSR and MSR are read-only.
        break;
      default:
        this.scr = v;
        break;
    }
  }

  private readRbr(): number {
    if (this.lcr & LCR_DLAB) return this.divider & 0xff;
    let ret: number;
    if (this.fcr & FCR_FE) {
      ret = this.rxFifo.length === 0 ? 0 : this.rxFifo.shift()!;
      if (this.rxFifo.length === 0) this.lsr &= ~(LSR_DR | LSR_BI);
      this.timeoutIPending = false;
    } else {
      ret = this.rbr;
      this.lsr &= ~(LSR_DR | LSR_BI);
    }
    // Outside loopback the host side may now deliver more input.
    if (!(this.mcr & MCR_LOOP)) this.acceptInputNoUpdate();
    this.armRxTimeout();
    this.updateIrq();
    return ret;
  }

  private transmit(byte: number): void {
    // The byte goes straight through the shift register: THR is empty again
    // before the store retires, and the THRE interrupt becomes pending.
    this.lsr &= ~LSR_THRE;
    this.thrIPending = false;
    if (this.mcr & MCR_LOOP) {
      this.receiveBytes(byte);
    } else {
      if (this.onTransmit !== null) this.onTransmit(byte);
    }
    this.lsr |= LSR_THRE | LSR_TEMT;
    this.thrIPending = true;
    this.updateIrq();
  }

  private writeFcr(value: number): void {
    let v = value & 0xff;
    if (this.fcr === v) return;
    // Toggling the enable flushes both FIFOs.
    if ((v ^ this.fcr) & FCR_FE) v |= FCR_XFR | FCR_RFR;
    if (v & FCR_RFR) {
      this.timeoutIPending = false;
      this.rxFifo.length = 0;
    }
    if (v & FCR_FE) {
      this.iir |= IIR_FIFO_ENABLED;
      this.itl = fifoTriggerLevel(v);
    } else {
      this.iir &= ~IIR_FIFO_ENABLED;
    }
    this.fcr = v & 0xc9;
    // As in qemu, a receive FIFO reset leaves LSR untouched; host input may refill it.
    this.acceptInputNoUpdate();
    this.armRxTimeout();
    this.updateIrq();
  }

  private rxPutFifo(byte: number): void {
    if (this.rxFifo.length < UART_FIFO_LENGTH) this.rxFifo.push(byte);
    else this.lsr |= LSR_OE;
  }

  /** A byte arrives on the receive line (host input or loopback). */
  private receiveBytes(byte: number): void {
    if (this.fcr & FCR_FE) {
      this.rxPutFifo(byte);
      this.lsr |= LSR_DR;
    } else {
      if (this.lsr & LSR_DR) this.lsr |= LSR_OE;
      this.rbr = byte;
      this.lsr |= LSR_DR;
    }
    this.armRxTimeout();
  }

  private canReceive(): boolean {
    if (this.mcr & MCR_LOOP) return false;
    if (this.fcr & FCR_FE) return this.rxFifo.length < UART_FIFO_LENGTH;
    return !(this.lsr & LSR_DR);
  }

  private acceptInputNoUpdate(): void {
    const q = this.hostQueue;
    while (this.hostHead < q.length && this.canReceive()) {
      this.receiveBytes(q[this.hostHead++]!);
    }
    if (this.hostHead === q.length) {
      q.length = 0;
      this.hostHead = 0;
    } else if (this.hostHead > 4096 && this.hostHead * 2 > q.length) {
      q.splice(0, this.hostHead);
      this.hostHead = 0;
    }
  }

  private acceptInput(): void {
    this.acceptInputNoUpdate();
    this.updateIrq();
  }

  /**
   * qemu raises the character-timeout interrupt when FIFO data sits unread
   * for four character times. With zero-time transmission the timeout is
   * taken as expired whenever data below the trigger level is waiting, so a
   * guest sees RDI at or above the trigger level and CTI for a short tail.
   */
  private armRxTimeout(): void {
    const n = this.rxFifo.length;
    this.timeoutIPending = (this.fcr & FCR_FE) !== 0 && n > 0 && n < this.itl;
  }

  private updateIrq(): void {
    let id = IIR_NO_INT;
    const ier = this.ier;
    if (ier & IER_RLSI && this.lsr & LSR_INT_ANY) {
      id = IIR_RLSI;
    } else if (ier & IER_RDI && this.timeoutIPending) {
      id = IIR_CTI;
    } else if (ier & IER_RDI && this.lsr & LSR_DR && (!(this.fcr & FCR_FE) || this.rxFifo.length >= this.itl)) {
      id = IIR_RDI;
    } else if (ier & IER_THRI && this.thrIPending) {
      id = IIR_THRI;
    } else if (ier & IER_MSI && this.msr & MSR_ANY_DELTA) {
      id = IIR_MSI;
    }
    this.iir = id | (this.iir & 0xf0);
    this.setLevel(id !== IIR_NO_INT);
  }

  private setLevel(level: boolean): void {
    if (level === this.level) return;
    this.level = level;
    if (this.onIrq !== null) this.onIrq(level);
  }
}
