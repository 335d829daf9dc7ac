import type { Knex } from 'knex';
import type { Migration } from '../storage/migrations.js';

/**
 * Rapport Link (docs/federation.md): links to other systems, one log per direction of each
 * link (the outbox we send, the inbox we applied), and the map from documents on a link to
 * the local records they became. Every key leads with tenant_id.
 */
export const federationMigration: Migration = {
  name: '0014_federation',
  async up(knex: Knex) {
    await knex.schema.createTable('rapport_fed_links', (t) => {
      t.uuid('tenant_id').notNullable();
      // Chosen by the inviting side and the same on both: the one name both systems give the link.
      t.uuid('id').notNullable();
      // invited → active ⇄ suspended → revoked
      t.text('state').notNullable();
      // Who suspended or revoked: `local` or `peer` (each side may lift only its own suspension).
      t.text('state_by');
      t.text('local_role').notNullable();
      t.text('peer_role').notNullable();
      t.uuid('relationship_id');
      t.text('relationship_type');
      t.uuid('peer_party_id');
      t.text('peer_name');
      t.text('peer_base_url');
      t.jsonb('document_types').notNullable().defaultTo('[]');
      // Our key pairs, newest first: `{ kid, publicJwk, privateKey (sealed), createdAt, retiresAt? }`.
      t.jsonb('local_keys').notNullable().defaultTo('[]');
      // The peer's public keys, newest first: `{ kid, jwk, notAfter? }`.
      t.jsonb('peer_keys').notNullable().defaultTo('[]');
      t.text('invitation_secret_hash');
      t.timestamp('invitation_expires_at', { useTz: true });
      // Last sequence allocated to a message we send, the highest the peer answered for, the highest we applied of theirs.
      t.bigInteger('out_seq').notNullable().defaultTo(0);
      t.bigInteger('out_acked_seq').notNullable().defaultTo(0);
      t.bigInteger('in_applied_seq').notNullable().defaultTo(0);
      t.integer('push_attempts').notNullable().defaultTo(0);
      t.timestamp('next_push_at', { useTz: true });
      t.text('last_error');
      t.timestamp('last_error_at', { useTz: true });
      t.timestamp('last_pushed_at', { useTz: true });
      t.timestamp('behind_since', { useTz: true });
      t.timestamp('behind_reported_at', { useTz: true });
      t.integer('version').notNullable().defaultTo(1);
      t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
      t.primary(['tenant_id', 'id']);
      t.index(['tenant_id', 'peer_party_id']);
    });
    // A peer's request names only the link: found by id across tenants (ids are random UUIDs).
    await knex.raw('create index rapport_fed_links_id_idx on rapport_fed_links (id)');

    await knex.schema.createTable('rapport_fed_outbox', (t) => {
      t.uuid('tenant_id').notNullable();
      t.uuid('link_id').notNullable();
      t.bigInteger('seq').notNullable();
      t.uuid('message_id').notNullable();
      t.text('type').notNullable();
      t.uuid('doc_id').notNullable();
      t.integer('doc_version').notNullable();
      // The whole wire message, exactly as it is sent (and resent).
      t.json('message').notNullable();
      // pending until the peer answers: then applied, duplicate or rejected (final).
      t.text('status').notNullable().defaultTo('pending');
      t.jsonb('problem');
      t.jsonb('outcome');
      t.timestamp('created_at', { useTz: true }).notNullable();
      t.timestamp('answered_at', { useTz: true });
      t.primary(['tenant_id', 'link_id', 'seq']);
    });

    await knex.schema.createTable('rapport_fed_inbox', (t) => {
      t.uuid('tenant_id').notNullable();
      t.uuid('link_id').notNullable();
      t.bigInteger('seq').notNullable();
      t.uuid('message_id').notNullable();
      t.text('type').notNullable();
      t.uuid('doc_id').notNullable();
      t.integer('doc_version').notNullable();
      // The message as received, kept with its signature (non-repudiation).
      t.json('message').notNullable();
      t.text('signature');
      t.text('status').notNullable();
      t.jsonb('problem');
      t.jsonb('outcome');
      t.timestamp('received_at', { useTz: true }).notNullable();
      t.primary(['tenant_id', 'link_id', 'seq']);
      t.unique(['tenant_id', 'link_id', 'message_id']);
    });

    await knex.schema.createTable('rapport_fed_mirrors', (t) => {
      t.uuid('tenant_id').notNullable();
      t.uuid('link_id').notNullable();
      t.text('type').notNullable();
      t.uuid('doc_id').notNullable();
      // `sent`: we author it; `received`: the peer does.
      t.text('direction').notNullable();
      t.text('local_record_id');
      t.integer('latest_version').notNullable();
      t.timestamp('updated_at', { useTz: true }).notNullable();
      t.primary(['tenant_id', 'link_id', 'type', 'doc_id']);
      t.index(['tenant_id', 'type', 'local_record_id']);
    });
  },
};
