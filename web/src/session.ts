import { createContext, useContext } from 'react';
import type { SessionUser } from './types.ts';

export const SessionContext = createContext<SessionUser | null>(null);

export function useUser(): SessionUser {
  const user = useContext(SessionContext);
  if (!user) throw new Error('useUser outside a signed-in page');
  return user;
}

export function useCan(permission: string): boolean {
  return useContext(SessionContext)?.permissions.includes(permission) ?? false;
}
