// seL4_IPCBuffer layout on riscv64 (libsel4/include/sel4/shared_types.h):
//   seL4_MessageInfo_t tag;                       1 word
//   seL4_Word msg[seL4_MsgMaxLength];             120 words
//   seL4_Word userData;                           1 word
//   seL4_Word caps_or_badges[seL4_MsgMaxExtraCaps]; 3 words
//   seL4_CPtr receiveCNode;                       1 word
//   seL4_CPtr receiveIndex;                       1 word
//   seL4_Word receiveDepth;                       1 word
// = 128 words = 1024 bytes; the struct is aligned to its own size.
// The kernel rejects a TCB IPC buffer address that is not 2^seL4_IPCBufferSizeBits aligned
// (seL4_AlignmentError), so a buffer never crosses a 4 KiB page.

import { seL4_MsgMaxExtraCaps, seL4_MsgMaxLength, seL4_WordBytes } from './constants.js';

export const IPCBUF_TAG = 0;
export const IPCBUF_MSG = IPCBUF_TAG + seL4_WordBytes; // 8
export const IPCBUF_USERDATA = IPCBUF_MSG + seL4_MsgMaxLength * seL4_WordBytes; // 968
export const IPCBUF_CAPS_OR_BADGES = IPCBUF_USERDATA + seL4_WordBytes; // 976
export const IPCBUF_RECEIVE_CNODE = IPCBUF_CAPS_OR_BADGES + seL4_MsgMaxExtraCaps * seL4_WordBytes; // 1000
export const IPCBUF_RECEIVE_INDEX = IPCBUF_RECEIVE_CNODE + seL4_WordBytes; // 1008
export const IPCBUF_RECEIVE_DEPTH = IPCBUF_RECEIVE_INDEX + seL4_WordBytes; // 1016
export const IPCBUF_SIZE = IPCBUF_RECEIVE_DEPTH + seL4_WordBytes; // 1024
export { seL4_IPCBufferSizeBits } from './constants.js';
/** Required alignment of the IPC buffer, in bytes. */
export const IPCBUF_ALIGN = IPCBUF_SIZE;

/** Word indices (for a BigUint64Array / paired Uint32Array view over the buffer). */
export const IPCBUF_WORD_TAG = 0;
export const IPCBUF_WORD_MSG = 1;
export const IPCBUF_WORD_USERDATA = 121;
export const IPCBUF_WORD_CAPS_OR_BADGES = 122;
export const IPCBUF_WORD_RECEIVE_CNODE = 125;
export const IPCBUF_WORD_RECEIVE_INDEX = 126;
export const IPCBUF_WORD_RECEIVE_DEPTH = 127;
export const IPCBUF_WORDS = 128;

/** Byte offset of msg[i]. MR i (i >= 4) is read from here; MR0..3 normally live in a2..a5. */
export function ipcBufMsgOffset(i: number): number {
  return IPCBUF_MSG + i * seL4_WordBytes;
}
/** Byte offset of caps_or_badges[i]. */
export function ipcBufCapOffset(i: number): number {
  return IPCBUF_CAPS_OR_BADGES + i * seL4_WordBytes;
}
