import { createCipheriv, createDecipheriv } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Export files at rest: AES-256-GCM in independent segments (each with its own nonce and tag), so
 * a file of any size is written and read back in constant memory, and every byte handed to a
 * reader has been authenticated first. The nonce is the segment number under a key used for one
 * file only; the additional data binds each segment to its export, its number and whether it is
 * the last, so segments cannot be reordered, moved between files or cut off at the end.
 *
 * File: "LXE1" | segments. Segment: u32 BE (plaintext length | 0x80000000 on the last) | ciphertext | 16-byte tag.
 */
const MAGIC = Buffer.from('LXE1');
export const SEGMENT_BYTES = 64 * 1024;
const FINAL = 0x80000000;
const TAG_BYTES = 16;

function nonceOf(index: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(Math.floor(index / 2 ** 32), 4);
  nonce.writeUInt32BE(index >>> 0, 8);
  return nonce;
}

function aadOf(binding: string, index: number, final: boolean): Buffer {
  return Buffer.from(`lethe-export:${binding}:${index}:${final ? 1 : 0}`);
}

export class SealedFileError extends Error {}

/** Encrypts a byte stream into the sealed format. `binding` is the export id. */
export function sealStream(key: Buffer, binding: string): Transform {
  let index = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let wroteHeader = false;

  const segment = (plain: Buffer, final: boolean): Buffer => {
    const cipher = createCipheriv('aes-256-gcm', key, nonceOf(index));
    cipher.setAAD(aadOf(binding, index, final));
    const body = cipher.update(plain);
    cipher.final();
    const head = Buffer.alloc(4);
    head.writeUInt32BE((plain.length | (final ? FINAL : 0)) >>> 0);
    index++;
    return Buffer.concat([head, body, cipher.getAuthTag()]);
  };

  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      if (!wroteHeader) {
        this.push(MAGIC);
        wroteHeader = true;
      }
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= SEGMENT_BYTES) {
        let all = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
        let offset = 0;
        while (all.length - offset >= SEGMENT_BYTES) {
          this.push(segment(all.subarray(offset, offset + SEGMENT_BYTES), false));
          offset += SEGMENT_BYTES;
        }
        all = all.subarray(offset);
        pending = all.length ? [Buffer.from(all)] : [];
        pendingBytes = all.length;
      }
      done();
    },
    flush(done: TransformCallback) {
      if (!wroteHeader) this.push(MAGIC);
      this.push(segment(Buffer.concat(pending, pendingBytes), true));
      pending = [];
      done();
    },
  });
}

/** Decrypts the sealed format; fails (emitting nothing more) on any altered, reordered or missing segment. */
export function openStream(key: Buffer, binding: string): Transform {
  let buffered: Buffer = Buffer.alloc(0);
  let index = 0;
  let headerSeen = false;
  let finished = false;

  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      try {
        if (!headerSeen) {
          if (buffered.length < MAGIC.length) return done();
          if (!buffered.subarray(0, MAGIC.length).equals(MAGIC)) throw new SealedFileError('not a sealed export file');
          buffered = buffered.subarray(MAGIC.length);
          headerSeen = true;
        }
        while (buffered.length >= 4) {
          if (finished) throw new SealedFileError('data after the last segment');
          const head = buffered.readUInt32BE(0);
          const final = (head & FINAL) !== 0;
          const length = head & ~FINAL;
          if (length > SEGMENT_BYTES) throw new SealedFileError('segment too large');
          const total = 4 + length + TAG_BYTES;
          if (buffered.length < total) break;
          const decipher = createDecipheriv('aes-256-gcm', key, nonceOf(index));
          decipher.setAAD(aadOf(binding, index, final));
          decipher.setAuthTag(buffered.subarray(4 + length, total));
          const plain = decipher.update(buffered.subarray(4, 4 + length));
          decipher.final();
          index++;
          buffered = buffered.subarray(total);
          if (plain.length) this.push(plain);
          if (final) finished = true;
        }
        done();
      } catch (error) {
        done(error instanceof SealedFileError ? error : new SealedFileError('the export file is damaged or was altered'));
      }
    },
    flush(done: TransformCallback) {
      if (!finished || buffered.length) return done(new SealedFileError('the export file is incomplete'));
      done();
    },
  });
}
