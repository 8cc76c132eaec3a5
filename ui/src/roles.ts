// The service's roles, as `GET /api/v1/me` names them: each may do what the ones before it may
// (reader < cashier < manager < admin). The screens ask these only to show what a key may
// open; the service checks every request itself.

export type Role = 'reader' | 'cashier' | 'manager' | 'admin';

const RANK: Record<Role, number> = { reader: 0, cashier: 1, manager: 2, admin: 3 };

export function parseRole(s: string): Role | null {
  return Object.hasOwn(RANK, s) ? (s as Role) : null;
}

/** `have` may do what `need` may. */
export function atLeast(have: Role | null | undefined, need: Role): boolean {
  return have != null && RANK[have] >= RANK[need];
}

/** "a manager key", "an admin key". */
export function aKey(role: Role): string {
  return `${role === 'admin' ? 'an' : 'a'} ${role} key`;
}
