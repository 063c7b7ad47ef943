import { describe, expect, it } from 'vitest';
import { ROLES } from '@fleetplane/contracts';
import { roleAtLeast } from './roles';

describe('roleAtLeast', () => {
  it('orders viewer < operator < approver < admin', () => {
    for (const [i, actual] of ROLES.entries()) {
      for (const [j, required] of ROLES.entries()) {
        expect(roleAtLeast(actual, required)).toBe(i >= j);
      }
    }
  });
});
