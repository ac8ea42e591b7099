// Everything else `#[derive(Entity)]` rejects, one entity per mistake.
use relata::{Entity, Key};

#[derive(Entity, Clone, Debug, PartialEq)]
struct User { name: String }

#[derive(Entity, Clone, Debug, PartialEq)]
struct Generic<T> { value: T }

#[derive(Entity, Clone, Debug, PartialEq)]
struct Tuple(String);

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(table = "")]
struct NoTable { name: String }

#[derive(Entity, Clone, Debug, PartialEq)]
struct DeferredText {
    #[relata(deferrable)]
    name: String,
}

#[derive(Entity, Clone, Debug, PartialEq)]
struct BadOrder {
    #[relata(order_by = "rank")]
    author: Key<User>,
}

#[derive(Entity, Clone, Debug, PartialEq)]
struct OrderedOneToOne {
    #[relata(unique, order_by = "position")]
    author: Key<User>,
    position: i32,
}

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(unique(a, a))]
struct Twice { a: String }

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(check(name = "ck_x"))]
struct CheckWithoutPredicate { a: String }

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(view = "x")]
struct UnknownStructOption { a: String }

#[derive(Entity, Clone, Debug, PartialEq)]
#[relata(unique(day, hour), unique(day, hour))]
struct DeclaredTwice { day: u8, hour: u8 }

fn main() {}
