/**
 * Organizations, users, sign-in sessions and call records.
 *
 * A migration is a snapshot: it spells out its own names and values rather than importing them from
 * schema.ts, so a later change there can't rewrite what an existing database went through.
 */
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

export const initial: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('organizations')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('domain', 'text', (col) => col.notNull().unique())
      .addColumn('created_at', 'text', (col) => col.notNull())
      .execute();

    await db.schema
      .createTable('users')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('organization_id', 'integer', (col) => col.notNull().references('organizations.id').onDelete('cascade'))
      .addColumn('extension', 'text', (col) => col.notNull())
      .addColumn('display_name', 'text', (col) => col.notNull())
      .addColumn('role', 'text', (col) => col.notNull().defaultTo('user'))
      .addColumn('password_hash', 'text', (col) => col.notNull())
      .addColumn('created_at', 'text', (col) => col.notNull())
      .addColumn('updated_at', 'text', (col) => col.notNull())
      .addUniqueConstraint('users_organization_extension_unique', ['organization_id', 'extension'])
      .addCheckConstraint('users_role_check', sql`role in ('user', 'admin')`)
      .execute();

    await db.schema
      .createTable('sessions')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('token_hash', 'text', (col) => col.notNull().unique())
      .addColumn('sip_ha1_md5', 'text', (col) => col.notNull())
      .addColumn('sip_ha1_sha256', 'text', (col) => col.notNull())
      .addColumn('created_at', 'text', (col) => col.notNull())
      .addColumn('expires_at', 'text', (col) => col.notNull())
      .execute();
    // The registrar reads a user's live sessions on every authenticated request; the purge reads by expiry.
    await db.schema.createIndex('sessions_user_expires').on('sessions').columns(['user_id', 'expires_at']).execute();
    await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();

    await db.schema
      .createTable('call_records')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('organization_id', 'integer', (col) => col.notNull().references('organizations.id').onDelete('cascade'))
      .addColumn('call_id', 'text', (col) => col.notNull())
      .addColumn('caller_extension', 'text', (col) => col.notNull())
      .addColumn('caller_name', 'text', (col) => col.notNull())
      .addColumn('callee', 'text', (col) => col.notNull())
      .addColumn('callee_extension', 'text')
      .addColumn('started_at', 'text', (col) => col.notNull())
      .addColumn('answered_at', 'text')
      .addColumn('ended_at', 'text')
      .addColumn('disposition', 'text', (col) => col.notNull())
      .addColumn('end_reason', 'text')
      .addCheckConstraint(
        'call_records_disposition_check',
        sql`disposition in ('answered', 'missed', 'declined', 'cancelled', 'failed', 'busy')`,
      )
      .execute();
    // A user's history is the calls they made plus the calls that reached them, newest first.
    await db.schema
      .createIndex('call_records_caller')
      .on('call_records')
      .columns(['organization_id', 'caller_extension', 'started_at'])
      .execute();
    await db.schema
      .createIndex('call_records_callee')
      .on('call_records')
      .columns(['organization_id', 'callee_extension', 'started_at'])
      .execute();
    await db.schema.createIndex('call_records_call_id').on('call_records').column('call_id').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['call_records', 'sessions', 'users', 'organizations']) {
      await db.schema.dropTable(table).execute();
    }
  },
};
