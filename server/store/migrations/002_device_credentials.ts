/**
 * Desk-phone credentials and the outside-calls permission.
 *
 * - `device_credentials`: long-lived SIP passwords a user types into a desk phone or a SIP app, kept only as
 *   digest HA1s (like the per-session ones in `sessions`), one per label so a user can have several devices.
 * - `users.can_call_external`: 0 or 1; whether the dial policy lets the user call numbers outside the
 *   organization. Off for everyone until an administrator turns it on.
 *
 * A snapshot like every migration: names and values are spelled out here, not imported.
 */
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

export const deviceCredentials: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('device_credentials')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('label', 'text', (col) => col.notNull())
      .addColumn('ha1_md5', 'text', (col) => col.notNull())
      .addColumn('ha1_sha256', 'text', (col) => col.notNull())
      .addColumn('created_at', 'text', (col) => col.notNull())
      .addUniqueConstraint('device_credentials_user_label_unique', ['user_id', 'label'])
      .execute();
    await db.schema
      .alterTable('users')
      .addColumn('can_call_external', 'integer', (col) => col.notNull().defaultTo(0).check(sql`can_call_external in (0, 1)`))
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('users').dropColumn('can_call_external').execute();
    await db.schema.dropTable('device_credentials').execute();
  },
};
