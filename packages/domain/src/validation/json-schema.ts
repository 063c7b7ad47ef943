import type { TJsonSchema, TJsonSchemaType } from '@fleetplane/contracts';

/**
 * A validator for the JSON-schema subset tool parameters use: type, properties, required, enum,
 * items, minimum/maximum, additionalProperties. Unknown keywords never reach here (the contracts
 * schema rejects them), so nothing is silently ignored.
 */

export interface TSchemaError {
  /** JSONPath-like location, "$" for the root: $.attendees[1] */
  path: string;
  message: string;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasType(value: unknown, type: TJsonSchemaType): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isInteger(value)) return 'integer';
  return typeof value;
}

function childPath(path: string, key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

export function validateJsonSchema(schema: TJsonSchema, value: unknown, path = '$'): TSchemaError[] {
  const errors: TSchemaError[] = [];
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => hasType(value, t))) {
      errors.push({ path, message: `must be ${types.join(' or ')}, got ${describe(value)}` });
      return errors;
    }
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => e === value)) {
    errors.push({ path, message: `must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(value)}` });
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) errors.push({ path, message: `must be ≥ ${schema.minimum}, got ${value}` });
    if (schema.maximum !== undefined && value > schema.maximum) errors.push({ path, message: `must be ≤ ${schema.maximum}, got ${value}` });
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => errors.push(...validateJsonSchema(schema.items!, item, `${path}[${i}]`)));
  }
  if (isPlainObject(value)) {
    for (const key of schema.required ?? []) {
      if (!Object.hasOwn(value, key)) errors.push({ path: childPath(path, key), message: 'is required' });
    }
    for (const [key, v] of Object.entries(value)) {
      const prop = schema.properties?.[key];
      if (prop) errors.push(...validateJsonSchema(prop, v, childPath(path, key)));
      else if (schema.additionalProperties === false)
        errors.push({ path: childPath(path, key), message: 'is not allowed (additionalProperties: false)' });
      else if (isPlainObject(schema.additionalProperties))
        errors.push(...validateJsonSchema(schema.additionalProperties, v, childPath(path, key)));
    }
  }
  return errors;
}

export function formatSchemaErrors(errors: readonly TSchemaError[]): string[] {
  return errors.map((e) => `${e.path} ${e.message}`);
}
