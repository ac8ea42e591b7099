use chrono::{DateTime, Utc};
use relata::{Entity, Key};

#[derive(Entity, Clone, Debug, PartialEq)]
struct Parent {
    name: String,
}

#[derive(Entity, Clone, Debug, PartialEq)]
struct Both {
    #[relata(created_at, updated_at)]
    at: DateTime<Utc>,
}

#[derive(Entity, Clone, Debug, PartialEq)]
struct StampAndDefault {
    #[relata(updated_at, default = DateTime::UNIX_EPOCH)]
    at: DateTime<Utc>,
}

#[derive(Entity, Clone, Debug, PartialEq)]
struct DefaultKey {
    #[relata(default = Key::from_u64(1))]
    parent: Key<Parent>,
}

#[derive(Entity, Clone, Debug, PartialEq)]
struct WrongDefault {
    #[relata(default = "three")]
    rank: i32,
}

fn main() {}
