/** sel4ts user level: libsel4 for TypeScript threads. */
export * from './libsel4.js';
export * from './invocations.js';
export { UserThread, currentThread, SYSCALL_SITE } from './thread.js';
export type { Program } from './thread.js';
export * from './vka.js';
export * from './elfloader.js';
