import type { WhereExpressionBuilder } from 'typeorm';
import type { AppAbility } from './ability';
import type { SubjectType } from './subjects';

/** A WHERE fragment with its named parameters (`:name` placeholders, TypeORM style). */
export interface SqlCondition {
  sql: string;
  params: Record<string, unknown>;
}

export interface SqlScopeOptions {
  /**
   * Where a field lives. A bare column name is qualified with the alias; a value containing a dot
   * or a parenthesis is an SQL expression used as is (a joined table's column, say). Fields not
   * listed map to the alias's snake_case column: `organizationId` → `"p"."organization_id"`.
   */
  columns?: Record<string, string>;
}

/** The shape of CASL's parsed conditions (`rule.ast`, from @ucast): compound or field nodes. */
interface ConditionNode {
  operator: string;
  field?: string;
  value: unknown;
}

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

let sequence = 0;

class Translator {
  readonly params: Record<string, unknown> = {};
  private readonly prefix = `ab${(sequence = (sequence + 1) % Number.MAX_SAFE_INTEGER)}_`;
  private count = 0;

  constructor(
    private readonly alias: string,
    private readonly options: SqlScopeOptions,
  ) {}

  private param(value: unknown): string {
    const name = `${this.prefix}${this.count++}`;
    this.params[name] = value;
    return `:${name}`;
  }

  private column(field: string): string {
    const mapped = this.options.columns?.[field];
    if (mapped && /[.(]/.test(mapped)) return mapped;
    return `${quote(this.alias)}.${quote(mapped ?? snake(field))}`;
  }

  /**
   * SQL that is true exactly when CASL's matcher is true. NULL may stand for false only: every NOT
   * is written over COALESCE(…, false), and `$ne`/`$nin` match NULL columns as MongoDB does.
   */
  condition(node: ConditionNode): string {
    if (node.operator === 'and' || node.operator === 'or') {
      const parts = (node.value as ConditionNode[]).map((c) => this.condition(c));
      if (parts.length === 0) return node.operator === 'and' ? 'TRUE' : 'FALSE';
      return `(${parts.join(node.operator === 'and' ? ' AND ' : ' OR ')})`;
    }
    if (node.operator === 'not') {
      const inner = (Array.isArray(node.value) ? node.value[0] : node.value) as ConditionNode;
      return `NOT COALESCE(${this.condition(inner)}, FALSE)`;
    }
    const { value } = node;
    const field = node.field ?? '';
    const column = this.column(field);
    const scalar = (v: unknown) => v === null || v instanceof Date || typeof v !== 'object';
    if (!(Array.isArray(value) ? value.every(scalar) : scalar(value))) {
      throw new Error(
        `ability-to-sql: the condition on "${field}" compares with an object, which has no SQL translation`,
      );
    }
    switch (node.operator) {
      case 'eq':
        return value === null ? `${column} IS NULL` : `${column} = ${this.param(value)}`;
      case 'ne':
        return value === null ? `${column} IS NOT NULL` : `${column} IS DISTINCT FROM ${this.param(value)}`;
      case 'in': {
        const values = value as unknown[];
        const present = values.filter((v) => v !== null);
        const parts = [
          ...(present.length ? [`${column} = ANY(${this.param(present)})`] : []),
          ...(present.length < values.length ? [`${column} IS NULL`] : []),
        ];
        return parts.length === 0 ? 'FALSE' : parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
      }
      case 'nin': {
        const values = value as unknown[];
        const present = values.filter((v) => v !== null);
        const nullAllowed = present.length === values.length;
        if (present.length === 0) return nullAllowed ? 'TRUE' : `${column} IS NOT NULL`;
        const notIn = `${column} <> ALL(${this.param(present)})`;
        return nullAllowed ? `(${column} IS NULL OR ${notIn})` : notIn;
      }
      case 'lt':
        return `${column} < ${this.param(value)}`;
      case 'lte':
        return `${column} <= ${this.param(value)}`;
      case 'gt':
        return `${column} > ${this.param(value)}`;
      case 'gte':
        return `${column} >= ${this.param(value)}`;
      default:
        throw new Error(
          `ability-to-sql: the condition operator "${node.operator}" on "${field}" has no SQL translation`,
        );
    }
  }
}

/**
 * The rows of `subjectType` on which `ability` allows `action`, as an SQL condition on `alias`.
 *
 * CASL takes the first rule (in priority order) whose conditions match the object; the object is
 * allowed when that rule is not inverted. So a row is allowed when some allowing rule matches it
 * and no inverted rule of higher priority does:
 *   OR over allowing rules r of ( cond(r) AND NOT cond(i) for each inverted rule i before r ).
 * No rule → `1=0`; an unconditional allowing rule with no inverted rule before it → `1=1`.
 */
export function abilityToSql(
  ability: AppAbility,
  action: string,
  subjectType: SubjectType,
  alias: string,
  options: SqlScopeOptions = {},
): SqlCondition {
  const t = new Translator(alias, options);
  const denials: string[] = [];
  const terms: string[] = [];
  for (const rule of ability.rulesFor(action, subjectType)) {
    if (rule.fields)
      throw new Error('ability-to-sql: field-level rules restrict columns, not rows, and are not supported');
    const ast = rule.conditions ? (rule.ast as ConditionNode | undefined) : undefined;
    const condition = ast ? t.condition(ast) : null;
    if (rule.inverted) {
      if (condition === null) break; // nothing below an unconditional denial is reachable
      denials.push(`NOT COALESCE(${condition}, FALSE)`);
      continue;
    }
    const parts = [...(condition === null ? [] : [condition]), ...denials];
    if (parts.length === 0) return { sql: '1=1', params: {} };
    terms.push(parts.length === 1 ? parts[0] : `(${parts.join(' AND ')})`);
    if (condition === null) break; // everything below is already allowed by this rule
  }
  if (terms.length === 0) return { sql: '1=0', params: {} };
  return { sql: terms.length === 1 ? terms[0] : `(${terms.join(' OR ')})`, params: t.params };
}

/**
 * Narrows a query to the rows on which the ability allows `action`:
 *
 *   const qb = repo.createQueryBuilder('p');
 *   scopeToAbility(qb, ability, 'read', 'Project', 'p');
 *
 * Works on select, update and delete query builders (anything with `andWhere`).
 */
export function scopeToAbility<Q extends WhereExpressionBuilder>(
  qb: Q,
  ability: AppAbility,
  action: string,
  subjectType: SubjectType,
  alias: string,
  options?: SqlScopeOptions,
): Q {
  const { sql, params } = abilityToSql(ability, action, subjectType, alias, options);
  qb.andWhere(`(${sql})`, params);
  return qb;
}
