import type { Action } from '../../permissions/subjects';
import { Injectable } from '@nestjs/common';
import { requireAccess, requireCreateIn } from '../../permissions/access';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { Brackets, EntityManager, IsNull, Repository } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { setBounded } from '../../common/collections/bounded-map';
import { pageOf } from '../../common/pagination/pagination';
import { InjectSettings } from '../../config/settings.module';
import { Settings } from '../../config/settings.schema';
import { TransactionRunner } from '../../database/transaction';
import type { AppAbility } from '../../permissions/ability';
import { scopeList } from '../../permissions/user-has-perm';
import { ServiceAccountsRepository } from './service-accounts.repository';
import { AccountsError } from '../accounts.errors';
import { AuditService } from '../audit/audit.service';
import { digestsEqual, randomSecret, sha256Hex } from '../../common/crypto/secrets';
import { Organization } from '../organizations/organization.entity';
import { CreateServiceAccountDto, ServiceAccountQuery, UpdateServiceAccountDto } from './service-account.dto';
import { ServiceAccount, ServiceAccountSecret } from './service-account.entity';
import { queryRows } from '../../database/query';
import { CommonError } from '../../common/errors/common.errors';
import { checkedClientKeys } from './client-keys';
import { INTROSPECT_SCOPE } from './introspect-scope';

const PREFIX_LENGTH = 8;

/** What the token endpoint needs of an authenticated client. */
export interface AuthenticatedClient {
  id: string;
  clientId: string;
  organizationId: string;
  allowedScopes: string[];
}
/** A digest nobody can match: compared against when the client is unknown, so timing does not tell. */
const NO_MATCH = sha256Hex('campus-access:no-such-client');

@Injectable()
export class ServiceAccountsService {
  private readonly clientCache = new Map<
    string,
    { client: AuthenticatedClient; secrets: CachedSecret[]; until: number }
  >();
  /** Bumped by every change to a client, so a lookup that raced with one does not cache what it read. */
  private cacheGeneration = 0;

  constructor(
    @InjectRepository(ServiceAccount) private readonly accounts: Repository<ServiceAccount>,
    @InjectRepository(ServiceAccountSecret) private readonly secrets: Repository<ServiceAccountSecret>,
    private readonly tx: TransactionRunner,
    private readonly audit: AuditService,
    @InjectSettings() private readonly settings: Settings,
    private readonly rows: ServiceAccountsRepository,
  ) {}

  private async addSecret(tx: EntityManager, accountId: string): Promise<string> {
    const secret = `cas_${randomSecret(32)}`;
    await tx.insert(ServiceAccountSecret, {
      serviceAccountId: accountId,
      secretHash: sha256Hex(secret),
      prefix: secret.slice(0, PREFIX_LENGTH + 4),
      expiresAt: null,
    });
    return secret;
  }

  liveSecrets(accountIds: string[]): Promise<ServiceAccountSecret[]> {
    if (!accountIds.length) return Promise.resolve([]);
    return this.secrets
      .createQueryBuilder('s')
      .where('s.service_account_id IN (:...ids)', { ids: accountIds })
      .andWhere('s.revoked_at IS NULL')
      .andWhere(new Brackets((b) => b.where('s.expires_at IS NULL').orWhere('s.expires_at > now()')))
      .orderBy('s.created_at', 'ASC')
      .getMany();
  }

  async list(ability: AppAbility, q: ServiceAccountQuery): Promise<[ServiceAccount[], number]> {
    const qb = this.accounts.createQueryBuilder('a').orderBy('a.created_at', 'ASC').addOrderBy('a.id', 'ASC');
    scopeList(qb, ability, q.user_has_perm, 'ServiceAccount', 'a');
    if (q.organization) qb.andWhere('a.organization_id = :org', { org: q.organization });
    return pageOf(qb, q);
  }

  async get(ability: AppAbility, id: string, action: Action = 'read'): Promise<ServiceAccount> {
    return requireAccess(ability, action, 'ServiceAccount', await this.accounts.findOneBy({ id }));
  }

  async create(
    who: Principal,
    ability: AppAbility,
    dto: CreateServiceAccountDto,
  ): Promise<{ account: ServiceAccount; secret?: string }> {
    assertMayGrantScopes(who, dto.allowed_scopes);
    const keys = await checkedClientKeys(dto.jwks, dto.jwks_uri, this.keyOptions());
    const org = await this.accounts.manager.findOneBy(Organization, { id: dto.organization });
    requireCreateIn(ability, 'ServiceAccount', dto.organization, Boolean(org));
    return this.tx.run(async (tx) => {
      const account = await tx.save(
        ServiceAccount,
        tx.create(ServiceAccount, {
          organizationId: org!.id,
          clientId: `ca-${randomBytes(12).toString('hex')}`,
          name: dto.name,
          description: dto.description ?? '',
          allowedScopes: dto.allowed_scopes ?? [],
          jwks: keys.jwks,
          jwksUri: keys.jwksUri,
        }),
      );
      // A client registering keys authenticates with them instead of a secret.
      const secret = keys.jwks || keys.jwksUri ? undefined : await this.addSecret(tx, account.id);
      await this.audit.record(
        {
          action: 'service_account.created',
          actor: who,
          subjectType: 'ServiceAccount',
          subjectId: account.id,
          organizationId: account.organizationId,
          data: { client_id: account.clientId },
        },
        tx,
      );
      return { account, secret };
    });
  }

  async update(who: Principal, ability: AppAbility, id: string, dto: UpdateServiceAccountDto): Promise<ServiceAccount> {
    assertMayGrantScopes(who, dto.allowed_scopes);
    const keys =
      dto.jwks !== undefined || dto.jwks_uri !== undefined
        ? await checkedClientKeys(dto.jwks, dto.jwks_uri, this.keyOptions())
        : undefined;
    const result = await this.tx.run(async (tx) => {
      const a = requireAccess(ability, 'update', 'ServiceAccount', await this.rows.lockForUpdate(tx, id));
      const saved = await tx.save(ServiceAccount, {
        ...a,
        name: dto.name ?? a.name,
        description: dto.description ?? a.description,
        allowedScopes: dto.allowed_scopes ?? a.allowedScopes,
        ...(keys ? { jwks: keys.jwks, jwksUri: keys.jwksUri } : {}),
      });
      await this.audit.record(
        {
          action: 'service_account.updated',
          actor: who,
          subjectType: 'ServiceAccount',
          subjectId: id,
          organizationId: a.organizationId,
          data: { ...dto, ...(dto.jwks ? { jwks: { keys: dto.jwks.keys?.length } } : {}) },
        },
        tx,
      );
      return saved;
    });
    // After the commit, so a concurrent token request cannot cache the state before it.
    this.forgetClient(result.clientId);
    return result;
  }

  /**
   * A new secret; the one it replaces stays valid for SECRET_ROTATION_OVERLAP_SECONDS (0: invalid at
   * once). Secrets already overlapping from earlier rotations are revoked: whatever the number of
   * rotations, at most the newest and the one before it work.
   */
  async rotateSecret(
    who: Principal,
    ability: AppAbility,
    id: string,
  ): Promise<{ account: ServiceAccount; secret: string }> {
    const overlap = this.settings.SECRET_ROTATION_OVERLAP_SECONDS;
    const result = await this.tx.run(async (tx) => {
      // Locked first, so rotations of one account (and a deactivation) run one after the other: each
      // sees the secrets the previous one left, and none adds a secret to a deactivated account.
      const a = requireAccess(ability, 'rotate_secret', 'ServiceAccount', await this.rows.lockForUpdate(tx, id));
      if (!a.isActive) throw new AccountsError('inactive', 'The service account is deactivated.');
      await tx
        .createQueryBuilder()
        .update(ServiceAccountSecret)
        .set({ revokedAt: () => 'now()' })
        .where('service_account_id = :id AND revoked_at IS NULL AND expires_at IS NOT NULL', { id })
        .execute();
      await tx
        .createQueryBuilder()
        .update(ServiceAccountSecret)
        .set({
          expiresAt: () => `LEAST(COALESCE(expires_at, 'infinity'), now() + make_interval(secs => ${Number(overlap)}))`,
        })
        .where('service_account_id = :id AND revoked_at IS NULL', { id })
        .execute();
      const secret = await this.addSecret(tx, id);
      await this.audit.record(
        {
          action: 'service_account.secret_rotated',
          actor: who,
          subjectType: 'ServiceAccount',
          subjectId: id,
          organizationId: a.organizationId,
          data: { overlap_seconds: overlap },
        },
        tx,
      );
      return { account: a, secret };
    });
    // After the commit, so a concurrent token request cannot cache the state before it.
    this.forgetClient(result.account.clientId);
    return result;
  }

  /**
   * Deactivates the account and revokes every secret; its tokens stop working at once. An account
   * already deactivated (by a request before, or at the same moment) is left as it is and not audited again.
   */
  async deactivate(who: Principal, ability: AppAbility, id: string): Promise<ServiceAccount> {
    const a = await this.get(ability, id, 'update');
    const result = await this.tx.run(async (tx) => {
      const changed = await tx.update(ServiceAccount, { id, isActive: true }, { isActive: false });
      if (!changed.affected) return { ...a, isActive: false };
      await tx.update(ServiceAccountSecret, { serviceAccountId: id, revokedAt: IsNull() }, { revokedAt: new Date() });
      await this.audit.record(
        {
          action: 'service_account.deactivated',
          actor: who,
          subjectType: 'ServiceAccount',
          subjectId: id,
          organizationId: a.organizationId,
        },
        tx,
      );
      return { ...a, isActive: false };
    });
    // After the commit, so a concurrent token request cannot cache the state before it.
    this.forgetClient(a.clientId);
    return result;
  }

  private keyOptions() {
    return { allowLoopbackHttp: this.settings.NODE_ENV !== 'production' };
  }

  /**
   * An active client that authenticates with private_key_jwt, with its registered keys; null when there
   * is no such active client or it has no keys.
   */
  async assertionClient(
    clientId: string,
  ): Promise<{ client: AuthenticatedClient; jwks: ServiceAccount['jwks']; jwksUri: string | null } | null> {
    const [row] = await queryRows<AuthenticatedClient & { jwks: ServiceAccount['jwks']; jwksUri: string | null }>(
      this.accounts.manager,
      `SELECT id, client_id AS "clientId", organization_id AS "organizationId", allowed_scopes AS "allowedScopes",
                jwks, jwks_uri AS "jwksUri"
           FROM service_accounts
          WHERE client_id = $1 AND is_active AND (jwks IS NOT NULL OR jwks_uri IS NOT NULL)`,
      [clientId],
    );
    if (!row) return null;
    const { jwks, jwksUri, ...client } = row;
    return { client, jwks, jwksUri };
  }

  /**
   * Revokes every token issued to the account until now (RFC 7009's effect, by an admin): the principal
   * lookup of every request refuses a token whose `iat` is before the cut-off, on every replica at once.
   * Tokens issued in the same second as the revocation are refused too (`iat` has whole seconds).
   */
  async revokeTokens(who: Principal, ability: AppAbility, id: string): Promise<ServiceAccount> {
    return this.tx.run(async (tx) => {
      const a = requireAccess(ability, 'update', 'ServiceAccount', await this.rows.lockForUpdate(tx, id));
      await queryRows(tx, 'UPDATE service_accounts SET tokens_valid_after = now() WHERE id = $1', [id]);
      // now() is the transaction's start, the value just written.
      const [{ at }] = await queryRows<{ at: Date }>(tx, 'SELECT now() AS at');
      await this.audit.record(
        {
          action: 'service_account.tokens_revoked',
          actor: who,
          subjectType: 'ServiceAccount',
          subjectId: id,
          organizationId: a.organizationId,
          data: { tokens_valid_after: at.toISOString() },
        },
        tx,
      );
      return { ...a, tokensValidAfter: at };
    });
  }

  /**
   * Client authentication for /oauth/token: constant-time against every live secret of the client.
   *
   * Clients that authenticated recently are kept in memory for CLIENT_CACHE_SECONDS, so a busy client costs
   * no query per token. Only a presented secret that matches a cached, unexpired hash is answered from
   * memory; anything else (a new secret, a wrong one, an unknown client) is checked against the database.
   * Changes made through this replica drop the entry at once; other replicas see them within
   * CLIENT_CACHE_SECONDS (a deactivated client's tokens are refused at once everywhere regardless,
   * since every request checks it is active).
   */
  async authenticate(clientId: string, secret: string): Promise<AuthenticatedClient | null> {
    const presented = sha256Hex(secret);
    const cached = this.clientCache.get(clientId);
    if (cached && cached.until > Date.now()) {
      const client = matchSecret(cached.client, cached.secrets, presented);
      if (client) return client;
    }
    const generation = this.cacheGeneration;
    const rows: (AuthenticatedClient & { secretHash: string | null; expiresAt: Date | null })[] = await queryRows(
      this.accounts.manager,
      `SELECT a.id, a.client_id AS "clientId", a.organization_id AS "organizationId", a.allowed_scopes AS "allowedScopes",
              s.secret_hash AS "secretHash", s.expires_at AS "expiresAt"
         FROM service_accounts a
         LEFT JOIN service_account_secrets s
           ON s.service_account_id = a.id AND s.revoked_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > now())
        WHERE a.client_id = $1 AND a.is_active AND a.jwks IS NULL AND a.jwks_uri IS NULL`,
      [clientId],
    );
    if (!rows.length) {
      digestsEqual(presented, NO_MATCH);
      this.clientCache.delete(clientId);
      return null;
    }
    const { id, clientId: cid, organizationId, allowedScopes } = rows[0];
    const client = { id, clientId: cid, organizationId, allowedScopes };
    const secrets = rows
      .filter((r) => r.secretHash !== null)
      .map((r) => ({ hash: r.secretHash!, expiresAt: r.expiresAt ? r.expiresAt.getTime() : Infinity }));
    const ttl = this.settings.CLIENT_CACHE_SECONDS * 1000;
    // Not cached when a change was committed meanwhile: the rows may predate it.
    if (ttl > 0 && generation === this.cacheGeneration)
      setBounded(this.clientCache, clientId, { client, secrets, until: Date.now() + ttl }, CLIENT_CACHE_MAX);
    return matchSecret(client, secrets, presented);
  }

  /** Forgets what this replica cached about a client, after a change to it. */
  private forgetClient(clientId: string): void {
    this.cacheGeneration++;
    this.clientCache.delete(clientId);
  }
}

/**
 * The introspection scope lets a client read what any token of any organization grants (RFC 7662), so
 * only staff may put it in a client's allowed scopes; organization admins manage every other scope.
 */
function assertMayGrantScopes(who: Principal, scopes: string[] | undefined): void {
  if (scopes?.includes(INTROSPECT_SCOPE) && !who.isStaff)
    throw new CommonError('forbidden', `Only staff may allow the ${INTROSPECT_SCOPE} scope.`);
}

interface CachedSecret {
  hash: string;
  /** Epoch ms; Infinity when it does not expire. */
  expiresAt: number;
}

/** Clients kept in memory at most; the least recently loaded goes first. */
const CLIENT_CACHE_MAX = 10_000;

/** The client when `presented` equals one of its unexpired secret hashes, comparing against all of them in constant time. */
function matchSecret(
  client: AuthenticatedClient,
  secrets: CachedSecret[],
  presented: string,
): AuthenticatedClient | null {
  const now = Date.now();
  let ok = false;
  for (const s of secrets) ok = (digestsEqual(presented, s.hash) && s.expiresAt > now) || ok;
  if (!secrets.length) digestsEqual(presented, NO_MATCH);
  return ok ? client : null;
}
