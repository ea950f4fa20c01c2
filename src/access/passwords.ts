import { hash, verify } from '@node-rs/argon2';

// 2 = Algorithm.Argon2id (a const enum, which isolated modules cannot inline); OWASP's argon2id baseline.
const options = { algorithm: 2 as const, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export const hashPassword = (password: string) => hash(password, options);
export const verifyPassword = (stored: string, password: string) => verify(stored, password).catch(() => false);

/** Verifying against this keeps a failed login for an unknown user as slow as for a known one. */
let dummyHash: Promise<string> | undefined;
export const timingDummyHash = () => (dummyHash ??= hashPassword('lethe-timing-dummy'));

export const passwordRule = { min: 12, max: 256 } as const;
