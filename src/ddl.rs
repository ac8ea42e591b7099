//! SQL DDL export: the schema as `CREATE TABLE` statements, for SQLite or PostgreSQL.
//!
//! Each entity becomes a table with an `id` primary key (the record key; an `#[relata(id)]`
//! field instead is the primary key: `INTEGER PRIMARY KEY` in SQLite, an identity column in
//! PostgreSQL), its columns with
//! NOT NULL where the Rust type is not an `Option`, UNIQUE constraints (composite ones
//! named), foreign keys with their ON DELETE action, and an index on every foreign-key column
//! plus the declared secondary indexes. Each many-to-many relation becomes an association
//! table with a composite primary key. A `max_len` text column is `VARCHAR(N)`, and in SQLite,
//! which ignores the length, also `CHECK (length(col) <= N)`. What SQL cannot express is
//! written as a comment:
//! `acyclic`, delete-orphan, and in SQLite a deferrable UNIQUE. A field's `default = expr` is
//! its column's `DEFAULT`; `created_at` / `updated_at` have none (the store writes them).
//!
//! Column types follow each engine's: SQLite's affinities (INTEGER for booleans, integers of
//! every width and keys; REAL for floats), PostgreSQL's types of the width ([`SqlType`]):
//! `bool` BOOLEAN, `i8` / `i16` / `u8` SMALLINT, `i32` / `u16` INTEGER, `i64` / `u32` /
//! `u64` and keys BIGINT, `f32` REAL, `f64` DOUBLE PRECISION.

use std::fmt::Write;

use crate::entity::{EntityDef, OnDelete};
use crate::schema::Schema;
use crate::value::{SqlType, Value};

/// The SQL dialect of [`Schema::to_sql`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// SQLite (foreign keys inline; run `PRAGMA foreign_keys = ON` before using them).
    Sqlite,
    /// PostgreSQL (foreign keys added after every table exists, so cycles work).
    Postgres,
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn sql_type(t: SqlType, dialect: Dialect) -> &'static str {
    match (t, dialect) {
        // SQLite's type affinity: one INTEGER and one REAL whatever the width.
        (SqlType::Boolean | SqlType::Integer16 | SqlType::Integer32 | SqlType::Integer, Dialect::Sqlite) => {
            "INTEGER"
        }
        (SqlType::Real32 | SqlType::Real, Dialect::Sqlite) => "REAL",
        (SqlType::Boolean, Dialect::Postgres) => "BOOLEAN",
        (SqlType::Integer16, Dialect::Postgres) => "SMALLINT",
        (SqlType::Integer32, Dialect::Postgres) => "INTEGER",
        (SqlType::Integer, Dialect::Postgres) => "BIGINT",
        (SqlType::Real32, Dialect::Postgres) => "REAL",
        (SqlType::Real, Dialect::Postgres) => "DOUBLE PRECISION",
        (SqlType::Text, _) => "TEXT",
        (SqlType::Blob, Dialect::Sqlite) => "BLOB",
        (SqlType::Blob, Dialect::Postgres) => "BYTEA",
        (SqlType::TimestampTz | SqlType::Timestamp | SqlType::Date, Dialect::Sqlite) => "INTEGER",
        (SqlType::TimestampTz, Dialect::Postgres) => "TIMESTAMPTZ",
        (SqlType::Timestamp, Dialect::Postgres) => "TIMESTAMP",
        (SqlType::Date, Dialect::Postgres) => "DATE",
        (SqlType::Uuid | SqlType::Numeric | SqlType::Json, Dialect::Sqlite) => "TEXT",
        (SqlType::Uuid, Dialect::Postgres) => "UUID",
        (SqlType::Numeric, Dialect::Postgres) => "NUMERIC",
        (SqlType::Json, Dialect::Postgres) => "JSONB",
        (SqlType::Custom { sqlite, .. }, Dialect::Sqlite) => sqlite,
        (SqlType::Custom { postgres, .. }, Dialect::Postgres) => postgres,
    }
}

/// A declared default as an SQL literal: PostgreSQL reads a typed value (a timestamp, a
/// UUID, a decimal) from its text; SQLite stores the representation. A boolean is written as
/// the column reads it: `TRUE`/`FALSE` for PostgreSQL, unless the column is declared an
/// integer (an `AsColumn` over `bool` with an integer `SQL_TYPE`), which takes 1/0 as SQLite
/// does. `None` for what has no literal (a NaN).
fn literal(value: Value<'_>, shown: Option<&str>, column: SqlType, dialect: Dialect) -> Option<String> {
    let integer = matches!(column, SqlType::Integer16 | SqlType::Integer32 | SqlType::Integer);
    let text = |s: &str| format!("'{}'", s.replace('\'', "''"));
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    Some(match (value, shown, dialect) {
        (_, Some(shown), Dialect::Postgres) => text(shown),
        (Value::Null, ..) => "NULL".to_owned(),
        (Value::Bool(b), _, Dialect::Sqlite) => u8::from(b).to_string(),
        (Value::Bool(b), _, Dialect::Postgres) if integer => u8::from(b).to_string(),
        (Value::Bool(b), _, Dialect::Postgres) => (if b { "TRUE" } else { "FALSE" }).to_owned(),
        (Value::Int(i), ..) => i.to_string(),
        (Value::UInt(u), ..) => u.to_string(),
        (Value::Float(f), ..) if f.is_finite() => format!("{f:?}"),
        (Value::Text(s) | Value::Numeric(s), ..) => text(s),
        (Value::Bytes(b), _, Dialect::Sqlite) => format!("X'{}'", hex(b)),
        (Value::Bytes(b), _, Dialect::Postgres) => format!("'\\x{}'", hex(b)),
        _ => return None,
    })
}

/// The primary key column other tables reference: the `#[relata(id)]` field's, else `id`
/// (the record key).
fn pk_column(def: &EntityDef) -> &'static str {
    def.id
        .and_then(|f| def.fields.get(f as usize))
        .map_or("id", |f| f.column)
}

/// An `#[relata(id)]` column as each engine declares an id it assigns: SQLite's rowid alias
/// (without AUTOINCREMENT, so the largest freed id comes back, as under `Engine::Sqlite`),
/// PostgreSQL's identity column of the field's width (a sequence; `BY DEFAULT`, so rows copied
/// from relata keep their ids).
fn identity_column(column: &str, t: SqlType, dialect: Dialect) -> String {
    match dialect {
        Dialect::Sqlite => format!("  {} INTEGER PRIMARY KEY", quote(column)),
        Dialect::Postgres => format!(
            "  {} {} GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            quote(column),
            sql_type(t, dialect)
        ),
    }
}

fn on_delete(action: OnDelete, orphan: bool) -> &'static str {
    match (action, orphan) {
        (_, true) | (OnDelete::Cascade, _) => " ON DELETE CASCADE",
        (OnDelete::SetNull, _) => " ON DELETE SET NULL",
        (OnDelete::Restrict, _) => " ON DELETE RESTRICT",
        // NO ACTION is SQL's default: no clause.
        (OnDelete::NoAction, _) => "",
    }
}

impl Schema {
    /// The schema as SQL DDL in `dialect`; applying it to an empty database gives tables a
    /// relational database enforces the same way relata does (see the module docs for the
    /// exceptions, which are written as comments).
    ///
    /// ```
    /// # use relata::{Dialect, Entity, Key, Schema};
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(table = "users")]
    /// struct User { #[relata(unique)] username: String }
    /// #[derive(Entity, Clone, Debug, PartialEq)]
    /// #[relata(table = "posts")]
    /// struct Post { title: String, #[relata(on_delete = "cascade")] author: Key<User> }
    /// let sql = Schema::builder().entity::<User>().entity::<Post>().build()?.to_sql(Dialect::Sqlite);
    /// assert!(sql.contains(r#""author_id" INTEGER NOT NULL REFERENCES "users"("id") ON DELETE CASCADE"#));
    /// # Ok::<(), relata::SchemaError>(())
    /// ```
    pub fn to_sql(&self, dialect: Dialect) -> String {
        let mut out = String::new();
        let mut foreign = Vec::new();
        for t in &self.inner.tables {
            create_table(&mut out, t.def, dialect, &mut foreign);
        }
        for r in &self.inner.relations {
            let (left, right) = (
                self.inner.tables[r.left].def.table,
                self.inner.tables[r.right].def.table,
            );
            let id = sql_type(SqlType::Integer, dialect);
            let (lc, rc) = (quote(r.left_column), quote(r.right_column));
            let _ = writeln!(out, "CREATE TABLE {} (", quote(r.name));
            let (left_pk, right_pk) = (
                quote(pk_column(self.inner.tables[r.left].def)),
                quote(pk_column(self.inner.tables[r.right].def)),
            );
            let _ = writeln!(
                out,
                "  {lc} {id} NOT NULL REFERENCES {}({left_pk}) ON DELETE CASCADE,",
                quote(left)
            );
            let _ = writeln!(
                out,
                "  {rc} {id} NOT NULL REFERENCES {}({right_pk}) ON DELETE CASCADE,",
                quote(right)
            );
            let _ = writeln!(out, "  PRIMARY KEY ({lc}, {rc})\n);");
            let _ = writeln!(
                out,
                "CREATE INDEX {} ON {} ({rc});",
                quote(&format!("ix_{}_{}", r.name, r.right_column)),
                quote(r.name)
            );
        }
        for statement in foreign {
            out.push_str(&statement);
        }
        out
    }
}

/// One entity's table and indexes; PostgreSQL foreign keys go to `foreign` (added last).
fn create_table(out: &mut String, def: &EntityDef, dialect: Dialect, foreign: &mut Vec<String>) {
    let _ = writeln!(out, "CREATE TABLE {} (", quote(def.table));
    let mut lines = match def.id {
        Some(_) => Vec::new(),
        None => vec![format!(
            "  \"id\" {} PRIMARY KEY",
            sql_type(SqlType::Integer, dialect)
        )],
    };
    for (i, f) in def.fields.iter().enumerate() {
        if def.id == Some(i as u16) {
            lines.push(identity_column(f.column, f.sql_type, dialect));
            continue;
        }
        let null = if f.nullable { "" } else { " NOT NULL" };
        let ty = match (f.max_len, f.sql_type) {
            (Some(n), SqlType::Text) => format!("VARCHAR({n})"),
            (_, t) => sql_type(t, dialect).to_owned(),
        };
        let mut line = format!("  {} {ty}{null}", quote(f.column));
        if let Some(Some(literal)) = f.default_value(|v, shown| literal(v, shown, f.sql_type, dialect)) {
            line = format!("{line} DEFAULT {literal}");
        }
        if let (Some(n), SqlType::Text, Dialect::Sqlite) = (f.max_len, f.sql_type, dialect) {
            // SQLite ignores VARCHAR's length; the CHECK makes it refuse what PostgreSQL and
            // relata refuse (length() counts characters, as VARCHAR(N) does).
            let name = quote(&format!("ck_{}_{}_max_len", def.table, f.column));
            line = format!(
                "{line} CONSTRAINT {name} CHECK (length({}) <= {n})",
                quote(f.column)
            );
        }
        if let Some(fk) = def.fks.iter().find(|fk| fk.field as usize == i) {
            let target_def = (fk.target)();
            let target = quote(target_def.table);
            let deferrable = if fk.deferrable {
                " DEFERRABLE INITIALLY DEFERRED"
            } else {
                ""
            };
            let clause = format!(
                "REFERENCES {target}({}){}{deferrable}",
                quote(pk_column(target_def)),
                on_delete(fk.on_delete, fk.orphan)
            );
            match dialect {
                Dialect::Sqlite => line = format!("{line} {clause}"),
                Dialect::Postgres => foreign.push(format!(
                    "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) {clause};\n",
                    quote(def.table),
                    quote(&format!("fk_{}_{}", def.table, f.column)),
                    quote(f.column)
                )),
            }
        }
        lines.push(line);
    }
    for u in def.uniques {
        if def.id.is_some_and(|f| u.fields == [f]) {
            continue; // the primary key
        }
        if u.nocase && dialect == Dialect::Postgres {
            continue; // a unique index on lower(col), after the table
        }
        let collate = if u.nocase { " COLLATE NOCASE" } else { "" };
        let cols: Vec<String> = (def.columns(u.fields).into_iter())
            .map(|c| format!("{}{collate}", quote(c)))
            .collect();
        let deferrable = match (u.deferrable, dialect) {
            (true, Dialect::Postgres) => " DEFERRABLE INITIALLY DEFERRED",
            _ => "",
        };
        lines.push(format!(
            "  CONSTRAINT {} UNIQUE ({}){deferrable}",
            quote(u.name),
            cols.join(", ")
        ));
    }
    for c in def.checks {
        if let Some(sql) = c.sql {
            lines.push(format!("  CONSTRAINT {} CHECK ({sql})", quote(c.name)));
        }
    }
    let _ = writeln!(out, "{}\n);", lines.join(",\n"));
    table_notes(out, def, dialect);
    if dialect == Dialect::Postgres {
        nocase_indexes(out, def);
    }
    table_indexes(out, def);
}

/// PostgreSQL has no NOCASE collation: a case-insensitive unique constraint is a unique index
/// on the lower-cased columns.
fn nocase_indexes(out: &mut String, def: &EntityDef) {
    for u in def.uniques.iter().filter(|u| u.nocase) {
        let cols: Vec<String> = (def.columns(u.fields).into_iter())
            .map(|c| format!("lower({})", quote(c)))
            .collect();
        let _ = writeln!(
            out,
            "CREATE UNIQUE INDEX {} ON {} ({});",
            quote(u.name),
            quote(def.table),
            cols.join(", ")
        );
    }
}

fn table_notes(out: &mut String, def: &EntityDef, dialect: Dialect) {
    for c in def.checks.iter().filter(|c| c.sql.is_none()) {
        let _ = writeln!(
            out,
            "-- {}: CHECK {} (a Rust predicate enforced by relata; give `sql` to export it)",
            def.table, c.name
        );
    }
    for (i, fk) in def.fks.iter().enumerate() {
        let column = def.fk_column(i);
        if fk.acyclic {
            let _ = writeln!(
                out,
                "-- {}.{column}: acyclic (enforced by relata; SQL cannot express it)",
                def.table
            );
        }
        if fk.orphan {
            let _ = writeln!(
                out,
                "-- {}.{column}: delete-orphan (a child that loses its parent is deleted)",
                def.table
            );
        }
    }
    if dialect == Dialect::Sqlite {
        for u in def.uniques.iter().filter(|u| u.deferrable) {
            let _ = writeln!(
                out,
                "-- {}: DEFERRABLE (SQLite checks UNIQUE per statement)",
                u.name
            );
        }
    }
}

fn table_indexes(out: &mut String, def: &EntityDef) {
    for (i, fk) in def.fks.iter().enumerate() {
        let covered = def.uniques.iter().any(|u| u.fields.first() == Some(&fk.field));
        if !covered {
            let column = def.fk_column(i);
            let name = quote(&format!("ix_{}_{column}", def.table));
            let _ = writeln!(
                out,
                "CREATE INDEX {name} ON {} ({});",
                quote(def.table),
                quote(column)
            );
        }
    }
    for x in def.indexes {
        let cols: Vec<String> = def.columns(x.fields).into_iter().map(quote).collect();
        let _ = writeln!(
            out,
            "CREATE INDEX {} ON {} ({});",
            quote(x.name),
            quote(def.table),
            cols.join(", ")
        );
    }
}
