'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { createColumnHelper } from '@tanstack/react-table';
import { GitBranchPlus, Plus } from 'lucide-react';
import { useState } from 'react';
import { toast } from 'sonner';
import { z } from 'zod';
import { RECIPE_OUTPUT_FORMATS, ZCreateRecipeInput, type TCreateRecipeInput } from '@fleetplane/contracts';
import type { RouterOutputs } from '@fleetplane/api';
import { QueryDataTable, type TableQueryState } from '~/components/data-table';
import { FormDialog } from '~/components/form-dialog';
import { Field } from '~/components/form-helpers';
import { useCan } from '~/components/session-context';
import { EmptyState, PageHeader, TableSkeleton } from '~/components/states';
import { Button } from '~/components/ui/button';
import { Input, NativeSelect, Textarea } from '~/components/ui/input';
import { useInvalidateRecipes } from '~/trpc/invalidate';
import { useTRPC } from '~/trpc/react';
import { DEFAULT_RECIPE_TABLE_STATE, type RecipeSort } from './table-state';

type Recipe = RouterOutputs['recipes']['list']['items'][number];
const col = createColumnHelper<Recipe>();

const lines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

/** The form edits parameters as JSON and command templates one argument per line, then pipes into the contract. */
const ZRecipeForm = z
  .object({
    name: z.string(),
    description: z.string(),
    outputFormat: z.enum(RECIPE_OUTPUT_FORMATS),
    tool: z.string(),
    toolVersion: z.string(),
    paramsJson: z.string(),
    commandTemplate: z.string(),
    qualityCommand: z.string(),
  })
  .transform((v, ctx) => {
    let params: unknown = {};
    try {
      params = JSON.parse(v.paramsJson || '{}');
    } catch (e) {
      ctx.addIssue({ code: 'custom', path: ['paramsJson'], message: `Not valid JSON: ${(e as Error).message}` });
      return z.NEVER;
    }
    const parsed = ZCreateRecipeInput.safeParse({
      name: v.name,
      description: v.description,
      outputFormat: v.outputFormat,
      tool: v.tool,
      toolVersion: v.toolVersion,
      params,
      commandTemplate: lines(v.commandTemplate),
      qualityCommand: lines(v.qualityCommand),
    });
    if (parsed.success) return parsed.data;
    // The contract's issues go next to the input that holds them (parameters live in the JSON box).
    for (const issue of parsed.error.issues) {
      const [first, ...rest] = issue.path.map(String);
      const field = first === 'params' ? 'paramsJson' : (first ?? 'name');
      ctx.addIssue({ code: 'custom', path: [field], message: rest.length ? `${rest.join('.')}: ${issue.message}` : issue.message });
    }
    return z.NEVER;
  });

type RecipeFormValues = z.input<typeof ZRecipeForm>;

function RecipeFormDialog({ recipe, trigger }: { recipe?: Recipe; trigger: React.ReactNode }) {
  const trpc = useTRPC();
  const invalidate = useInvalidateRecipes();
  const create = useMutation(trpc.recipes.create.mutationOptions());
  const newVersion = useMutation(trpc.recipes.newVersion.mutationOptions());
  const values: RecipeFormValues = recipe
    ? {
        name: recipe.name,
        description: recipe.description,
        outputFormat: recipe.outputFormat as RecipeFormValues['outputFormat'],
        tool: recipe.tool,
        toolVersion: recipe.toolVersion,
        paramsJson: JSON.stringify(recipe.params, null, 2),
        commandTemplate: recipe.commandTemplate.join('\n'),
        qualityCommand: recipe.qualityCommand.join('\n'),
      }
    : {
        name: '',
        description: '',
        outputFormat: 'gguf',
        tool: 'builtin',
        toolVersion: '1',
        paramsJson: '{\n  "target": { "format": "gguf", "type": "Q8_0" },\n  "thresholds": { "maxRelRmse": 0.02 }\n}',
        commandTemplate: '',
        qualityCommand: '',
      };
  return (
    <FormDialog<RecipeFormValues, TCreateRecipeInput, { name: string; version: number }>
      trigger={trigger}
      title={recipe ? `New version of ${recipe.name}` : 'New recipe'}
      description={
        recipe
          ? `Saves version ${recipe.version + 1}. Artifacts built with version ${recipe.version} keep it; the next builds use the new one.`
          : 'A recipe is versioned data: output format, tool and version, parameters and quality limits. Its digest is part of every artifact it builds.'
      }
      formLabel="Recipe form"
      schema={ZRecipeForm}
      values={values}
      contentClassName="max-w-2xl"
      submit={(v) => (recipe ? newVersion.mutateAsync(v) : create.mutateAsync(v))}
      onSuccess={async (r) => {
        toast.success(`Recipe ${r.name} v${r.version} saved`);
        await invalidate();
      }}
      submitLabel={recipe ? 'Save new version' : 'Create recipe'}
    >
      {({ register, formState: { errors } }) => (
        <>
          <Field label="Name" htmlFor="recipe-name" error={errors.name?.message}>
            <Input id="recipe-name" readOnly={!!recipe} aria-invalid={!!errors.name} {...register('name')} />
          </Field>
          <Field label="Description" htmlFor="recipe-description" error={errors.description?.message}>
            <Input id="recipe-description" aria-invalid={!!errors.description} {...register('description')} />
          </Field>
          <div className="grid grid-cols-3 gap-3">
            <Field label="Output format" htmlFor="recipe-format" error={errors.outputFormat?.message}>
              <NativeSelect id="recipe-format" {...register('outputFormat')}>
                {RECIPE_OUTPUT_FORMATS.map((f) => (
                  <option key={f} value={f}>
                    {f}
                  </option>
                ))}
              </NativeSelect>
            </Field>
            <Field label="Tool" htmlFor="recipe-tool" error={errors.tool?.message}>
              <Input id="recipe-tool" placeholder="builtin" aria-invalid={!!errors.tool} {...register('tool')} />
            </Field>
            <Field label="Tool version" htmlFor="recipe-tool-version" error={errors.toolVersion?.message}>
              <Input id="recipe-tool-version" aria-invalid={!!errors.toolVersion} {...register('toolVersion')} />
            </Field>
          </div>
          <Field label="Parameters (JSON)" htmlFor="recipe-params" error={errors.paramsJson?.message}>
            <Textarea
              id="recipe-params"
              rows={7}
              className="font-mono text-xs"
              aria-invalid={!!errors.paramsJson}
              {...register('paramsJson')}
            />
          </Field>
          <Field
            label="Command template (external tools; one argument per line)"
            htmlFor="recipe-command"
            error={errors.commandTemplate?.message}
          >
            <Textarea
              id="recipe-command"
              rows={4}
              className="font-mono text-xs"
              placeholder={'llama-quantize\n{input_file}\n{output_file}\nQ4_K_M\n{threads}'}
              {...register('commandTemplate')}
            />
          </Field>
          <Field label="Quality command (optional; one argument per line)" htmlFor="recipe-quality" error={errors.qualityCommand?.message}>
            <Textarea id="recipe-quality" rows={2} className="font-mono text-xs" {...register('qualityCommand')} />
          </Field>
        </>
      )}
    </FormDialog>
  );
}

function paramsSummary(r: Recipe): string {
  const p = r.params as { target?: Record<string, unknown>; scheme?: string; thresholds?: Record<string, number> };
  const target = p.scheme ?? (p.target ? Object.values(p.target).join(' ') : '');
  const limits = p.thresholds
    ? Object.entries(p.thresholds)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    : 'default limits';
  return `${target} · ${limits}`;
}

export function RecipesPage() {
  const trpc = useTRPC();
  const canEdit = useCan('operator');
  const [state, setState] = useState<TableQueryState<RecipeSort>>(DEFAULT_RECIPE_TABLE_STATE);
  const recipes = useQuery({ ...trpc.recipes.list.queryOptions(state), placeholderData: (prev) => prev });
  const columns = [
    col.accessor('name', {
      header: 'Recipe',
      enableSorting: true,
      cell: (c) => (
        <div>
          <p className="font-medium">{c.getValue()}</p>
          <p className="text-xs text-muted-foreground">{c.row.original.description}</p>
        </div>
      ),
    }),
    col.accessor('version', { header: 'Version', cell: (c) => <span className="tabular-nums">v{c.getValue()}</span> }),
    col.accessor('outputFormat', { header: 'Output' }),
    col.accessor('tool', { header: 'Tool', cell: (c) => `${c.getValue()} ${c.row.original.toolVersion}` }),
    col.display({ id: 'params', header: 'Parameters', cell: (c) => <span className="text-xs">{paramsSummary(c.row.original)}</span> }),
    col.accessor('digest', { header: 'Digest', cell: (c) => <span className="font-mono text-xs">{c.getValue().slice(7, 19)}</span> }),
    col.accessor('artifacts', { header: 'Artifacts', cell: (c) => <span className="tabular-nums">{c.getValue()}</span> }),
    ...(canEdit
      ? [
          col.display({
            id: 'actions',
            header: '',
            cell: (c) => (
              <RecipeFormDialog
                recipe={c.row.original}
                trigger={
                  <Button variant="ghost" size="sm" aria-label={`New version of ${c.row.original.name}`}>
                    <GitBranchPlus /> New version
                  </Button>
                }
              />
            ),
          }),
        ]
      : []),
  ];
  return (
    <div className="space-y-6">
      <PageHeader
        title="Recipes"
        description="How the quantise stage builds each format. Editing a recipe saves a new version; artifacts keep the version they were built with."
        actions={
          canEdit ? (
            <RecipeFormDialog
              trigger={
                <Button>
                  <Plus /> New recipe
                </Button>
              }
            />
          ) : null
        }
      />
      <QueryDataTable
        query={recipes}
        skeleton={<TableSkeleton rows={5} columns={7} />}
        testId="recipes"
        columns={columns}
        state={state}
        onStateChange={setState}
        getRowId={(r) => r.id}
        empty={<EmptyState title="No recipes" description="Create one to build a format the built-in recipes do not cover." />}
      />
    </div>
  );
}
