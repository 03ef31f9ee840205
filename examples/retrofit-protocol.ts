/**
 * Shared layout of examples/retrofit.system's memory regions (what a C system
 * would put in a header).
 */

/** crypto_buffer: the mission manager writes `length` bytes at 0 and PPCs crypto. */
export const CRYPTO_SEAL = 1;

/** camera_frames: a header then the pixels. */
export const FRAME_NUMBER = 0;
export const FRAME_LENGTH = 4;
export const FRAME_DATA = 64;
export const FRAME_BYTES = 256;
export const FRAMES_TO_CAPTURE = 3;

/** linux_mailbox: reports from the mission manager, and one reply slot for linux. */
export const MAILBOX_COUNT = 0;
export const MAILBOX_REPORTS = 64;
export const MAILBOX_REPORT_SIZE = 64;
export const MAILBOX_MAX_REPORTS = 16;
export const MAILBOX_REPLY = 2048;
