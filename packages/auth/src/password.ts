// Password hashing is Better Auth's own (scrypt); Fleetplane never hashes passwords itself.
export { hashPassword, verifyPassword } from 'better-auth/crypto';
