/**
 * The least a token endpoint built on NestJS does, for the ceiling of bench:tokens' measure (a): one
 * controller whose POST /oauth/token reads the form, checks a Basic secret's SHA-256 in constant time,
 * signs the token and answers JSON with no-store. No database, logging, security headers, metrics,
 * limits or audit. Served on either of Nest's HTTP adapters, Express (the one Campus Access uses) or
 * Fastify, it shows how much of the raw signing rate the framework alone leaves on this machine.
 */
import {
  Body,
  Controller,
  Headers,
  HttpCode,
  HttpException,
  Module,
  Post,
  Res,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { createHash, timingSafeEqual } from 'node:crypto';

export interface MinimalTokenEndpoint {
  clientId: string;
  secret: string;
  sign: () => Promise<string>;
  ttlSeconds: number;
}

/** Headers set through the adapter's own response, the same call on Express and Fastify. */
interface HeaderSink {
  header(name: string, value: string): unknown;
}

export async function minimalNestTokenServer(
  adapter: 'express' | 'fastify',
  endpoint: MinimalTokenEndpoint,
): Promise<INestApplication> {
  const secretHash = createHash('sha256').update(endpoint.secret).digest();

  @Controller()
  class TokenController {
    @Post('oauth/token')
    @HttpCode(200)
    async token(
      @Body() body: Record<string, unknown>,
      @Headers('authorization') authorization: string | undefined,
      @Res({ passthrough: true }) res: HeaderSink,
    ) {
      const basic = Buffer.from((authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');
      const colon = basic.indexOf(':');
      const presented = createHash('sha256')
        .update(basic.slice(colon + 1))
        .digest();
      if (
        body?.grant_type !== 'client_credentials' ||
        basic.slice(0, colon) !== endpoint.clientId ||
        !timingSafeEqual(presented, secretHash)
      ) {
        throw new HttpException({ error: 'invalid_client' }, 401);
      }
      res.header('Cache-Control', 'no-store');
      res.header('Pragma', 'no-cache');
      return { access_token: await endpoint.sign(), token_type: 'bearer', expires_in: endpoint.ttlSeconds };
    }
  }

  @Module({ controllers: [TokenController] })
  class MinimalTokenModule {}

  const app =
    adapter === 'fastify'
      ? await NestFactory.create(MinimalTokenModule, new FastifyAdapter(), { logger: false })
      : await NestFactory.create(MinimalTokenModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}
