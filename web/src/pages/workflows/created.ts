/** The workflow just created here, so its page can say so once (paths carry only ids). */
let justCreated: string | null = null;

export function noteCreated(id: string): void {
  justCreated = id;
}

export function takeCreated(id: string): boolean {
  if (justCreated !== id) return false;
  justCreated = null;
  return true;
}
