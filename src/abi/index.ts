// The seL4 13.0.0 ABI for riscv64 MCS (qemu-riscv-virt, debug build). See docs/abi-facts.md.
export * from './constants.js';
export * from './registers.js';
export * from './messageinfo.js';
export * from './ipcbuffer.js';
export * from './bootinfo.js';
