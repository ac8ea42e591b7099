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

fn owned_or_public(d: &Scalars) -> bool {
    d.owner.is_some() || d.public
}

/// A field of every scalar width, each with a declared default, and a CHECK that reads a
/// boolean as PostgreSQL needs one (`... OR public`).
#[derive(relata::Entity, Clone, Debug, PartialEq)]
#[relata(
    table = "scalars",
    check(
        owned_or_public,
        name = "ck_scalars_owned",
        sql = "owner_id IS NOT NULL OR public"
    )
)]
struct Scalars {
    owner: Option<relata::Key<common::User>>,
    #[relata(default = true)]
    public: bool,
    #[relata(default = -8)]
    a_i8: i8,
    #[relata(default = -16)]
    a_i16: i16,
    #[relata(default = -32)]
    a_i32: i32,
    #[relata(default = -64)]
    a_i64: i64,
    #[relata(default = 8)]
    a_u8: u8,
    #[relata(default = 16)]
    a_u16: u16,
    #[relata(default = 32)]
    a_u32: u32,
    #[relata(default = 64)]
    a_u64: u64,
    #[relata(default = 0.5)]
    a_f32: f32,
    #[relata(default = 0.25)]
    a_f64: f64,
    maybe: Option<bool>,
}

/// Each Rust scalar gets the PostgreSQL type that holds it (`bool` a BOOLEAN, not an integer,
/// so a CHECK can use it as a condition), and the declared defaults are accepted: a row given
/// only its required key takes every default, and the CHECK refuses a row neither owned nor
/// public, as relata does.
#[test]
fn postgres_takes_each_scalar_as_its_own_type_with_its_default_and_check() {
    let schema = Schema::builder()
        .entity::<common::User>()
        .entity::<Scalars>()
        .build()
        .unwrap();
    // SQLite's DDL keeps its type affinity: INTEGER and REAL, booleans as 0 and 1.
    let sqlite = schema.to_sql(Dialect::Sqlite);
    assert!(
        sqlite.contains(r#""public" INTEGER NOT NULL DEFAULT 1,"#),
        "{sqlite}"
    );
    assert!(
        sqlite.contains(r#""a_i16" INTEGER NOT NULL DEFAULT -16,"#),
        "{sqlite}"
    );
    assert!(
        sqlite.contains(r#""a_f32" REAL NOT NULL DEFAULT 0.5,"#),
        "{sqlite}"
    );
    let db = rusqlite::Connection::open_in_memory().unwrap();
    db.execute_batch(&sqlite).unwrap();
    db.execute_batch("INSERT INTO scalars (id) VALUES (1)").unwrap();
    assert!(db
        .execute_batch("INSERT INTO scalars (id, public) VALUES (2, 0)")
        .is_err());

    let Some(mut pg) = pg::connect("postgres_takes_each_scalar_as_its_own_type_with_its_default_and_check")
    else {
        return;
    };
    let sql = schema.to_sql(Dialect::Postgres);
    pg.client
        .batch_execute(&sql)
        .unwrap_or_else(|e| panic!("PostgreSQL rejected the DDL: {e}\n{sql}"));
    let types: Vec<(String, String)> = pg
        .client
        .query(
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = 'scalars' ORDER BY ordinal_position",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let want = [
        ("id", "bigint"),
        ("owner_id", "bigint"),
        ("public", "boolean"),
        ("a_i8", "smallint"),
        ("a_i16", "smallint"),
        ("a_i32", "integer"),
        ("a_i64", "bigint"),
        ("a_u8", "smallint"),
        ("a_u16", "integer"),
        ("a_u32", "bigint"),
        ("a_u64", "bigint"),
        ("a_f32", "real"),
        ("a_f64", "double precision"),
        ("maybe", "boolean"),
    ];
    let want: Vec<(String, String)> = want.iter().map(|(c, t)| (c.to_string(), t.to_string())).collect();
    assert_eq!(types, want, "{sql}");

    pg.client
        .batch_execute("INSERT INTO scalars (id) VALUES (1)")
        .unwrap();
    let row = pg
        .client
        .query_one(
            "SELECT public, a_i8, a_i16, a_i32, a_i64, a_u8, a_u16, a_u32, a_u64, a_f32, a_f64 FROM scalars",
            &[],
        )
        .unwrap();
    assert!(row.get::<_, bool>(0));
    assert_eq!(
        (
            row.get::<_, i16>(1),
            row.get::<_, i16>(2),
            row.get::<_, i32>(3),
            row.get::<_, i64>(4)
        ),
        (-8, -16, -32, -64)
    );
    assert_eq!(
        (
            row.get::<_, i16>(5),
            row.get::<_, i32>(6),
            row.get::<_, i64>(7),
            row.get::<_, i64>(8)
        ),
        (8, 16, 32, 64)
    );
    assert_eq!((row.get::<_, f32>(9), row.get::<_, f64>(10)), (0.5, 0.25));
    let refused = pg
        .client
        .batch_execute("INSERT INTO scalars (id, public) VALUES (2, false)")
        .unwrap_err();
    let db = refused.as_db_error().unwrap();
    assert_eq!(
        (db.code().code(), db.constraint()),
        ("23514", Some("ck_scalars_owned"))
    );
}

/// A flag a service keeps as a number (its legacy column is an integer): a `bool` stored as
/// the user declares, `SqlType::Integer`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct NumericFlag(bool);

impl relata::AsColumn for NumericFlag {
    type Repr = bool;
    type Ref<'a> = NumericFlag;
    const SQL_TYPE: relata::SqlType = relata::SqlType::Integer;
    fn into_repr(self) -> bool {
        self.0
    }
    fn from_repr(repr: bool) -> Self {
        NumericFlag(repr)
    }
    fn view(repr: <bool as relata::Column>::Ref<'_>) -> <Self as relata::AsColumn>::Ref<'_> {
        NumericFlag(repr)
    }
}

/// The same flag in a column of a type relata does not name (a legacy `SMALLINT`).
#[derive(Clone, Copy, Debug, PartialEq)]
struct SmallFlag(bool);

impl relata::AsColumn for SmallFlag {
    type Repr = bool;
    type Ref<'a> = SmallFlag;
    const SQL_TYPE: relata::SqlType = relata::SqlType::Custom {
        sqlite: "INTEGER",
        postgres: "SMALLINT",
    };
    fn into_repr(self) -> bool {
        self.0
    }
    fn from_repr(repr: bool) -> Self {
        SmallFlag(repr)
    }
    fn view(repr: <bool as relata::Column>::Ref<'_>) -> <Self as relata::AsColumn>::Ref<'_> {
        SmallFlag(repr)
    }
}

#[derive(relata::Entity, Clone, Debug, PartialEq)]
#[relata(table = "legacy_flags")]
struct LegacyFlag {
    #[relata(default = NumericFlag(true))]
    enabled: NumericFlag,
    #[relata(default = SmallFlag(false))]
    archived: SmallFlag,
}

/// A boolean default is written as the column's SQL type reads it: `TRUE` for a BOOLEAN, `1`
/// for a column declared as an integer, `'0'` for a custom one (PostgreSQL refuses `BIGINT
/// DEFAULT TRUE` and `SMALLINT DEFAULT FALSE`).
#[test]
fn postgres_takes_a_boolean_default_in_an_integer_column() {
    let schema = Schema::builder().entity::<LegacyFlag>().build().unwrap();
    let sql = schema.to_sql(Dialect::Postgres);
    assert!(sql.contains(r#""enabled" BIGINT NOT NULL DEFAULT 1"#), "{sql}");
    assert!(
        sql.contains(r#""archived" SMALLINT NOT NULL DEFAULT '0'"#),
        "{sql}"
    );
    let Some(mut pg) = pg::connect("postgres_takes_a_boolean_default_in_an_integer_column") else {
        return;
    };
    pg.client
        .batch_execute(&sql)
        .unwrap_or_else(|e| panic!("PostgreSQL rejected the DDL: {e}\n{sql}"));
    pg.client
        .batch_execute("INSERT INTO legacy_flags (id) VALUES (1)")
        .unwrap();
    let row = pg
        .client
        .query_one("SELECT enabled, archived FROM legacy_flags", &[])
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i16>(1)), (1, 0));
}

/// The record key's `id` column is an identity column, as an `#[relata(id)]` one is: a
/// service inserting a row without an id into the exported schema gets one from PostgreSQL.
/// Rows copied in with their ids do not move the sequence (PostgreSQL's rule for `BY
/// DEFAULT`): `setval` it to the largest id after such a copy, as docs/ENGINES.md says.
#[test]
fn postgres_assigns_the_record_key_column_of_a_row_inserted_without_one() {
    let schema = Schema::builder().entity::<common::User>().build().unwrap();
    let sql = schema.to_sql(Dialect::Postgres);
    assert!(
        sql.contains(r#""id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"#),
        "{sql}"
    );
    let sqlite = schema.to_sql(Dialect::Sqlite);
    assert!(sqlite.contains(r#""id" INTEGER PRIMARY KEY,"#), "{sqlite}");
    let Some(mut pg) = pg::connect("postgres_assigns_the_record_key_column_of_a_row_inserted_without_one")
    else {
        return;
    };
    pg.client
        .batch_execute(&sql)
        .unwrap_or_else(|e| panic!("PostgreSQL rejected the DDL: {e}\n{sql}"));
    let insert = "INSERT INTO users (username, email) VALUES ($1, $2) RETURNING id";
    let id: i64 = pg.client.query_one(insert, &[&"ann", &"ann@x"]).unwrap().get(0);
    assert_eq!(id, 1);
    pg.client
        .batch_execute("INSERT INTO users (id, username, email) VALUES (2, 'bob', 'bob@x')")
        .unwrap();
    let collided = pg.client.query_one(insert, &[&"cy", &"cy@x"]).unwrap_err();
    assert_eq!(collided.code().map(|c| c.code()), Some("23505"));
    pg.client
        .batch_execute("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))")
        .unwrap();
    let id: i64 = pg.client.query_one(insert, &[&"cy", &"cy@x"]).unwrap().get(0);
    assert_eq!(id, 3);
}
