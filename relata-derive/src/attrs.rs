//! Parsing of `#[relata(...)]` attributes into a plain model of the entity.

use syn::spanned::Spanned;
use syn::{Attribute, Data, DeriveInput, Fields, Ident, LitStr, Type};

/// What the user declared, after validation.
pub(crate) struct Model {
    pub(crate) ident: Ident,
    pub(crate) table: String,
    pub(crate) fields: Vec<FieldModel>,
    pub(crate) uniques: Vec<UniqueModel>,
    pub(crate) indexes: Vec<IndexModel>,
    pub(crate) checks: Vec<CheckModel>,
    /// The `#[relata(id)]` field's position.
    pub(crate) id: Option<usize>,
}

/// `check(path::to::predicate, name = "...", sql = "...")` on the struct.
pub(crate) struct CheckModel {
    pub(crate) predicate: syn::Path,
    pub(crate) name: Option<String>,
    pub(crate) sql: Option<String>,
}

pub(crate) struct FieldModel {
    pub(crate) ident: Ident,
    pub(crate) vis: syn::Visibility,
    pub(crate) ty: Type,
    pub(crate) column: String,
    pub(crate) fk: Option<FkModel>,
    /// `max_len = N`, with where it was written (for the text-only assertion).
    pub(crate) max_len: Option<(u32, proc_macro2::Span)>,
    /// `created_at` / `updated_at`, with where it was written (for the timestamp assertion).
    pub(crate) stamp: Option<(Stamp, proc_macro2::Span)>,
    /// `default = expr`.
    pub(crate) default: Option<syn::Expr>,
    /// `id`: an integer the store assigns, with where it was written.
    pub(crate) id: Option<proc_macro2::Span>,
}

/// Which clock time a field takes: `created_at` or `updated_at`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stamp {
    CreatedAt,
    UpdatedAt,
}

pub(crate) struct FkModel {
    pub(crate) back: Option<String>,
    pub(crate) on_delete: OnDelete,
    pub(crate) orphan: bool,
    pub(crate) acyclic: bool,
    pub(crate) deferrable: bool,
    pub(crate) unique: bool,
    pub(crate) span: proc_macro2::Span,
    /// `order_by = "field"`: the name as written, resolved to a position after parsing.
    pub(crate) order_by: Option<(String, proc_macro2::Span)>,
    pub(crate) order_by_field: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnDelete {
    Restrict,
    NoAction,
    Cascade,
    SetNull,
}

pub(crate) struct UniqueModel {
    pub(crate) name: Option<String>,
    pub(crate) fields: Vec<usize>,
    pub(crate) deferrable: bool,
    /// `unique(nocase)`: text compares ignoring ASCII case.
    pub(crate) nocase: Option<proc_macro2::Span>,
    /// Declared on a single field (gets a typed `BY_<FIELD>` handle).
    pub(crate) single: bool,
}

pub(crate) struct IndexModel {
    pub(crate) name: Option<String>,
    pub(crate) fields: Vec<usize>,
    pub(crate) single: bool,
    /// `index(ordered)`: also kept sorted, for range scans and ordered reads.
    pub(crate) ordered: bool,
}

/// Raw field-level options before we know whether the field is a key.
#[derive(Default)]
struct FieldOpts {
    /// `unique`: deferrable, name, `nocase` (where written).
    unique: Option<(bool, Option<String>, Option<proc_macro2::Span>)>,
    max_len: Option<(u32, proc_macro2::Span)>,
    stamp: Option<(Stamp, proc_macro2::Span)>,
    default: Option<syn::Expr>,
    id: Option<proc_macro2::Span>,
    /// `Some(ordered)` for `index` / `index(ordered)`.
    index: Option<bool>,
    column: Option<String>,
    back: Option<String>,
    on_delete: Option<OnDelete>,
    orphan: bool,
    acyclic: bool,
    deferrable: bool,
    fk_span: Option<proc_macro2::Span>,
    order_by: Option<(String, proc_macro2::Span)>,
}

pub(crate) fn parse(input: &DeriveInput) -> syn::Result<Model> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "relata: entities cannot be generic; declare one struct per table",
        ));
    }
    let named = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => &named.named,
            _ => {
                return Err(syn::Error::new(
                    input.ident.span(),
                    "relata: an entity must be a struct with named fields",
                ))
            }
        },
        _ => {
            return Err(syn::Error::new(
                input.ident.span(),
                "relata: `#[derive(Entity)]` only supports structs with named fields",
            ))
        }
    };
    let mut model = Model {
        ident: input.ident.clone(),
        table: default_table(&input.ident.to_string()),
        fields: Vec::new(),
        uniques: Vec::new(),
        indexes: Vec::new(),
        checks: Vec::new(),
        id: None,
    };
    let mut field_opts = Vec::new();
    for field in named {
        let ident = field.ident.clone().expect("named field");
        let opts = parse_field_attrs(&field.attrs)?;
        let is_key = is_key_type(&field.ty);
        let fk = build_fk(&ident, is_key, &opts)?;
        filled_checks(&ident, is_key, &opts)?;
        id_checks(&ident, is_key, &opts, model.id.is_some())?;
        if opts.id.is_some() {
            model.id = Some(model.fields.len());
        }
        let column = match (&opts.column, &fk) {
            (Some(c), _) => c.clone(),
            (None, Some(_)) if !ident.to_string().ends_with("_id") => format!("{ident}_id"),
            (None, _) => ident.to_string(),
        };
        if column == "id" && opts.id.is_none() {
            // The DDL and the JSON export give every record an `id`: the key column, or
            // the `#[relata(id)]` field. A second column of that name would clash in both.
            // A UUID or other id of the caller's keeps its field name under another column;
            // taking over `id` would change every foreign key's column type and the JSON's
            // record names.
            let msg = format!(
                "relata: column `id` is the record's key column (in the DDL and in JSON). For an integer id the store assigns, mark field `{ident}` `#[relata(id)]`; for an id of your own (a UUID, a code), keep the field and give it another column: `#[relata(unique, column = \"public_id\")]`"
            );
            return Err(syn::Error::new(ident.span(), msg));
        }
        model.fields.push(FieldModel {
            ident,
            vis: field.vis.clone(),
            ty: field.ty.clone(),
            column,
            fk,
            max_len: opts.max_len,
            stamp: opts.stamp,
            default: opts.default.clone(),
            id: opts.id,
        });
        field_opts.push(opts);
    }
    for (i, opts) in field_opts.iter().enumerate() {
        if let Some((deferrable, name, nocase)) = &opts.unique {
            model.uniques.push(UniqueModel {
                name: name.clone(),
                fields: vec![i],
                deferrable: *deferrable,
                nocase: *nocase,
                single: true,
            });
        }
        if let Some(ordered) = opts.index {
            model.indexes.push(IndexModel {
                name: None,
                fields: vec![i],
                single: true,
                ordered,
            });
        }
    }
    parse_struct_attrs(&input.attrs, &mut model)?;
    if let Some(i) = model.id {
        // The primary key: unique, so the store finds a record by its id in O(1); first, so
        // the DDL can tell it and writes it as the PRIMARY KEY rather than a UNIQUE.
        let name = Some(format!("pk_{}", model.table));
        let fields = vec![i];
        model.uniques.insert(
            0,
            UniqueModel {
                name,
                fields,
                deferrable: false,
                nocase: None,
                single: true,
            },
        );
    }
    resolve_order_by(&mut model)?;
    Ok(model)
}

fn resolve_order_by(model: &mut Model) -> syn::Result<()> {
    let names: Vec<String> = model.fields.iter().map(|f| f.ident.to_string()).collect();
    for field in &mut model.fields {
        let Some(fk) = &mut field.fk else { continue };
        let Some((name, span)) = &fk.order_by else {
            continue;
        };
        let pos = names.iter().position(|n| n == name).ok_or_else(|| {
            syn::Error::new(
                *span,
                format!("relata: `order_by` names no field `{name}` of this struct"),
            )
        })?;
        if fk.unique {
            return Err(syn::Error::new(
                *span,
                "relata: `order_by` needs a one-to-many key, not a `unique` one",
            ));
        }
        fk.order_by_field = Some(pos);
    }
    Ok(())
}

/// `id` goes on one value field per struct, and alone: the store assigns it, and as the
/// primary key it is already unique.
fn id_checks(ident: &Ident, is_key: bool, o: &FieldOpts, seen: bool) -> syn::Result<()> {
    let Some(span) = o.id else { return Ok(()) };
    let clash = if seen {
        Some("a second `id`: a table has one primary key")
    } else if is_key {
        Some("`id` on a foreign key: an id is an integer the store assigns")
    } else if o.stamp.is_some() || o.default.is_some() {
        Some("`id` with `created_at`, `updated_at` or `default`: the store assigns the id")
    } else if o.unique.is_some() || o.index.is_some() || o.max_len.is_some() {
        Some("`id` with `unique`, `index` or `max_len`: the id is the primary key, unique and looked up in O(1) already")
    } else {
        None
    };
    match clash {
        Some(msg) => Err(syn::Error::new(span, format!("relata: {msg} (field `{ident}`)"))),
        None => Ok(()),
    }
}

/// `created_at`, `updated_at` and `default` go on value fields, one of them per field.
fn filled_checks(ident: &Ident, is_key: bool, o: &FieldOpts) -> syn::Result<()> {
    let what = match (o.stamp, &o.default) {
        (Some((Stamp::CreatedAt, _)), _) => "created_at",
        (Some((Stamp::UpdatedAt, _)), _) => "updated_at",
        (None, Some(_)) => "default",
        (None, None) => return Ok(()),
    };
    let span = o.stamp.map_or_else(|| ident.span(), |(_, span)| span);
    if is_key {
        return Err(syn::Error::new(
            span,
            format!("relata: `{what}` on the foreign key `{ident}`: a key names a record the caller picks"),
        ));
    }
    if o.stamp.is_some() && o.default.is_some() {
        return Err(syn::Error::new(
            span,
            format!("relata: `{what}` and `default` on `{ident}`: the store's clock fills the field, a default would never be used"),
        ));
    }
    Ok(())
}

fn build_fk(ident: &Ident, is_key: bool, o: &FieldOpts) -> syn::Result<Option<FkModel>> {
    let declared = o.back.is_some()
        || o.on_delete.is_some()
        || o.orphan
        || o.acyclic
        || o.order_by.is_some()
        || o.fk_span.is_some();
    if !is_key && !declared {
        if o.deferrable && o.unique.is_none() {
            return Err(syn::Error::new(
                ident.span(),
                "relata: `deferrable` applies to a foreign key or to `unique(deferrable)`",
            ));
        }
        return Ok(None);
    }
    if o.deferrable && o.on_delete == Some(OnDelete::Restrict) {
        return Err(syn::Error::new(
            o.fk_span.unwrap_or_else(|| ident.span()),
            "relata: `on_delete = \"restrict\"` is checked at once and never deferred (as in SQL); \
             for a restriction checked at commit, use `deferrable` with `on_delete = \"no_action\"` (the default)",
        ));
    }
    let unique = o.unique.is_some();
    Ok(Some(FkModel {
        back: o.back.clone(),
        on_delete: o.on_delete.unwrap_or(OnDelete::NoAction),
        orphan: o.orphan,
        acyclic: o.acyclic,
        deferrable: o.deferrable,
        unique,
        span: o.fk_span.unwrap_or_else(|| ident.span()),
        order_by: o.order_by.clone(),
        order_by_field: None,
    }))
}

/// `Key<...>` or `Option<Key<...>>`, recognised by the last path segment.
pub(crate) fn is_key_type(ty: &Type) -> bool {
    let Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    if last.ident == "Key" {
        return true;
    }
    if last.ident == "Option" {
        if let syn::PathArguments::AngleBracketed(args) = &last.arguments {
            if let Some(syn::GenericArgument::Type(inner)) = args.args.first() {
                return is_key_type(inner);
            }
        }
    }
    false
}

fn parse_field_attrs(attrs: &[Attribute]) -> syn::Result<FieldOpts> {
    let mut o = FieldOpts::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident("relata")) {
        attr.parse_nested_meta(|meta| {
            let key = meta
                .path
                .get_ident()
                .map(|i| i.to_string())
                .unwrap_or_default();
            match key.as_str() {
                "unique" => {
                    let mut deferrable = false;
                    let mut name = None;
                    let mut nocase = None;
                    if meta.input.peek(syn::token::Paren) {
                        meta.parse_nested_meta(|inner| {
                            if inner.path.is_ident("deferrable") {
                                deferrable = true;
                                Ok(())
                            } else if inner.path.is_ident("nocase") {
                                nocase = Some(inner.path.span());
                                Ok(())
                            } else if inner.path.is_ident("name") {
                                name = Some(inner.value()?.parse::<LitStr>()?.value());
                                Ok(())
                            } else {
                                Err(inner.error(
                                    "relata: expected `deferrable`, `nocase` or `name = \"...\"` in `unique(...)`",
                                ))
                            }
                        })?;
                    }
                    o.unique = Some((deferrable, name, nocase));
                }
                "index" => {
                    let mut ordered = false;
                    if meta.input.peek(syn::token::Paren) {
                        meta.parse_nested_meta(|inner| {
                            if inner.path.is_ident("ordered") {
                                ordered = true;
                                Ok(())
                            } else {
                                Err(inner.error("relata: expected `ordered` in `index(...)`"))
                            }
                        })?;
                    }
                    o.index = Some(ordered);
                }
                "created_at" | "updated_at" => {
                    let stamp = match key.as_str() {
                        "created_at" => Stamp::CreatedAt,
                        _ => Stamp::UpdatedAt,
                    };
                    if o.stamp.is_some() {
                        return Err(meta.error(
                            "relata: a field is filled at most once: `created_at` or `updated_at`, not both",
                        ));
                    }
                    o.stamp = Some((stamp, meta.path.span()));
                }
                "default" => o.default = Some(meta.value()?.parse::<syn::Expr>()?),
                "id" => o.id = Some(meta.path.span()),
                "max_len" => {
                    let lit = meta.value()?.parse::<syn::LitInt>()?;
                    o.max_len = Some((lit.base10_parse::<u32>()?, lit.span()));
                }
                "column" => o.column = Some(meta.value()?.parse::<LitStr>()?.value()),
                "back" => {
                    o.back = Some(meta.value()?.parse::<LitStr>()?.value());
                    o.fk_span = Some(meta.path.span());
                }
                "on_delete" => {
                    let lit = meta.value()?.parse::<LitStr>()?;
                    o.on_delete = Some(match lit.value().as_str() {
                        "restrict" => OnDelete::Restrict,
                        "no_action" => OnDelete::NoAction,
                        "cascade" => OnDelete::Cascade,
                        "set_null" => OnDelete::SetNull,
                        other => {
                            return Err(syn::Error::new(
                                lit.span(),
                                format!(
                                    "relata: unknown on_delete action `{other}`; expected \"no_action\", \"restrict\", \"cascade\" or \"set_null\""
                                ),
                            ))
                        }
                    });
                    o.fk_span = Some(lit.span());
                }
                "order_by" => {
                    let lit = meta.value()?.parse::<LitStr>()?;
                    o.order_by = Some((lit.value(), lit.span()));
                }
                "orphan" | "delete_orphan" => o.orphan = true,
                "acyclic" => o.acyclic = true,
                "deferrable" => o.deferrable = true,
                _ => {
                    return Err(meta.error(format!(
                        "relata: unknown field option `{key}`; expected one of id, unique, index, max_len, created_at, updated_at, default, column, back, on_delete, order_by, orphan, acyclic, deferrable"
                    )))
                }
            }
            Ok(())
        })?;
    }
    Ok(o)
}

fn parse_struct_attrs(attrs: &[Attribute], model: &mut Model) -> syn::Result<()> {
    for attr in attrs.iter().filter(|a| a.path().is_ident("relata")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("table") {
                let lit = meta.value()?.parse::<LitStr>()?;
                if lit.value().is_empty() {
                    return Err(syn::Error::new(lit.span(), "relata: table name is empty"));
                }
                model.table = lit.value();
                return Ok(());
            }
            if meta.path.is_ident("check") {
                model.checks.push(parse_check(&meta)?);
                return Ok(());
            }
            let composite = meta.path.is_ident("unique");
            if !composite && !meta.path.is_ident("index") {
                return Err(meta.error(
                    "relata: unknown struct option; expected `table = \"...\"`, `unique(a, b, ...)`, `index(a, b, ...)` or `check(path::to::predicate, name = \"...\", sql = \"...\")`",
                ));
            }
            let mut fields = Vec::new();
            let mut name = None;
            let mut deferrable = false;
            let mut ordered = false;
            let mut nocase = None;
            meta.parse_nested_meta(|inner| {
                if inner.path.is_ident("name") && inner.input.peek(syn::Token![=]) {
                    name = Some(inner.value()?.parse::<LitStr>()?.value());
                } else if inner.path.is_ident("deferrable") && composite {
                    deferrable = true;
                } else if inner.path.is_ident("ordered") && !composite {
                    ordered = true;
                } else if inner.path.is_ident("nocase") && composite {
                    nocase = Some(inner.path.span());
                } else if let Some(id) = inner.path.get_ident() {
                    let pos = model.fields.iter().position(|f| f.ident == *id).ok_or_else(|| {
                        inner.error(format!("relata: no field named `{id}` in this struct"))
                    })?;
                    if fields.contains(&pos) {
                        return Err(inner.error(format!("relata: field `{id}` is listed twice")));
                    }
                    fields.push(pos);
                } else {
                    return Err(inner.error("relata: expected a field name"));
                }
                Ok(())
            })?;
            if fields.is_empty() {
                return Err(meta.error("relata: list at least one field"));
            }
            if composite {
                model.uniques.push(UniqueModel { name, fields, deferrable, nocase, single: false });
            } else {
                model.indexes.push(IndexModel { name, fields, single: false, ordered });
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// `check(path::to::predicate, name = "...", sql = "...")`: the predicate first.
fn parse_check(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<CheckModel> {
    let mut check = CheckModel {
        predicate: syn::Path {
            leading_colon: None,
            segments: Default::default(),
        },
        name: None,
        sql: None,
    };
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("name") && inner.input.peek(syn::Token![=]) {
            check.name = Some(inner.value()?.parse::<LitStr>()?.value());
        } else if inner.path.is_ident("sql") && inner.input.peek(syn::Token![=]) {
            check.sql = Some(inner.value()?.parse::<LitStr>()?.value());
        } else if check.predicate.segments.is_empty() {
            check.predicate = inner.path.clone();
        } else {
            return Err(
                inner.error("relata: `check(...)` takes one predicate, `name = \"...\"` and `sql = \"...\"`")
            );
        }
        Ok(())
    })?;
    if check.predicate.segments.is_empty() {
        return Err(meta.error("relata: `check(...)` needs a predicate: a `fn(&Self) -> bool` path"));
    }
    Ok(check)
}

/// `UserGroup` -> `user_groups`, `Category` -> `categories`.
fn default_table(name: &str) -> String {
    let snake = snake_case(name);
    if snake.ends_with('s') || snake.ends_with('x') || snake.ends_with("ch") || snake.ends_with("sh") {
        format!("{snake}es")
    } else if snake.ends_with('y')
        && !snake.ends_with("ay")
        && !snake.ends_with("ey")
        && !snake.ends_with("oy")
    {
        format!("{}ies", &snake[..snake.len() - 1])
    } else {
        format!("{snake}s")
    }
}

pub(crate) fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
