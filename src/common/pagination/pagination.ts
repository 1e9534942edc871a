import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import type { Request } from 'express';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;
/** The last page whose offset is still an exact integer at the largest page size (PostgreSQL's OFFSET is a bigint). */
export const MAX_PAGE = Math.floor(Number.MAX_SAFE_INTEGER / MAX_PAGE_SIZE);

/** `?page=&page_size=`; extend it for list filters. */
export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE)
  page?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  page_size?: number;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

/**
 * What every service's list method returns: one page of rows and the total count (TypeORM's
 * `getManyAndCount()`). The controller maps the rows to views and hands both to `toPage`.
 */
export type Listed<T> = [rows: T[], count: number];

/**
 * One page of a list query (filtered and ordered by the caller) and the total: one statement with a
 * window count; a page past the end costs a second, counting statement.
 *   return pageOf(qb, q);   // Listed<T>
 */
export async function pageOf<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, q: PageQuery): Promise<Listed<T>> {
  const { offset, pageSize } = pageWindow(q);
  const { entities, raw } = await qb
    .clone()
    .addSelect('count(*) OVER()', 'total_count')
    .offset(offset)
    .limit(pageSize)
    .getRawAndEntities();
  if (raw.length > 0) return [entities, Number((raw[0] as { total_count: string }).total_count)];
  return [[], offset === 0 ? 0 : await qb.clone().getCount()];
}

/**
 * pageOf for a query read as raw rows (selected columns, no entity): one statement for the page and
 * the total; a page past the end counts the query's rows on its own.
 */
export async function rawPageOf<R extends ObjectLiteral>(
  qb: SelectQueryBuilder<ObjectLiteral>,
  q: PageQuery,
): Promise<Listed<R>> {
  const { offset, pageSize } = pageWindow(q);
  const rows = await qb
    .clone()
    .addSelect('count(*) OVER()', 'total_count')
    .offset(offset)
    .limit(pageSize)
    .getRawMany<R & { total_count: string }>();
  if (rows.length > 0)
    return [rows.map(({ total_count: _, ...row }) => row as unknown as R), Number(rows[0].total_count)];
  if (offset === 0) return [[], 0];
  const counted = await qb.connection
    .createQueryBuilder()
    .select('count(*)', 'n')
    .from(`(${qb.clone().orderBy().getQuery()})`, 'listed')
    .setParameters(qb.getParameters())
    .getRawOne<{ n: string }>();
  return [[], Number(counted?.n ?? 0)];
}

export function pageWindow(q: PageQuery): { page: number; pageSize: number; offset: number } {
  const page = q.page ?? 1;
  const pageSize = q.page_size ?? DEFAULT_PAGE_SIZE;
  return { page, pageSize, offset: (page - 1) * pageSize };
}

/**
 * The Express application setting holding PUBLIC_URL (set by createApp): links are built on it, never
 * on the request's Host, X-Forwarded-* headers or an absolute-form request URI, which the client picks.
 */
export const PUBLIC_URL_APP_SETTING = 'campus-access:public-url';

function linkTo(req: Request, page: number): string {
  const base = req.app.get(PUBLIC_URL_APP_SETTING) as string | undefined;
  if (!base) throw new Error(`The application has no ${PUBLIC_URL_APP_SETTING} setting to build links on`);
  // Only the path and query of what was asked: an absolute-form URI's scheme and host are dropped.
  const { pathname, search } = new URL(req.originalUrl, 'http://request.invalid');
  const url = new URL(`${base}${pathname}${search}`);
  url.searchParams.set('page', String(page));
  return url.toString();
}

/** Wraps one page of results with the total count and absolute next/previous links under PUBLIC_URL. */
export function toPage<T>(req: Request, q: PageQuery, results: T[], count: number): Page<T> {
  const { page, pageSize } = pageWindow(q);
  return {
    count,
    next: page * pageSize < count ? linkTo(req, page + 1) : null,
    previous: page > 1 ? linkTo(req, Math.min(page - 1, Math.max(1, Math.ceil(count / pageSize)))) : null,
    results,
  };
}
