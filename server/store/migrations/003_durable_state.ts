/**
 * What a restart must not lose: registrations, the calls that are up, and when the PBX was last alive.
 *
 * - `registrations`: the bindings a device can still be reached at after the PBX restarts (a UDP device at
 *   the address and port its REGISTER came from, a TCP/TLS device at the Contact where it listens), one row
 *   per binding, written before the 200 to its REGISTER and deleted when it ends.
 * - `active_calls`: each answered call until it ends, with the record it will become and, for each leg,
 *   what a BYE needs. `call_records` stays write-once: a call's record is inserted, and its row here
 *   deleted, in one transaction when it ends.
 * - `heartbeat`: one row, the time the PBX last said it was alive; after a crash it is the time the calls
 *   left in `active_calls` ended.
 *
 * A snapshot like every migration: names and values are spelled out here, not imported.
 */
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

export const durableState: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('registrations')
      .addColumn('organization_id', 'integer', (col) => col.notNull().references('organizations.id').onDelete('cascade'))
      .addColumn('extension', 'text', (col) => col.notNull())
      .addColumn('binding_key', 'text', (col) => col.notNull())
      .addColumn('contact', 'text', (col) => col.notNull())
      .addColumn('path', 'text', (col) => col.notNull())
      .addColumn('transport', 'text', (col) => col.notNull())
      .addColumn('remote_address', 'text', (col) => col.notNull())
      .addColumn('remote_port', 'integer', (col) => col.notNull())
      .addColumn('call_id', 'text', (col) => col.notNull())
      .addColumn('cseq', 'integer', (col) => col.notNull())
      .addColumn('expires_at', 'text', (col) => col.notNull())
      .addColumn('user_agent', 'text')
      // The primary key is every index the table has: each REGISTER writes one row, and an index more would
      // cost every one of them a page more. Expired rows are found by a scan, once at start.
      .addPrimaryKeyConstraint('registrations_pk', ['organization_id', 'extension', 'binding_key'])
      .addCheckConstraint('registrations_transport_check', sql`transport in ('UDP', 'TCP', 'TLS')`)
      .execute();

    await db.schema
      .createTable('active_calls')
      .addColumn('id', 'text', (col) => col.primaryKey())
      .addColumn('organization_id', 'integer', (col) => col.notNull().references('organizations.id').onDelete('cascade'))
      .addColumn('call_id', 'text', (col) => col.notNull())
      .addColumn('caller_extension', 'text', (col) => col.notNull())
      .addColumn('caller_name', 'text', (col) => col.notNull())
      .addColumn('callee', 'text', (col) => col.notNull())
      .addColumn('callee_extension', 'text')
      .addColumn('started_at', 'text', (col) => col.notNull())
      .addColumn('answered_at', 'text', (col) => col.notNull())
      .addColumn('legs', 'text', (col) => col.notNull())
      .execute();

    await db.schema
      .createTable('heartbeat')
      .addColumn('id', 'integer', (col) => col.primaryKey().check(sql`id = 1`))
      .addColumn('alive_at', 'text', (col) => col.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    for (const table of ['heartbeat', 'active_calls', 'registrations']) await db.schema.dropTable(table).execute();
  },
};
