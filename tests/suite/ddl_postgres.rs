//! The PostgreSQL DDL applied to a live server (`RELATA_POSTGRES_URL`), and the schema it
//! created read back from the catalogue: every constraint PostgreSQL reports (primary keys,
//! UNIQUE, FOREIGN KEY with its ON DELETE action and deferral, NOT NULL) equals one relata
//! declared, and every declared one is reported. The schema covers every feature: composite
//! and deferrable uniques, a deferrable one-to-one key, deferrable foreign keys, self-references,
//! an association table, and each ON DELETE action.

use std::collections::BTreeSet;

use crate::common::{self, pg};
use relata::{Dialect, EntityDef, ManyToMany, OnDelete, Schema};

const FOLLOWS: ManyToMany<common::User, common::User> =
    ManyToMany::new("follows", "following", "followers").columns("follower_id", "followed_id");
const MEMBERS: ManyToMany<common::Group, common::Node> = ManyToMany::new("group_nodes", "nodes", "groups");

fn every_feature() -> Schema {
    let mut b = Schema::builder();
    b = b
        .entity::<common::User>()
        .entity::<common::Profile>()
        .entity::<common::Address>()
        .entity::<common::Post>()
        .entity::<common::Comment>()
        .entity::<common::Group>()
        .entity::<common::UserGroup>()
        .entity::<common::Node>()
        .entity::<common::Tag>()
        .entity::<common::Employee>()
        .entity::<common::Handle>()
        .entity::<common::Badge>()
        .entity::<common::Folder>()
        .entity::<common::File>();
    b.relation(FOLLOWS).relation(MEMBERS).build().unwrap()
}

/// The ON DELETE letter of `pg_constraint.confdeltype` relata's DDL must produce.
fn action_letter(action: OnDelete, orphan: bool) -> &'static str {
    match (action, orphan) {
        (_, true) | (OnDelete::Cascade, _) => "c",
        (OnDelete::SetNull, _) => "n",
        (OnDelete::Restrict, _) => "r",
        (OnDelete::NoAction, _) => "a",
        (other, _) => panic!("no ON DELETE letter for {other:?}"),
    }
}

fn deferral(deferrable: bool) -> &'static str {
    if deferrable {
        " DEFERRABLE INITIALLY DEFERRED"
    } else {
        ""
    }
}

/// Every constraint the schema declares, in the form [`reported`] reads them back.
fn declared(schema: &Schema) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for def in schema.entities() {
        declared_table(def, &mut out);
    }
    for (name, ends) in [
        ("follows", [("follower_id", "users"), ("followed_id", "users")]),
        ("group_nodes", [("group_id", "groups"), ("node_id", "nodes")]),
    ] {
        out.insert(format!("{name} PRIMARY KEY ({}, {})", ends[0].0, ends[1].0));
        for (column, target) in ends {
            out.insert(format!(
                "{name} FOREIGN KEY ({column}) REFERENCES {target} ON DELETE c"
            ));
            out.insert(format!("{name}.{column} NOT NULL"));
        }
    }
    out
}

fn declared_table(def: &EntityDef, out: &mut BTreeSet<String>) {
    let t = def.table;
    out.insert(format!("{t} PRIMARY KEY (id)"));
    out.insert(format!("{t}.id NOT NULL"));
    for f in def.fields.iter().filter(|f| !f.nullable) {
        out.insert(format!("{t}.{} NOT NULL", f.column));
    }
    for u in def.uniques {
        let cols = def.columns(u.fields).join(", ");
        out.insert(format!(
            "{t} UNIQUE {} ({cols}){}",
            u.name,
            deferral(u.deferrable)
        ));
    }
    for (i, fk) in def.fks.iter().enumerate() {
        let column = def.fk_column(i);
        out.insert(format!(
            "{t} FOREIGN KEY fk_{t}_{column} ({column}) REFERENCES {} ON DELETE {}{}",
            (fk.target)().table,
            action_letter(fk.on_delete, fk.orphan),
            deferral(fk.deferrable)
        ));
    }
}

/// Every constraint of the current schema as PostgreSQL's catalogue reports it (foreign keys
/// and uniques by name; an association table's foreign keys keep PostgreSQL's own names).
fn reported(client: &mut postgres::Client) -> BTreeSet<String> {
    let rows = client
        .query(
            "SELECT c.conrelid::regclass::text, c.conname::text, c.contype::text,
                    (SELECT string_agg(a.attname::text, ', ' ORDER BY k.ord)
                       FROM unnest(c.conkey) WITH ORDINALITY AS k(num, ord)
                       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num),
                    c.confrelid::regclass::text, c.confdeltype::text, c.condeferrable, c.condeferred
               FROM pg_constraint c
              WHERE c.connamespace = current_schema()::regnamespace",
            &[],
        )
        .unwrap();
    let mut out = BTreeSet::new();
    for r in rows {
        let (table, name, kind, cols): (String, String, String, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        let (target, action): (String, String) = (r.get(4), r.get(5));
        let (deferrable, deferred): (bool, bool) = (r.get(6), r.get(7));
        assert_eq!(
            deferrable, deferred,
            "{name}: DEFERRABLE is always INITIALLY DEFERRED"
        );
        let line = match kind.as_str() {
            "p" => format!("{table} PRIMARY KEY ({cols})"),
            "u" => format!("{table} UNIQUE {name} ({cols})"),
            "f" if name.starts_with("fk_") => {
                format!("{table} FOREIGN KEY {name} ({cols}) REFERENCES {target} ON DELETE {action}")
            }
            "f" => format!("{table} FOREIGN KEY ({cols}) REFERENCES {target} ON DELETE {action}"),
            other => panic!("unexpected constraint kind {other} ({name})"),
        };
        out.insert(format!("{line}{}", deferral(deferrable)));
    }
    let not_null = client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
              WHERE table_schema = current_schema() AND is_nullable = 'NO'",
            &[],
        )
        .unwrap();
    for r in not_null {
        out.insert(format!(
            "{}.{} NOT NULL",
            r.get::<_, String>(0),
            r.get::<_, String>(1)
        ));
    }
    out
}

#[test]
fn postgres_reports_back_every_declared_constraint() {
    let Some(mut pg) = pg::connect("postgres_reports_back_every_declared_constraint") else {
        return;
    };
    let schema = every_feature();
    let sql = schema.to_sql(Dialect::Postgres);
    pg.client
        .batch_execute(&sql)
        .unwrap_or_else(|e| panic!("PostgreSQL rejected the DDL: {e}\n{sql}"));
    let (declared, reported) = (declared(&schema), reported(&mut pg.client));
    let missing: Vec<_> = declared.difference(&reported).collect();
    let extra: Vec<_> = reported.difference(&declared).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "declared but not created: {missing:#?}\ncreated but not declared: {extra:#?}"
    );
}

/// The declared secondary indexes (and one per uncovered foreign key) exist under their names.
#[test]
fn postgres_creates_every_declared_index() {
    let Some(mut pg) = pg::connect("postgres_creates_every_declared_index") else {
        return;
    };
    let schema = every_feature();
    pg.client
        .batch_execute(&schema.to_sql(Dialect::Postgres))
        .unwrap();
    let named: BTreeSet<String> = pg
        .client
        .query(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE 'ix\\_%'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for def in schema.entities() {
        for x in def.indexes {
            assert!(named.contains(x.name), "index {} missing: {named:?}", x.name);
        }
    }
    for name in [
        "ix_posts_title",
        "ix_comments_post_id",
        "ix_follows_followed_id",
        "ix_tags_scope_weight",
    ] {
        assert!(named.contains(name), "index {name} missing: {named:?}");
    }
}
