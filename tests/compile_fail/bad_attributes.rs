use relata::{Entity, Key};

#[derive(Entity, Clone, Debug, PartialEq)]
struct User { name: String }

#[derive(Entity, Clone, Debug, PartialEq)]
struct Post {
    #[relata(uniq)]
    title: String,
    author: Key<User>,
}

#[derive(Entity, Clone, Debug, PartialEq)]
struct Comment {
    #[relata(on_delete = "explode")]
    author: Key<User>,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(unique(nope))]
struct Like {
    author: Key<User>,
}

fn main() {}
