use relata::{Entity, Key};

#[derive(Entity, Clone, Debug, PartialEq)]
struct Folder { name: String }

// RESTRICT is never deferred in SQL: a deferrable restriction is NO ACTION.
#[derive(Entity, Clone, Debug, PartialEq)]
struct File {
    name: String,
    #[relata(on_delete = "restrict", deferrable)]
    folder: Key<Folder>,
}

fn main() {}
