import {
  ZCreateRecipeInput,
  ZRecipeFields,
  ZRecipeListInput,
  ZSetBuildTargetsInput,
  type TCreateRecipeInput,
  type TRecipeFields,
  type TRecipeListInput,
  type TSetBuildTargetsInput,
} from '@fleetplane/contracts';
import type { Db, Prisma } from '@fleetplane/db';
import {
  BUILTIN_RECIPES,
  builtinRecipe,
  checkBuildTarget,
  defaultRecipeNames,
  recipeDigest,
  type TClusterTraits,
} from '@fleetplane/domain';
import { withAudit, type ServiceContext } from '../context';
import { conflict, invalid, notFound } from '../errors';
import { listCatalogEngines, listCatalogGpus, matchCatalogGpu } from '../capacity/catalog.service';
import { clusterHardware } from '../capacity/planner.service';

export type RecipeRow = Prisma.QuantRecipeGetPayload<object>;

/** The stored row's content as the contract reads it (a row written by an older version is parsed again). */
export function recipeFieldsOf(row: RecipeRow): TRecipeFields {
  return ZRecipeFields.parse({
    description: row.description,
    outputFormat: row.outputFormat,
    tool: row.tool,
    toolVersion: row.toolVersion,
    params: row.params,
    commandTemplate: row.commandTemplate,
    qualityCommand: row.qualityCommand,
  });
}

function publicRecipe(row: RecipeRow & { createdBy?: { name: string; email: string } | null }) {
  return {
    id: row.id,
    name: row.name,
    version: row.version,
    description: row.description,
    outputFormat: row.outputFormat,
    tool: row.tool,
    toolVersion: row.toolVersion,
    params: row.params as Record<string, unknown>,
    commandTemplate: row.commandTemplate,
    qualityCommand: row.qualityCommand,
    digest: row.digest,
    createdAt: row.createdAt,
    createdBy: row.createdBy ? { name: row.createdBy.name, email: row.createdBy.email } : null,
  };
}

/**
 * The newest version of a recipe. A built-in recipe nobody stored yet is recorded as version 1 on first use,
 * so every artifact points at a real recipe row (its digest is computed from the same content either way).
 */
export async function resolveRecipe(db: Db, name: string): Promise<RecipeRow> {
  const latest = await db.quantRecipe.findFirst({ where: { name }, orderBy: { version: 'desc' } });
  if (latest) return latest;
  const builtin = builtinRecipe(name);
  if (!builtin) throw notFound(`Recipe "${name}"`);
  const { name: _n, ...fields } = builtin;
  // ON CONFLICT DO NOTHING (skipDuplicates), not create + catch: callers run this inside a transaction, and a
  // unique violation there aborts the whole transaction (25P02 on the next read) when another transaction
  // recorded the built-in first, e.g. the Models page listing build targets while a run resolves its recipes.
  await db.quantRecipe.createMany({
    data: [{ name, version: 1, ...fields, params: fields.params as object, digest: recipeDigest(fields) }],
    skipDuplicates: true,
  });
  return db.quantRecipe.findFirstOrThrow({ where: { name }, orderBy: { version: 'desc' } });
}

/** Every recipe's newest version: stored ones and the built-ins not stored yet (version 1 on first use). */
export async function listRecipes(ctx: Pick<ServiceContext, 'prisma'>, input: TRecipeListInput) {
  const q = ZRecipeListInput.parse(input);
  const rows = await ctx.prisma.quantRecipe.findMany({
    orderBy: [{ name: 'asc' }, { version: 'desc' }],
    include: { createdBy: { select: { name: true, email: true } }, _count: { select: { artifacts: true } } },
  });
  const latest = rows.filter((r, i) => i === 0 || rows[i - 1]!.name !== r.name);
  const items = latest.map((r) => ({
    ...publicRecipe(r),
    versions: rows.filter((x) => x.name === r.name).length,
    artifacts: r._count.artifacts,
  }));
  for (const b of BUILTIN_RECIPES) {
    if (items.some((i) => i.name === b.name)) continue;
    const { name, ...fields } = b;
    items.push({
      id: `builtin:${name}`,
      name,
      version: 1,
      description: fields.description,
      outputFormat: fields.outputFormat,
      tool: fields.tool,
      toolVersion: fields.toolVersion,
      params: fields.params as Record<string, unknown>,
      commandTemplate: fields.commandTemplate,
      qualityCommand: fields.qualityCommand,
      digest: recipeDigest(fields),
      createdAt: new Date(0),
      createdBy: null,
      versions: 1,
      artifacts: 0,
    });
  }
  const search = q.search?.toLowerCase();
  const filtered = search ? items.filter((i) => i.name.includes(search) || i.description.toLowerCase().includes(search)) : items;
  const dir = q.sortDir === 'desc' ? -1 : 1;
  filtered.sort((a, b) => dir * (q.sortBy === 'createdAt' ? a.createdAt.getTime() - b.createdAt.getTime() : a.name.localeCompare(b.name)));
  return {
    items: filtered.slice((q.page - 1) * q.pageSize, q.page * q.pageSize),
    total: filtered.length,
    page: q.page,
    pageSize: q.pageSize,
  };
}

/** All versions of one recipe, newest first (with how many artifacts each built). */
export async function recipeVersions(ctx: Pick<ServiceContext, 'prisma'>, name: string) {
  const rows = await ctx.prisma.quantRecipe.findMany({
    where: { name },
    orderBy: { version: 'desc' },
    include: { createdBy: { select: { name: true, email: true } }, _count: { select: { artifacts: true } } },
  });
  if (rows.length === 0) {
    const b = builtinRecipe(name);
    if (!b) throw notFound(`Recipe "${name}"`);
    return [];
  }
  return rows.map((r) => ({ ...publicRecipe(r), artifacts: r._count.artifacts }));
}

/**
 * Creates a recipe (version 1) or, when the name exists (or is a built-in), its next version. Recipes are never
 * edited in place: artifacts keep pointing at the version they were built with. Audited.
 */
export async function saveRecipe(ctx: ServiceContext, input: TCreateRecipeInput, opts: { mustBeNew?: boolean } = {}) {
  const data = ZCreateRecipeInput.parse(input);
  const { name, ...fields } = data;
  const createdById = ctx.actor.type === 'user' ? ctx.actor.id : null;
  return withAudit(ctx, async (tx, audit) => {
    const latest = await tx.quantRecipe.findFirst({ where: { name }, orderBy: { version: 'desc' } });
    if (opts.mustBeNew && (latest || builtinRecipe(name)))
      throw conflict(`A recipe named "${name}" exists; save a new version of it instead`, 'name');
    if (!latest && builtinRecipe(name)) await resolveRecipe(tx, name);
    const previous = latest ?? (await tx.quantRecipe.findFirst({ where: { name }, orderBy: { version: 'desc' } }));
    const digest = recipeDigest(fields);
    if (previous && previous.digest === digest && previous.description === fields.description)
      throw invalid('Nothing changed: this is the current version', 'params');
    const version = (previous?.version ?? 0) + 1;
    const row = await tx.quantRecipe.create({
      data: { name, version, ...fields, params: fields.params as object, digest, createdById },
    });
    await audit({
      action: version === 1 ? 'recipe.create' : 'recipe.new_version',
      targetType: 'quant_recipe',
      targetId: row.id,
      before: previous ? { version: previous.version, digest: previous.digest } : undefined,
      after: { name, version, digest, outputFormat: fields.outputFormat, tool: fields.tool },
    });
    return { id: row.id, name, version, digest };
  });
}

/** GPUs (catalog row of the cluster's most common GPU) and engine: what the compatibility rules need. */
export async function clusterTraits(db: Db, clusterId: string): Promise<TClusterTraits & { name: string }> {
  const ctx = { prisma: db as never };
  const [hw, gpus, engines] = await Promise.all([clusterHardware(db, clusterId), listCatalogGpus(ctx), listCatalogEngines(ctx)]);
  return {
    name: hw.name,
    gpu: hw.gpuModel ? matchCatalogGpu(gpus, hw.gpuModel) : null,
    engine: { kind: hw.engine, version: hw.engineVersion },
    engineSpec: engines.find((e) => e.kind === hw.engine) ?? null,
  };
}

/**
 * The recipes (newest versions) a revision of the repo is built with for the cluster: the operator's build targets,
 * or the defaults derived from the cluster's GPUs and engine when none are set.
 */
export async function buildTargetsFor(db: Db, input: { trackedRepoId: string; clusterId: string }) {
  const configured = await db.buildTarget.findMany({ where: input, orderBy: { recipeName: 'asc' } });
  if (configured.length) {
    const recipes = [];
    for (const t of configured) recipes.push(await resolveRecipe(db, t.recipeName));
    return { source: 'configured' as const, recipes, notes: [] as string[] };
  }
  const traits = await clusterTraits(db, input.clusterId);
  const defaults = defaultRecipeNames(traits);
  const recipes = [];
  for (const name of defaults.names) recipes.push(await resolveRecipe(db, name));
  return { source: 'default' as const, recipes, notes: defaults.notes };
}

/** Build targets of a tracked repo for every cluster (configured or default), for its page. */
export async function listBuildTargets(ctx: Pick<ServiceContext, 'prisma'>, trackedRepoId: string) {
  const repo = await ctx.prisma.trackedRepo.findUnique({ where: { id: trackedRepoId }, select: { id: true } });
  if (!repo) throw notFound('Tracked repo', trackedRepoId);
  const clusters = await ctx.prisma.cluster.findMany({ orderBy: { name: 'asc' }, select: { id: true, name: true } });
  const out = [];
  for (const c of clusters) {
    const t = await ctx.prisma.$transaction((tx) => buildTargetsFor(tx, { trackedRepoId, clusterId: c.id }));
    out.push({
      clusterId: c.id,
      clusterName: c.name,
      source: t.source,
      notes: t.notes,
      recipes: t.recipes.map((r) => ({ id: r.id, name: r.name, version: r.version, outputFormat: r.outputFormat })),
    });
  }
  return out;
}

/**
 * Sets which recipes a (repo, cluster) builds; an empty list goes back to the defaults. A recipe whose output the
 * cluster cannot serve is refused with the compatibility rule's reason. Audited.
 */
export async function setBuildTargets(ctx: ServiceContext, input: TSetBuildTargetsInput) {
  const data = ZSetBuildTargetsInput.parse(input);
  const names = [...new Set(data.recipeNames)];
  return withAudit(ctx, async (tx, audit) => {
    const repo = await tx.trackedRepo.findUnique({ where: { id: data.trackedRepoId }, select: { id: true } });
    if (!repo) throw notFound('Tracked repo', data.trackedRepoId);
    const cluster = await tx.cluster.findUnique({ where: { id: data.clusterId }, select: { id: true } });
    if (!cluster) throw notFound('Cluster', data.clusterId);
    const traits = await clusterTraits(tx, data.clusterId);
    for (const name of names) {
      const recipe = await resolveRecipe(tx, name).catch(() => null);
      if (!recipe) throw invalid(`No recipe named "${name}"`, 'recipeNames');
      const verdict = checkBuildTarget({ name, ...recipeFieldsOf(recipe) }, traits);
      if (!verdict.ok) throw invalid(verdict.reason, 'recipeNames');
    }
    const before = await tx.buildTarget.findMany({ where: { trackedRepoId: data.trackedRepoId, clusterId: data.clusterId } });
    await tx.buildTarget.deleteMany({ where: { trackedRepoId: data.trackedRepoId, clusterId: data.clusterId } });
    if (names.length)
      await tx.buildTarget.createMany({
        data: names.map((recipeName) => ({ trackedRepoId: data.trackedRepoId, clusterId: data.clusterId, recipeName })),
      });
    await audit({
      action: 'build_targets.set',
      targetType: 'tracked_repo',
      targetId: data.trackedRepoId,
      before: { clusterId: data.clusterId, recipes: before.map((b) => b.recipeName) },
      after: { clusterId: data.clusterId, recipes: names },
    });
    return { trackedRepoId: data.trackedRepoId, clusterId: data.clusterId, recipeNames: names };
  });
}
