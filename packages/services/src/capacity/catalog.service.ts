import {
  ZCatalogGpuFields,
  ZUpdateApiPriceInput,
  ZUpdateCatalogEngineInput,
  ZUpdateCatalogGpuInput,
  type TCatalogGpuFields,
  type TUpdateApiPriceInput,
  type TUpdateCatalogEngineInput,
  type TUpdateCatalogGpuInput,
} from '@fleetplane/contracts';
import type { Db, Prisma, PrismaClient } from '@fleetplane/db';
import { DEFAULT_API_PRICES, DEFAULT_ENGINES, DEFAULT_GPUS, type TApiPrice, type TEngineSpec, type TGpuSpec } from '@fleetplane/domain';
import { withAudit, type ServiceContext } from '../context';
import { conflict, isUniqueViolation, notFound } from '../errors';

/**
 * The capacity catalogs (GPUs, engines, hosted API prices): read by everyone, edited by admins.
 * Every edit is audited with before/after, so the audit log is the catalog's version history.
 */

type GpuRow = Prisma.CatalogGpuGetPayload<object>;
type EngineRow = Prisma.CatalogEngineGetPayload<object>;
type PriceRow = Prisma.CatalogApiPriceGetPayload<object>;

export function toGpuSpec(row: GpuRow): TGpuSpec & { id: string } {
  return {
    id: row.id,
    model: row.model,
    vendor: row.vendor as TGpuSpec['vendor'],
    generation: row.generation as TGpuSpec['generation'],
    memoryMib: row.memoryMib,
    computeCapability: row.computeCapability,
    fp8TensorCores: row.fp8TensorCores,
    fp4TensorCores: row.fp4TensorCores,
    interconnect: row.interconnect,
    typicalHourlyUsd: row.typicalHourlyUsd === null ? null : Number(row.typicalHourlyUsd),
  };
}

export function toEngineSpec(row: EngineRow): TEngineSpec {
  return {
    kind: row.kind as TEngineSpec['kind'],
    label: row.label,
    servesV4: row.servesV4,
    minV4Version: row.minV4Version,
    minV4OfficialVersion: row.minV4OfficialVersion,
    minV4Source: row.minV4Source,
    formats: row.formats as TEngineSpec['formats'],
    hopperFp4MinVersion: row.hopperFp4MinVersion,
    hopperFp4Source: row.hopperFp4Source,
    images: (row.images ?? {}) as TEngineSpec['images'],
    needsTrustRemoteCode: row.needsTrustRemoteCode,
  };
}

export function toApiPrice(row: PriceRow): TApiPrice {
  return {
    family: row.family,
    inputPerM: Number(row.inputPerM),
    outputPerM: Number(row.outputPerM),
    cacheHitInputPerM: Number(row.cacheHitInputPerM),
    asOf: row.asOf.toISOString().slice(0, 10),
  };
}

export async function listCatalogGpus(ctx: { prisma: PrismaClient | Db }) {
  const rows = await ctx.prisma.catalogGpu.findMany({ orderBy: [{ vendor: 'asc' }, { memoryMib: 'asc' }, { model: 'asc' }] });
  return rows.map(toGpuSpec);
}

export async function listCatalogEngines(ctx: { prisma: PrismaClient | Db }) {
  const rows = await ctx.prisma.catalogEngine.findMany({ orderBy: { kind: 'asc' } });
  return rows.map(toEngineSpec);
}

export async function listApiPrices(ctx: Pick<ServiceContext, 'prisma'>) {
  const rows = await ctx.prisma.catalogApiPrice.findMany({ orderBy: { family: 'asc' } });
  return rows.map(toApiPrice);
}

function gpuData(data: TCatalogGpuFields) {
  return { ...data, typicalHourlyUsd: data.typicalHourlyUsd };
}

export async function createCatalogGpu(ctx: ServiceContext, input: TCatalogGpuFields) {
  const data = ZCatalogGpuFields.parse(input);
  try {
    return await withAudit(ctx, async (tx, audit) => {
      const row = await tx.catalogGpu.create({ data: gpuData(data) });
      await audit({ action: 'catalog.gpu.create', targetType: 'catalog_gpu', targetId: row.id, after: toGpuSpec(row) });
      return toGpuSpec(row);
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`The GPU catalog already has "${data.model}"`, 'model');
    throw e;
  }
}

export async function updateCatalogGpu(ctx: ServiceContext, input: TUpdateCatalogGpuInput) {
  const { id, data } = ZUpdateCatalogGpuInput.parse(input);
  try {
    return await withAudit(ctx, async (tx, audit) => {
      const before = await tx.catalogGpu.findUnique({ where: { id } });
      if (!before) throw notFound('Catalog GPU', id);
      const after = await tx.catalogGpu.update({ where: { id }, data: gpuData(data) });
      await audit({
        action: 'catalog.gpu.update',
        targetType: 'catalog_gpu',
        targetId: id,
        before: toGpuSpec(before),
        after: toGpuSpec(after),
      });
      return toGpuSpec(after);
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`The GPU catalog already has "${data.model}"`, 'model');
    throw e;
  }
}

export function deleteCatalogGpu(ctx: ServiceContext, id: string) {
  return withAudit(ctx, async (tx, audit) => {
    const before = await tx.catalogGpu.findUnique({ where: { id } });
    if (!before) throw notFound('Catalog GPU', id);
    await tx.catalogGpu.delete({ where: { id } });
    await audit({ action: 'catalog.gpu.delete', targetType: 'catalog_gpu', targetId: id, before: toGpuSpec(before) });
    return { id };
  });
}

export function updateCatalogEngine(ctx: ServiceContext, input: TUpdateCatalogEngineInput) {
  const { kind, data } = ZUpdateCatalogEngineInput.parse(input);
  return withAudit(ctx, async (tx, audit) => {
    const before = await tx.catalogEngine.findUnique({ where: { kind } });
    if (!before) throw notFound('Catalog engine', kind);
    const after = await tx.catalogEngine.update({ where: { kind }, data: { ...data, images: data.images as Prisma.InputJsonValue } });
    await audit({
      action: 'catalog.engine.update',
      targetType: 'catalog_engine',
      targetId: kind,
      before: toEngineSpec(before),
      after: toEngineSpec(after),
    });
    return toEngineSpec(after);
  });
}

/** Upsert: a new model family gets its price the first time an admin sets one. */
export function updateApiPrice(ctx: ServiceContext, input: TUpdateApiPriceInput) {
  const { family, data } = ZUpdateApiPriceInput.parse(input);
  return withAudit(ctx, async (tx, audit) => {
    const before = await tx.catalogApiPrice.findUnique({ where: { family } });
    const fields = { ...data, asOf: new Date(`${data.asOf}T00:00:00Z`) };
    const after = await tx.catalogApiPrice.upsert({ where: { family }, create: { family, ...fields }, update: fields });
    await audit({
      action: 'catalog.api_price.update',
      targetType: 'catalog_api_price',
      targetId: family,
      before: before ? toApiPrice(before) : null,
      after: toApiPrice(after),
    });
    return toApiPrice(after);
  });
}

/**
 * Inserts the baseline catalog rows that are missing, never overwriting an admin's edit. The
 * migration that created the tables inserted the same rows; the demo seed calls this too so a
 * database created before a default was added still gets it.
 */
export async function seedCapacityCatalogs(prisma: PrismaClient | Db) {
  await prisma.catalogGpu.createMany({ data: DEFAULT_GPUS.map((g) => ({ ...g })), skipDuplicates: true });
  await prisma.catalogEngine.createMany({
    data: DEFAULT_ENGINES.map((e) => ({ ...e, images: e.images as Prisma.InputJsonValue })),
    skipDuplicates: true,
  });
  await prisma.catalogApiPrice.createMany({
    data: DEFAULT_API_PRICES.map((p) => ({
      family: p.family,
      inputPerM: p.inputPerM,
      outputPerM: p.outputPerM,
      cacheHitInputPerM: p.cacheHitInputPerM,
      asOf: new Date(`${p.asOf}T00:00:00Z`),
    })),
    skipDuplicates: true,
  });
}

/** Finds the catalog row for an inventory GPU name ("NVIDIA H100 80GB HBM3"), ignoring case and spacing. */
export function matchCatalogGpu<T extends { model: string }>(catalog: readonly T[], model: string): T | null {
  const norm = (s: string) => s.toLowerCase().replace(/\s+/g, ' ').trim();
  const wanted = norm(model);
  return catalog.find((g) => norm(g.model) === wanted) ?? null;
}
