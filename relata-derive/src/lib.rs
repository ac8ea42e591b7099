//! `#[derive(Entity)]` for relata. Use it through the `relata` crate: `use relata::Entity;`.
//!
//! The macro reads `#[relata(...)]` attributes and generates:
//! - a hidden compact `Row` type (what the store's arena holds: text as spans into a
//!   per-table heap, keys as raw keys, plus one link sequence number per foreign key);
//! - a borrowed view `<Name>Ref<'a>` with one public field per struct field;
//! - the `relata::Entity` impl with a static schema descriptor;
//! - typed handles: `<FIELD>` for each foreign key, `BY_<FIELD>` for single-field unique
//!   constraints and indexes, `BY_<A>_<B>` for composite ones; an index over the same fields
//!   as a unique constraint is `BY_<A>_<B>_INDEX`.

mod attrs;
mod column;

use attrs::{FieldModel, Model, OnDelete, Stamp};
use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{parse_macro_input, DeriveInput};

/// Derives `relata::Entity` for a struct with named fields. Every `#[relata(...)]` option, with
/// an example, is documented on the `relata::Entity` trait (its "Attributes" section).
#[proc_macro_derive(Entity, attributes(relata))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let checked = attrs::parse(&input)
        .and_then(|model| no_handle_clash(&model).map(|()| model))
        .and_then(|model| few_enough_keys(&model).map(|()| model));
    match checked {
        Ok(model) => expand(&model, &input.vis).into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// The most foreign keys one entity may have: a row keeps their link numbers in a `[u32; N]`,
/// which serde reads and writes up to 32, and a snapshot writes each key's numbers relative
/// to that key's own in the row before (`relata`'s `store/table/links.rs` keeps 32 of them).
const MAX_FOREIGN_KEYS: usize = 32;

/// More foreign keys than [`MAX_FOREIGN_KEYS`] is an error naming the limit, rather than a
/// missing serde impl for a long array.
fn few_enough_keys(m: &Model) -> syn::Result<()> {
    let n = m.fields.iter().filter(|f| f.fk.is_some()).count();
    if n <= MAX_FOREIGN_KEYS {
        return Ok(());
    }
    Err(syn::Error::new(
        m.ident.span(),
        format!(
            "relata: `{}` has {n} foreign keys; an entity may have at most {MAX_FOREIGN_KEYS}",
            m.ident
        ),
    ))
}

/// Two constraints or indexes whose handles would get one name (declared twice) are an
/// error naming them, rather than a clash of generated constants.
fn no_handle_clash(m: &Model) -> syn::Result<()> {
    let names = handle_names(m);
    let describe = |kind: &str, fields: &[usize]| {
        let cols: Vec<_> = fields.iter().map(|&i| m.fields[i].ident.to_string()).collect();
        format!("the {kind} on ({})", cols.join(", "))
    };
    let mut seen: Vec<(String, String)> = m
        .fields
        .iter()
        .filter(|f| f.fk.is_some())
        .map(|f| {
            (
                f.ident.to_string().to_uppercase(),
                format!("the foreign key `{}`", f.ident),
            )
        })
        .collect();
    let declared = (m.uniques.iter().zip(&names.uniques))
        .map(|(u, n)| (n, describe("unique constraint", &u.fields)))
        .chain((m.indexes.iter().zip(&names.indexes)).map(|(x, n)| (n, describe("index", &x.fields))));
    for (name, what) in declared {
        if let Some((_, first)) = seen.iter().find(|(n, _)| n == name) {
            return Err(syn::Error::new(
                m.ident.span(),
                format!(
                    "relata: {first} and {what} would both have the handle `{}::{name}`; \
                     declare each constraint and index once",
                    m.ident
                ),
            ));
        }
        seen.push((name.clone(), what));
    }
    Ok(())
}

/// Derives `relata::AsColumn` for a newtype (`struct Email(String)`, stored as its field and
/// read as the field's borrowed form) or a field-less enum (read as itself, so it must be
/// `Copy`). Enum options: `#[relata(text)]` (the default: stored as its variant names),
/// `#[relata(integer)]` (stored as its discriminants), `#[relata(rename_all = "snake_case")]`
/// (or `"lowercase"`, `"UPPERCASE"`, `"SCREAMING_SNAKE_CASE"`), and on a variant
/// `#[relata(rename = "...")]`. See `relata::AsColumn` for an example.
#[proc_macro_derive(Column, attributes(relata))]
pub fn derive_column(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match column::expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand(m: &Model, vis: &syn::Visibility) -> Tokens {
    let ident = &m.ident;
    let ref_ident = format_ident!("{}Ref", ident);
    let n_fk = m.fields.iter().filter(|f| f.fk.is_some()).count();
    let row = row_type(m, n_fk);
    let view = view_type(m, vis, &ref_ident);
    let entity_impl = entity_impl(m, &ref_ident, n_fk);
    let handles = handles(m);
    let checks = const_checks(m);
    quote! {
        #view
        const _: () = {
            #row
            #entity_impl
            #checks
        };
        #handles
    }
}

fn field_idents(m: &Model) -> Vec<syn::Ident> {
    (0..m.fields.len()).map(|i| format_ident!("f{}", i)).collect()
}

fn row_type(m: &Model, n_fk: usize) -> Tokens {
    let fs = field_idents(m);
    let tys: Vec<_> = m.fields.iter().map(|f| &f.ty).collect();
    quote! {
        #[doc(hidden)]
        #[derive(Clone, Debug, Default, PartialEq, ::relata::__private::serde::Serialize, ::relata::__private::serde::Deserialize)]
        #[serde(crate = "::relata::__private::serde")]
        pub struct __RelataRow {
            #( #fs: <#tys as ::relata::Column>::Stored, )*
            #[serde(serialize_with = "::relata::__private::links_out")]
            seq: [u32; #n_fk],
        }
    }
}

fn view_type(m: &Model, vis: &syn::Visibility, ref_ident: &syn::Ident) -> Tokens {
    let ident = &m.ident;
    let doc = format!("A borrowed view of a [`{ident}`] stored in a relata store (text fields are lazy `relata::Text`, which derefs to `str`).");
    let fields = m.fields.iter().map(|f| {
        let (fv, fi, ty) = (&f.vis, &f.ident, &f.ty);
        let doc = format!("The `{fi}` field.");
        quote! { #[doc = #doc] #fv #fi: <#ty as ::relata::Column>::Ref<'a>, }
    });
    quote! {
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, PartialEq)]
        #vis struct #ref_ident<'a> {
            #( #fields )*
            #[doc(hidden)]
            pub __marker: ::core::marker::PhantomData<&'a ()>,
        }
    }
}

fn entity_impl(m: &Model, ref_ident: &syn::Ident, n_fk: usize) -> Tokens {
    let ident = &m.ident;
    let fs = field_idents(m);
    let names: Vec<_> = m.fields.iter().map(|f| &f.ident).collect();
    let tys: Vec<_> = m.fields.iter().map(|f| &f.ty).collect();
    let idx: Vec<usize> = (0..m.fields.len()).collect();
    let fk_fields: Vec<(usize, &FieldModel)> = m
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.fk.is_some())
        .collect();
    let fk_idx: Vec<usize> = (0..fk_fields.len()).collect();
    let fk_f: Vec<_> = fk_fields.iter().map(|(i, _)| format_ident!("f{}", i)).collect();
    let fk_ty: Vec<_> = fk_fields.iter().map(|(_, f)| &f.ty).collect();
    let def = entity_def(m);
    let check_paths: Vec<_> = m.checks.iter().map(|c| &c.predicate).collect();
    let check_idx: Vec<usize> = (0..check_paths.len()).collect();
    let from_json = m.fields.iter().enumerate().map(|(i, f)| field_from_json(i, f));
    let filled = filled_fns(m);
    let read_now = match m.fields.iter().any(|f| f.stamp.is_some()) {
        true => quote!(let now = cx.now();),
        false => quote!(),
    };
    quote! {
        impl ::relata::Entity for #ident {
            type Row = __RelataRow;
            type Ref<'a> = #ref_ident<'a>;
            const DEF: &'static ::relata::EntityDef = &#def;

            fn __into_row(self, text: &mut ::relata::TextHeap) -> ::core::result::Result<__RelataRow, ::relata::Error> {
                ::core::result::Result::Ok(__RelataRow {
                    #( #fs: ::relata::Column::store(self.#names, text)?, )*
                    seq: [0u32; #n_fk],
                })
            }
            fn __into_row_reusing(self, old: &__RelataRow, text: &mut ::relata::TextHeap) -> ::core::result::Result<__RelataRow, ::relata::Error> {
                ::core::result::Result::Ok(__RelataRow {
                    #( #fs: ::relata::Column::store_reusing(self.#names, &old.#fs, text)?, )*
                    seq: old.seq,
                })
            }
            fn __view<'a>(row: &'a __RelataRow, text: ::relata::TextRead<'a>) -> #ref_ident<'a> {
                #ref_ident {
                    #( #names: <#tys as ::relata::Column>::view(&row.#fs, text), )*
                    __marker: ::core::marker::PhantomData,
                }
            }
            fn __from_row(row: &__RelataRow, text: &::relata::TextHeap) -> Self {
                #ident { #( #names: <#tys as ::relata::Column>::load(&row.#fs, text), )* }
            }
            fn __value<'a>(row: &'a __RelataRow, text: &'a ::relata::TextHeap, field: usize) -> ::relata::Value<'a> {
                match field {
                    #( #idx => <#tys as ::relata::Column>::value(&row.#fs, text), )*
                    _ => ::relata::Value::Null,
                }
            }
            #[inline]
            fn __given(&self, field: usize) -> ::core::option::Option<::relata::Value<'_>> {
                match field {
                    #( #idx => <#tys as ::relata::Column>::given(&self.#names), )*
                    _ => ::core::option::Option::None,
                }
            }
            #[inline]
            fn __take_text(&mut self, field: usize) -> ::core::option::Option<::std::string::String> {
                match field {
                    #( #idx => <#tys as ::relata::Column>::take_text(&mut self.#names), )*
                    _ => ::core::option::Option::None,
                }
            }
            fn __check(&self) -> ::core::option::Option<usize> {
                #( if !#check_paths(self) {
                    return ::core::option::Option::Some(#check_idx);
                } )*
                ::core::option::Option::None
            }
            fn __fails(&self, check: usize) -> bool {
                match check {
                    #( #check_idx => !#check_paths(self), )*
                    _ => false,
                }
            }
            fn __shown(row: &__RelataRow, text: &::relata::TextHeap, field: usize) -> ::core::option::Option<::std::string::String> {
                match field {
                    #( #idx => <#tys as ::relata::Column>::shown(&row.#fs, text), )*
                    _ => ::core::option::Option::None,
                }
            }
            const __ACCEPTS_ALL: bool = true #( && <#tys as ::relata::Column>::ACCEPTS_ALL )*;
            fn __rejected(row: &__RelataRow, text: &::relata::TextHeap) -> ::core::option::Option<usize> {
                #( if !<#tys as ::relata::Column>::accepts(&row.#fs, text) {
                    return ::core::option::Option::Some(#idx);
                } )*
                ::core::option::Option::None
            }
            fn __from_json(
                record: &::relata::__private::serde_json::Map<::std::string::String, ::relata::__private::serde_json::Value>,
                cx: &mut ::relata::__private::JsonCx<'_>,
            ) -> ::core::result::Result<Self, (usize, ::relata::__private::JsonBad)> {
                #read_now
                ::core::result::Result::Ok(#ident {
                    #( #names: #from_json.map_err(|e| (#idx, e))?, )*
                })
            }
            fn __fk(row: &__RelataRow, fk: usize) -> ::core::option::Option<::relata::RawKey> {
                match fk {
                    #( #fk_idx => <#fk_ty as ::relata::KeyColumn>::raw(&row.#fk_f), )*
                    _ => ::core::option::Option::None,
                }
            }
            fn __set_fk(row: &mut __RelataRow, fk: usize, to: ::core::option::Option<::relata::RawKey>) -> bool {
                match fk {
                    #( #fk_idx => <#fk_ty as ::relata::KeyColumn>::set_raw(&mut row.#fk_f, to), )*
                    _ => false,
                }
            }
            fn __seqs(row: &__RelataRow) -> &[u32] { &row.seq }
            fn __seqs_mut(row: &mut __RelataRow) -> &mut [u32] { &mut row.seq }
            fn __for_each_span(row: &mut __RelataRow, f: &mut dyn FnMut(&mut ::relata::Span)) {
                #( <#tys as ::relata::Column>::for_each_span(&mut row.#fs, f); )*
            }
            fn __spans(row: &__RelataRow, f: &mut dyn FnMut(::relata::Span)) {
                #( <#tys as ::relata::Column>::spans(&row.#fs, f); )*
            }
            #filled
        }
    }
}

/// A field of a JSON fixture record; one left out takes its default or the clock's time.
fn field_from_json(i: usize, f: &FieldModel) -> Tokens {
    let ty = &f.ty;
    let args = quote!(record, &<Self as ::relata::Entity>::DEF.fields[#i], cx);
    if f.id.is_some() {
        // The record's id is kept (a round trip of `to_json`); without one it gets the next.
        return quote!(::relata::__private::id_from_json::<#ty>(#args));
    }
    let or = match (&f.stamp, &f.default) {
        (Some(_), _) => quote!(|| <#ty as ::relata::Timestamp>::from_unix_micros(now)),
        (None, Some(expr)) => quote!(|| -> #ty { #expr }),
        (None, None) => return quote!(::relata::__private::field_from_json::<#ty>(#args)),
    };
    quote!(::relata::__private::field_from_json_or::<#ty>(#args, #or))
}

/// `__STAMPS`, `__stamp` and `__default_field`, for the fields the store fills.
fn filled_fns(m: &Model) -> Tokens {
    let stamps = m.fields.iter().enumerate().filter_map(|(i, f)| {
        let (stamp, span) = f.stamp?;
        let (fi, ty) = (format_ident!("f{}", i), &f.ty);
        let now = quote::quote_spanned! {span=>
            <#ty as ::relata::Column>::store(<#ty as ::relata::Timestamp>::from_unix_micros(now), text)?
        };
        Some(match stamp {
            Stamp::CreatedAt => quote! {
                row.#fi = match old {
                    ::core::option::Option::Some(o) => ::core::clone::Clone::clone(&o.#fi),
                    ::core::option::Option::None => #now,
                };
            },
            Stamp::UpdatedAt => quote! { row.#fi = #now; },
        })
    });
    let stamps: Vec<Tokens> = stamps.collect();
    let defaults = m.fields.iter().enumerate().filter_map(|(i, f)| {
        let expr = f.default.as_ref()?;
        let (fi, ty) = (format_ident!("f{}", i), &f.ty);
        Some(quote! {
            #i => {
                let value: #ty = #expr;
                row.#fi = <#ty as ::relata::Column>::store(value, text)?;
                ::core::result::Result::Ok(true)
            }
        })
    });
    let defaults: Vec<Tokens> = defaults.collect();
    let mut out = id_fns(m);
    if !stamps.is_empty() {
        out.extend(quote! {
            const __STAMPS: bool = true;
            fn __stamp(
                row: &mut __RelataRow,
                old: ::core::option::Option<&__RelataRow>,
                now: i64,
                text: &mut ::relata::TextHeap,
            ) -> ::core::result::Result<(), ::relata::Error> {
                #( #stamps )*
                ::core::result::Result::Ok(())
            }
        });
    }
    if !defaults.is_empty() {
        out.extend(quote! {
            fn __default_field(
                row: &mut __RelataRow,
                text: &mut ::relata::TextHeap,
                field: usize,
            ) -> ::core::result::Result<bool, ::relata::Error> {
                match field {
                    #( #defaults )*
                    _ => ::core::result::Result::Ok(false),
                }
            }
        });
    }
    out
}

/// `__set_id` and `__keep_id` for the `#[relata(id)]` field (its type must be an
/// `Identity`, checked where the attribute is written).
fn id_fns(m: &Model) -> Tokens {
    let Some(i) = m.id else { return Tokens::new() };
    let f = &m.fields[i];
    let (fi, ty, span) = (
        format_ident!("f{}", i),
        &f.ty,
        f.id.unwrap_or_else(proc_macro2::Span::call_site),
    );
    let from_id = quote::quote_spanned! {span=> <#ty as ::relata::Identity>::from_id(id) };
    quote! {
        fn __set_id(
            row: &mut __RelataRow,
            id: u64,
            text: &mut ::relata::TextHeap,
        ) -> ::core::result::Result<(), ::relata::Error> {
            let value: #ty = #from_id.ok_or(::relata::Error::CapacityExceeded {
                what: "ids: the next id does not fit the id field's type",
            })?;
            row.#fi = <#ty as ::relata::Column>::store(value, text)?;
            ::core::result::Result::Ok(())
        }
        fn __keep_id(row: &mut __RelataRow, old: &__RelataRow) {
            row.#fi = ::core::clone::Clone::clone(&old.#fi);
        }
    }
}

fn lit(s: &str) -> syn::LitStr {
    syn::LitStr::new(s, proc_macro2::Span::call_site())
}

fn entity_def(m: &Model) -> Tokens {
    let type_name = lit(&m.ident.to_string());
    let table = lit(&m.table);
    let fields = m.fields.iter().map(|f| {
        let (name, column, ty) = (lit(&f.ident.to_string()), lit(&f.column), &f.ty);
        let max_len = match f.max_len {
            Some((n, _)) => quote!(::core::option::Option::Some(#n)),
            None => quote!(::core::option::Option::None),
        };
        let stamp = match f.stamp {
            Some((Stamp::CreatedAt, _)) => quote!(::core::option::Option::Some(::relata::Stamp::CreatedAt)),
            Some((Stamp::UpdatedAt, _)) => quote!(::core::option::Option::Some(::relata::Stamp::UpdatedAt)),
            None => quote!(::core::option::Option::None),
        };
        let default = match &f.default {
            Some(expr) => quote! {
                ::core::option::Option::Some(|f: &mut dyn FnMut(::relata::Value<'_>, ::core::option::Option<::std::string::String>)| {
                    let value: #ty = #expr;
                    let mut text = ::relata::TextHeap::default();
                    if let ::core::result::Result::Ok(s) = <#ty as ::relata::Column>::store(value, &mut text) {
                        f(<#ty as ::relata::Column>::value(&s, &text), <#ty as ::relata::Column>::shown(&s, &text))
                    }
                })
            },
            None => quote!(::core::option::Option::None),
        };
        quote! {
            ::relata::FieldDef {
                name: #name,
                column: #column,
                sql_type: <#ty as ::relata::Column>::SQL_TYPE,
                nullable: <#ty as ::relata::Column>::NULLABLE,
                stored: <#ty as ::relata::Column>::STORED,
                max_len: #max_len,
                stamp: #stamp,
                default: #default,
                holds: <#ty as ::relata::Column>::holds,
            }
        }
    });
    let checks = m.checks.iter().map(|c| {
        let default = c
            .predicate
            .segments
            .last()
            .map_or(String::new(), |s| s.ident.to_string());
        let name = lit(&c
            .name
            .clone()
            .unwrap_or_else(|| format!("ck_{}_{default}", m.table)));
        let sql = match &c.sql {
            Some(sql) => {
                let sql = lit(sql);
                quote!(::core::option::Option::Some(#sql))
            }
            None => quote!(::core::option::Option::None),
        };
        quote! { ::relata::CheckDef { name: #name, sql: #sql } }
    });
    let uniques = m.uniques.iter().map(|u| {
        let name = lit(&u
            .name
            .clone()
            .unwrap_or_else(|| constraint_name("uq", m, &u.fields)));
        let fields = u.fields.iter().map(|&i| i as u16);
        let columns = u.fields.iter().map(|&i| lit(&m.fields[i].column));
        let (deferrable, nocase) = (u.deferrable, u.nocase.is_some());
        quote! {
            ::relata::UniqueDef {
                name: #name,
                fields: &[#(#fields),*],
                columns: &[#(#columns),*],
                deferrable: #deferrable,
                nocase: #nocase,
            }
        }
    });
    let indexes = m.indexes.iter().map(|x| {
        let name = lit(&x
            .name
            .clone()
            .unwrap_or_else(|| constraint_name("ix", m, &x.fields)));
        let fields = x.fields.iter().map(|&i| i as u16);
        let ordered = x.ordered;
        quote! { ::relata::IndexDef { name: #name, fields: &[#(#fields),*], ordered: #ordered } }
    });
    let fks = m.fields.iter().enumerate().filter_map(|(i, f)| {
        let fk = f.fk.as_ref()?;
        let ty = &f.ty;
        let field = i as u16;
        let back = lit(&fk.back.clone().unwrap_or_else(|| default_back(m, fk.unique)));
        let on_delete = match fk.on_delete {
            OnDelete::Restrict => quote!(::relata::OnDelete::Restrict),
            OnDelete::NoAction => quote!(::relata::OnDelete::NoAction),
            OnDelete::Cascade => quote!(::relata::OnDelete::Cascade),
            OnDelete::SetNull => quote!(::relata::OnDelete::SetNull),
        };
        let (orphan, acyclic, deferrable, unique) = (fk.orphan, fk.acyclic, fk.deferrable, fk.unique);
        let order_by = match fk.order_by_field {
            Some(i) => {
                let i = i as u16;
                quote!(::core::option::Option::Some(#i))
            }
            None => quote!(::core::option::Option::None),
        };
        Some(quote! {
            ::relata::FkDef {
                field: #field,
                target: <#ty as ::relata::KeyColumn>::target_def,
                target_type: <#ty as ::relata::KeyColumn>::target_type,
                nullable: <#ty as ::relata::Column>::NULLABLE,
                back: #back,
                on_delete: #on_delete,
                orphan: #orphan,
                acyclic: #acyclic,
                deferrable: #deferrable,
                unique: #unique,
                order_by: #order_by,
            }
        })
    });
    let id = match m.id {
        Some(i) => {
            let i = i as u16;
            quote!(::core::option::Option::Some(#i))
        }
        None => quote!(::core::option::Option::None),
    };
    quote! {
        ::relata::EntityDef {
            type_name: #type_name,
            table: #table,
            fields: &[#(#fields),*],
            uniques: &[#(#uniques),*],
            indexes: &[#(#indexes),*],
            fks: &[#(#fks),*],
            checks: &[#(#checks),*],
            id: #id,
        }
    }
}

fn constraint_name(prefix: &str, m: &Model, fields: &[usize]) -> String {
    let cols: Vec<_> = fields.iter().map(|&i| m.fields[i].column.clone()).collect();
    format!("{prefix}_{}_{}", m.table, cols.join("_"))
}

/// The parent-side name: `posts` for a one-to-many, `profile` for a one-to-one.
fn default_back(m: &Model, unique: bool) -> String {
    if unique {
        attrs::snake_case(&m.ident.to_string())
    } else {
        m.table.clone()
    }
}

fn handles(m: &Model) -> Tokens {
    let ident = &m.ident;
    let mut items = Vec::new();
    let mut fk_no = 0usize;
    for f in &m.fields {
        if f.fk.is_none() {
            continue;
        }
        let name = format_ident!("{}", f.ident.to_string().to_uppercase());
        let ty = &f.ty;
        let doc = format!(
            "The foreign key `{}.{}` as a typed relationship handle.",
            m.table, f.column
        );
        items.push(quote! {
            #[doc = #doc]
            pub const #name: ::relata::Fk<#ident, <#ty as ::relata::KeyColumn>::Target> = ::relata::Fk::__new(#fk_no);
        });
        fk_no += 1;
    }
    let names = handle_names(m);
    for (no, u) in m.uniques.iter().enumerate() {
        items.push(lookup_handle(
            m,
            quote!(Unique),
            "unique constraint",
            (no, names.uniques[no].as_str()),
            &u.fields,
            u.single,
        ));
    }
    for (no, x) in m.indexes.iter().enumerate() {
        let handle = (no, names.indexes[no].as_str());
        items.push(lookup_handle(
            m,
            quote!(Index),
            "index",
            handle,
            &x.fields,
            x.single,
        ));
    }
    quote! {
        #[allow(dead_code)]
        impl #ident { #( #items )* }
    }
}

/// The look-up handles' names, per unique constraint and per index (declaration order).
pub(crate) struct HandleNames {
    pub(crate) uniques: Vec<String>,
    pub(crate) indexes: Vec<String>,
}

/// `BY_<A>_<B>` for each unique constraint and index; an index over the same fields as a
/// unique constraint is `BY_<A>_<B>_INDEX`, so the two handles do not clash. Names that
/// still clash (a constraint declared twice) are rejected by `attrs::parse`.
pub(crate) fn handle_names(m: &Model) -> HandleNames {
    let by = |fields: &[usize]| {
        let upper: Vec<_> = fields
            .iter()
            .map(|&i| m.fields[i].ident.to_string().to_uppercase())
            .collect();
        format!("BY_{}", upper.join("_"))
    };
    let uniques: Vec<String> = m.uniques.iter().map(|u| by(&u.fields)).collect();
    let indexes = m
        .indexes
        .iter()
        .map(|x| match m.uniques.iter().any(|u| u.fields == x.fields) {
            true => format!("{}_INDEX", by(&x.fields)),
            false => by(&x.fields),
        })
        .collect();
    HandleNames { uniques, indexes }
}

fn lookup_handle(
    m: &Model,
    kind: Tokens,
    what: &str,
    (no, name): (usize, &str),
    fields: &[usize],
    single: bool,
) -> Tokens {
    let ident = &m.ident;
    let name = format_ident!("{}", name);
    let cols: Vec<_> = fields.iter().map(|&i| m.fields[i].column.clone()).collect();
    let doc = format!(
        "Look-up handle for the {what} on `{}({})`.",
        m.table,
        cols.join(", ")
    );
    let query = if single {
        let ty = &m.fields[fields[0]].ty;
        quote!(<#ty as ::relata::Column>::Query)
    } else {
        quote!(::relata::Composite)
    };
    quote! {
        #[doc = #doc]
        pub const #name: ::relata::#kind<#ident, #query> = ::relata::#kind::__new(#no);
    }
}

/// `max_len` and `unique(nocase)` apply to text columns only.
fn text_checks(m: &Model) -> Tokens {
    let mut out = Vec::new();
    for f in &m.fields {
        let ty = &f.ty;
        let is_text = quote!(::core::matches!(<#ty as ::relata::Column>::SQL_TYPE, ::relata::SqlType::Text));
        if let Some((_, span)) = f.max_len {
            let msg = lit(&format!(
                "relata: `max_len` on `{}.{}` needs a text field (String, Option<String>, or a type stored as text)",
                m.ident, f.ident
            ));
            out.push(quote_spanned_assert(span, is_text.clone(), msg));
        }
    }
    for u in &m.uniques {
        let Some(span) = u.nocase else { continue };
        for &i in &u.fields {
            let f = &m.fields[i];
            let ty = &f.ty;
            let msg = lit(&format!(
                "relata: `nocase` on `{}.{}` needs a text field (String, Option<String>, or a type stored as text)",
                m.ident, f.ident
            ));
            let is_text =
                quote!(::core::matches!(<#ty as ::relata::Column>::SQL_TYPE, ::relata::SqlType::Text));
            out.push(quote_spanned_assert(span, is_text, msg));
        }
    }
    quote!(#(#out)*)
}

/// An `Option` of an `Option` (however spelled: through an alias too) is refused: a column
/// has one NULL, so `Some(None)` could not be told from `None` in a record, a snapshot's
/// description, a JSON fixture or the DDL.
fn nested_null_checks(m: &Model) -> Tokens {
    let checks = m.fields.iter().map(|f| {
        let ty = &f.ty;
        let msg = lit(&format!(
            "relata: `{}.{}` is an `Option` of an `Option`: a column has one NULL, so `Some(None)` has no form apart from `None`; declare it `Option<T>`",
            m.ident, f.ident
        ));
        quote_spanned_assert(ty.span(), quote!(!<#ty as ::relata::Column>::NESTED_NULL), msg)
    });
    quote!(#(#checks)*)
}

/// Attribute misuse that only the type system can see becomes a compile-time assertion.
fn const_checks(m: &Model) -> Tokens {
    let text = text_checks(m);
    let nested = nested_null_checks(m);
    let checks = m.fields.iter().filter_map(|f| {
        let fk = f.fk.as_ref()?;
        let ty = &f.ty;
        let mut out = Vec::new();
        if fk.on_delete == OnDelete::SetNull {
            let msg = lit(&format!(
                "relata: `on_delete = \"set_null\"` on `{}.{}` needs an optional key: declare the field as `Option<Key<_>>`",
                m.ident, f.ident
            ));
            out.push(quote_spanned_assert(fk.span, quote!(<#ty as ::relata::Column>::NULLABLE), msg));
        }
        Some(quote!(#(#out)*))
    });
    quote!(#text #nested #(#checks)*)
}

fn quote_spanned_assert(span: proc_macro2::Span, cond: Tokens, msg: syn::LitStr) -> Tokens {
    quote::quote_spanned! {span=>
        const _: () = ::core::assert!(#cond, #msg);
    }
}
