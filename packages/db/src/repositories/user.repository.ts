import type { Db } from '../client';
import type { Prisma, Role } from '../generated/prisma/client';

export type UserSortField = 'email' | 'name' | 'role' | 'createdAt';

export class UserRepository {
  constructor(private readonly db: Db) {}

  async list(q: { skip: number; take: number; sortBy: UserSortField; sortDir: 'asc' | 'desc'; search?: string; role?: Role }) {
    const where: Prisma.UserWhereInput = {
      role: q.role,
      OR: q.search
        ? [{ email: { contains: q.search, mode: 'insensitive' } }, { name: { contains: q.search, mode: 'insensitive' } }]
        : undefined,
    };
    const [items, total] = await Promise.all([
      this.db.user.findMany({
        where,
        orderBy: [{ [q.sortBy]: q.sortDir }, { email: 'asc' }],
        skip: q.skip,
        take: q.take,
        select: {
          id: true,
          email: true,
          name: true,
          role: true,
          disabledAt: true,
          createdAt: true,
          _count: { select: { sessions: true } },
        },
      }),
      this.db.user.count({ where }),
    ]);
    return { items, total };
  }

  get(id: string) {
    return this.db.user.findUnique({
      where: { id },
      select: { id: true, email: true, name: true, role: true, disabledAt: true, createdAt: true },
    });
  }

  findByEmail(email: string) {
    return this.db.user.findUnique({ where: { email: email.toLowerCase() } });
  }

  countAdmins() {
    return this.db.user.count({ where: { role: 'admin', disabledAt: null } });
  }

  /** Creates a credential user the way Better Auth stores one (user row + account row holding the hash). */
  async createWithPassword(data: { id: string; email: string; name: string; role: Role; passwordHash: string }) {
    const user = await this.db.user.create({
      data: { id: data.id, email: data.email.toLowerCase(), name: data.name, role: data.role, emailVerified: true },
    });
    await this.db.account.create({
      data: { id: `${data.id}-credential`, accountId: data.id, providerId: 'credential', userId: data.id, password: data.passwordHash },
    });
    return user;
  }

  setPasswordHash(userId: string, passwordHash: string) {
    return this.db.account.updateMany({ where: { userId, providerId: 'credential' }, data: { password: passwordHash } });
  }

  update(id: string, data: Prisma.UserUpdateInput) {
    return this.db.user.update({ where: { id }, data });
  }

  revokeSessions(userId: string) {
    return this.db.session.deleteMany({ where: { userId } });
  }
}
