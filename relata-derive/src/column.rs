//! `#[derive(Column)]`: an `AsColumn` impl for a newtype (stored as its one field) or a
//! field-less enum (stored as its variant names or its discriminants).

use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitStr};

use crate::attrs::snake_case;

pub(crate) fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "relata: `#[derive(Column)]` does not support generic types",
        ));
    }
    match &input.data {
        Data::Struct(s) => newtype(input, &s.fields),
        Data::Enum(e) => enumeration(input, e),
        Data::Union(_) => Err(syn::Error::new(
            input.ident.span(),
            "relata: `#[derive(Column)]` needs a newtype struct or a field-less enum",
        )),
    }
}

/// `struct Email(String)`: stored as its field, read as the field's borrowed form.
fn newtype(input: &DeriveInput, fields: &Fields) -> syn::Result<Tokens> {
    let ident = &input.ident;
    let only = match fields.iter().collect::<Vec<_>>().as_slice() {
        [f] => *f,
        _ => {
            return Err(syn::Error::new(
                ident.span(),
                "relata: `#[derive(Column)]` on a struct needs exactly one field (a newtype)",
            ))
        }
    };
    reject_attrs(&input.attrs, "a newtype takes no `#[relata(...)]` options")?;
    let inner = &only.ty;
    let (get, build) = match &only.ident {
        Some(name) => (quote!(self.#name), quote!(#ident { #name: repr })),
        None => (quote!(self.0), quote!(#ident(repr))),
    };
    Ok(quote! {
        impl ::relata::AsColumn for #ident {
            type Repr = #inner;
            type Ref<'a> = <#inner as ::relata::Column>::Ref<'a>;
            const SQL_TYPE: ::relata::SqlType = <#inner as ::relata::Column>::SQL_TYPE;
            fn into_repr(self) -> #inner {
                #get
            }
            fn from_repr(repr: #inner) -> Self {
                #build
            }
            fn view(repr: <#inner as ::relata::Column>::Ref<'_>) -> <#inner as ::relata::Column>::Ref<'_> {
                repr
            }
        }
    })
}

fn reject_attrs(attrs: &[syn::Attribute], why: &str) -> syn::Result<()> {
    match attrs.iter().find(|a| a.path().is_ident("relata")) {
        Some(a) => Err(syn::Error::new(a.span(), format!("relata: {why}"))),
        None => Ok(()),
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Stored {
    Text,
    Integer,
}

/// The enum's options: `text` (default) or `integer`, and `rename_all`.
fn enum_options(input: &DeriveInput) -> syn::Result<(Stored, Option<String>)> {
    let mut stored = Stored::Text;
    let mut rename_all = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("relata")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("text") {
                stored = Stored::Text;
            } else if meta.path.is_ident("integer") {
                stored = Stored::Integer;
            } else if meta.path.is_ident("rename_all") {
                let lit = meta.value()?.parse::<LitStr>()?;
                let rule = lit.value();
                if !["snake_case", "lowercase", "UPPERCASE", "SCREAMING_SNAKE_CASE"].contains(&rule.as_str()) {
                    return Err(syn::Error::new(
                        lit.span(),
                        "relata: `rename_all` is one of \"snake_case\", \"lowercase\", \"UPPERCASE\", \"SCREAMING_SNAKE_CASE\"",
                    ));
                }
                rename_all = Some(rule);
            } else {
                return Err(meta.error(
                    "relata: unknown enum option; expected `text`, `integer` or `rename_all = \"...\"`",
                ));
            }
            Ok(())
        })?;
    }
    Ok((stored, rename_all))
}

fn renamed(name: &str, rule: Option<&str>) -> String {
    match rule {
        Some("snake_case") => snake_case(name),
        Some("lowercase") => name.to_lowercase(),
        Some("UPPERCASE") => name.to_uppercase(),
        Some("SCREAMING_SNAKE_CASE") => snake_case(name).to_uppercase(),
        _ => name.to_owned(),
    }
}

/// Each variant's stored name: `#[relata(rename = "...")]`, else `rename_all`'s, else as written.
fn variant_names(e: &syn::DataEnum, rule: Option<&str>) -> syn::Result<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    for v in &e.variants {
        if !matches!(v.fields, Fields::Unit) {
            return Err(syn::Error::new(
                v.span(),
                "relata: `#[derive(Column)]` on an enum needs variants without fields",
            ));
        }
        let mut name = renamed(&v.ident.to_string(), rule);
        for attr in v.attrs.iter().filter(|a| a.path().is_ident("relata")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    name = meta.value()?.parse::<LitStr>()?.value();
                    Ok(())
                } else {
                    Err(meta.error("relata: expected `rename = \"...\"` on a variant"))
                }
            })?;
        }
        if names.contains(&name) {
            return Err(syn::Error::new(
                v.span(),
                format!("relata: two variants are stored as `{name}`"),
            ));
        }
        names.push(name);
    }
    Ok(names)
}

fn enumeration(input: &DeriveInput, e: &syn::DataEnum) -> syn::Result<Tokens> {
    let ident = &input.ident;
    let Some(first) = e.variants.first() else {
        return Err(syn::Error::new(
            ident.span(),
            "relata: a column enum needs at least one variant",
        ));
    };
    let first = &first.ident;
    let (stored, rule) = enum_options(input)?;
    let names = variant_names(e, rule.as_deref())?;
    let vs: Vec<_> = e.variants.iter().map(|v| &v.ident).collect();
    let body = match stored {
        Stored::Text => {
            let names: Vec<LitStr> = names
                .iter()
                .map(|n| LitStr::new(n, proc_macro2::Span::call_site()))
                .collect();
            quote! {
                type Repr = ::std::string::String;
                type Ref<'a> = #ident;
                const SQL_TYPE: ::relata::SqlType = ::relata::SqlType::Text;
                fn into_repr(self) -> ::std::string::String {
                    ::std::string::String::from(match self { #( #ident::#vs => #names, )* })
                }
                fn from_repr(repr: ::std::string::String) -> Self {
                    match repr.as_str() { #( #names => #ident::#vs, )* _ => #ident::#first }
                }
                fn view(repr: <::std::string::String as ::relata::Column>::Ref<'_>) -> <Self as ::relata::AsColumn>::Ref<'_> {
                    match repr.as_str() { #( #names => #ident::#vs, )* _ => #ident::#first }
                }
                fn accepts(repr: <::std::string::String as ::relata::Column>::Ref<'_>) -> bool {
                    matches!(repr.as_str(), #( #names )|*)
                }
            }
        }
        Stored::Integer => quote! {
            type Repr = i64;
            type Ref<'a> = #ident;
            const SQL_TYPE: ::relata::SqlType = ::relata::SqlType::Integer;
            fn into_repr(self) -> i64 {
                self as i64
            }
            fn from_repr(repr: i64) -> Self {
                <Self as ::relata::AsColumn>::view(repr)
            }
            fn view(repr: <i64 as ::relata::Column>::Ref<'_>) -> <Self as ::relata::AsColumn>::Ref<'_> {
                #( if repr == #ident::#vs as i64 { return #ident::#vs; } )*
                #ident::#first
            }
            fn accepts(repr: <i64 as ::relata::Column>::Ref<'_>) -> bool {
                #( repr == #ident::#vs as i64 )||*
            }
        },
    };
    // The stored form is a variant's name (a `&'static str`) or its discriminant, so a `Value`
    // borrows nothing: composite look-ups and bounds take `Kind::A.into()`.
    let value = match stored {
        Stored::Text => quote! { ::relata::Value::Text(match v { #( #ident::#vs => #names, )* }) },
        Stored::Integer => quote! { ::relata::Value::Int(v as i64) },
    };
    Ok(quote! {
        impl ::relata::AsColumn for #ident {
            #body
        }
        impl<'a> ::core::convert::From<#ident> for ::relata::Value<'a> {
            fn from(v: #ident) -> Self {
                #value
            }
        }
    })
}
