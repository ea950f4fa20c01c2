import { randomBytes } from 'node:crypto';

// One randomBytes call per id costs several microseconds (a system call each); bulk paths mint
// hundreds of thousands, so random bytes are drawn 4 KiB at a time and sliced.
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = POOL_BYTES;

// Ids minted from the current time within one millisecond count up (RFC 9562's counter in the
// 12 rand_a bits, seeded at random each millisecond), so rows written in order sort in order even
// when many land in the same millisecond (a workflow batch's history lines).
let lastMs = -1;
let counter = 0;

/**
 * UUIDv7: time-ordered, so new rows append to the end of primary-key indexes on both engines
 * and ids double as a stable tiebreak for cursor pagination. Without `at`, ids of one process are
 * strictly increasing; with it (a creation time from the injected clock) they sort by that time.
 */
export function newId(at?: number): string {
  if (poolOffset + 16 > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + 16));
  poolOffset += 16;
  let ms = at ?? Date.now();
  // A fresh counter for a new millisecond: below 2048, room to count up within it.
  const fresh = ((bytes[6] & 0x07) << 8) | bytes[7];
  if (at !== undefined) counter = ((bytes[6] & 0x0f) << 8) | bytes[7];
  else if (ms > lastMs) {
    lastMs = ms;
    counter = fresh;
  } else if (counter < 0xfff) {
    // The same millisecond (or a clock that stepped back): count up from the last id.
    ms = lastMs;
    counter++;
  } else {
    // 4,096 ids in one millisecond spend the counter: borrow the next millisecond (RFC 9562 §6.2).
    ms = lastMs = lastMs + 1;
    counter = fresh;
  }
  bytes[0] = (ms / 2 ** 40) & 0xff;
  bytes[1] = (ms / 2 ** 32) & 0xff;
  bytes[2] = (ms >>> 24) & 0xff;
  bytes[3] = (ms >>> 16) & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
