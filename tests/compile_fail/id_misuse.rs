use relata::{Entity, Key};

#[derive(Entity, Clone, Debug, PartialEq)]
struct Parent {
    #[relata(id)]
    id: i64,
}

#[derive(Entity, Clone, Debug, PartialEq)]
struct TwoIds {
    #[relata(id)]
    id: i64,
    #[relata(id)]
    other: i64,
}

#[derive(Entity, Clone, Debug, PartialEq)]
struct IdOnKey {
    #[relata(id)]
    parent: Key<Parent>,
}

#[derive(Entity, Clone, Debug, PartialEq)]
struct IdWithDefault {
    #[relata(id, default = 7)]
    id: i64,
}

#[derive(Entity, Clone, Debug, PartialEq)]
struct IdAndUnique {
    #[relata(id, unique)]
    id: i64,
}

#[derive(Entity, Clone, Debug, PartialEq)]
struct PlainIdColumn {
    id: String,
}

#[derive(Entity, Clone, Debug, PartialEq)]
struct UuidId {
    #[relata(unique)]
    id: uuid::Uuid,
}

#[derive(Entity, Clone, Debug, PartialEq)]
struct IdElsewhere {
    #[relata(id)]
    article_id: i64,
    #[relata(column = "id")]
    code: String,
}

fn main() {}
