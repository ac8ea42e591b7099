use relata::{Entity, Key};

#[derive(Entity, Clone, Debug, PartialEq)]
struct User { name: String }

#[derive(Entity, Clone, Debug, PartialEq)]
struct Post {
    title: String,
    #[relata(on_delete = "set_null")]
    author: Key<User>,
}

fn main() {}
